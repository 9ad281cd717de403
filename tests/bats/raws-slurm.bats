#!/usr/bin/env bats
# bin/raws YEAR with SCHEDULER=slurm: the exact sbatch command lines (recording double),
# what is resubmitted, the failure report, the refusals. The real cluster: tests/e2e/test_slurm.py.

load helpers

setup() {
  common_setup
  use_empty_repo
  T=$BATS_TEST_TMPDIR
  mkdir -p "$T/bin"
  for d in sbatch squeue scontrol sinfo; do ln -sf "$ROOT/tests/doubles/$d-double" "$T/bin/$d"; done
  export PATH="$T/bin:$PATH" DOUBLE_ARGV_LOG="$T/argv.log"
  : >"$DOUBLE_ARGV_LOG"
  # 5 visits in y1-wfd: 3 chunks of 2.
  for v in 00001473 00001474 00001475 00001476; do
    mkdir -p "$DP02_TOP/raw/y1-wfd/$v"
    touch "$DP02_TOP/raw/y1-wfd/$v/lsst_a_${v}_R22_S11_r.fits"
  done
  export SCHEDULER=slurm CHUNK_VISITS=2 WAIT=no
  export REGISTRY_DB=postgresql+psycopg2://dp02@db.example.org:5432/dp02
  SDIR="$STATE/slurm/raws-y1-wfd"
}


sbatch_lines() { grep '^sbatch ' "$DOUBLE_ARGV_LOG" || true; }

@test "raws slurm: one array per year, the exact sbatch line, chunk files, no stamp (WAIT=no)" {
  run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  [ "$(sbatch_lines)" = "sbatch --parsable --array=0,1,2 --job-name=dp02-raws-y1-wfd --export=ALL --output=$STATE/logs/raws/y1-wfd-%4a.out --cpus-per-task=4 --time=01:00:00 --mem=4G $SDIR/job.sh" ]
  [ "$(cat "$SDIR/chunks/y1-wfd-0000.txt")" = "$(printf '%s\n' "$DP02_TOP/raw/y1-wfd/00001472" "$DP02_TOP/raw/y1-wfd/00001473")" ]
  [ "$(wc -l <"$SDIR/chunks/y1-wfd-0002.txt")" -eq 1 ]
  [ "$(cat "$SDIR/jobs")" = "4242 0,1,2" ]
  [[ "$output" == *"submitted Slurm job array 4242 (chunks 0,1,2 of 2 visits"* ]]
  [[ "$output" == *"not waiting (WAIT=no)"* ]]
  [ ! -e "$STATE/stamps/raws-y1-wfd.done" ]
  grep -q "^# step raws-y1-wfd submitted" "$STATE/logs/raws-y1-wfd.log"
  # The job script runs bin/raws on the task's chunk; submit.sh is the command line again.
  grep -q -- "bin/raws --chunk \"\$dir/chunks/\$chunk.txt\" y1-wfd" "$SDIR/job.sh"
  bash -n "$SDIR/job.sh"
  # shellcheck disable=SC2016 # the literal text of submit.sh
  grep -q '^job=$(sbatch --parsable --array="$array" --job-name=dp02-raws-y1-wfd' "$SDIR/submit.sh"
  # make status (bin/status) shows the array: squeue (the double) no longer has the tasks
  # and there are no results, so they ended without one: failed.
  run "$ROOT/bin/status"
  [[ "$output" == *"raws-y1-wfd"*"submitted"* ]]
  [[ "$output" == *"slurm raws-y1-wfd: job 4242 0 pending, 0 running, 0 done, 3 failed (3 chunks"* ]]
}

@test "raws slurm: SLURM_PARTITION, SLURM_ACCOUNT, SLURM_CPUS and SLURM_EXTRA, split on blanks only" {
  export SLURM_PARTITION=debug SLURM_ACCOUNT=rubin SLURM_CPUS=8 SLURM_TIME='' SLURM_MEM=16G
  # shellcheck disable=SC2016 # a setting that must not be expanded, by us or by bin/raws
  SLURM_EXTRA='--qos=normal  --comment=$(touch pwned) *' run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  [ "$(sbatch_lines)" = "sbatch --parsable --array=0,1,2 --job-name=dp02-raws-y1-wfd --export=ALL --output=$STATE/logs/raws/y1-wfd-%4a.out --cpus-per-task=8 --partition=debug --account=rubin --mem=16G --qos=normal --comment=\\\$\\(touch pwned\\) \\* $SDIR/job.sh" ]
  [ ! -e pwned ]
}

@test "raws slurm: a rerun resubmits only the chunks neither queued nor running" {
  run -0 "$ROOT/bin/raws" y1-wfd
  printf '4242_0 RUNNING\n4242_1 PENDING\n' >"$T/queue"
  : >"$DOUBLE_ARGV_LOG"
  SQUEUE_DOUBLE_OUTPUT="$T/queue" SBATCH_DOUBLE_JOB=4243 run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  [ "$(sbatch_lines)" = "sbatch --parsable --array=2 --job-name=dp02-raws-y1-wfd --export=ALL --output=$STATE/logs/raws/y1-wfd-%4a.out --cpus-per-task=4 --time=01:00:00 --mem=4G $SDIR/job.sh" ]
  [ "$(cat "$SDIR/jobs")" = "$(printf '4242 0,1,2\n4243 2')" ]
}

@test "raws slurm: a failed task names its chunk, log and last error lines; no stamp" {
  mkdir -p "$STATE/logs/raws"
  printf 'line 1\nRuntimeError: Some failures encountered during ingestion\n' >"$STATE/logs/raws/y1-wfd-0001.log"
  WAIT=yes DP02_SLURM_POLL=0 run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 6 ]
  [[ "$output" == *"chunk y1-wfd-0001 (2 visits, $SDIR/chunks/y1-wfd-0001.txt) failed: task 4242_1 ended without a result"* ]]
  [[ "$output" == *"log $STATE/logs/raws/y1-wfd-0001.log, last lines:"*"RuntimeError: Some failures"* ]]
  [[ "$output" == *"3 Slurm task(s) of y1-wfd failed"* ]]
  [ ! -e "$STATE/stamps/raws-y1-wfd.done" ]
}

@test "raws slurm: refusals before anything is submitted, no stamp" {
  REGISTRY_DB='' run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 2 ]
  [[ "$output" == *"SCHEDULER=slurm needs a PostgreSQL registry"*"Set REGISTRY_DB="* ]]
  CHUNK_VISITS=0 run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 2 ]
  [[ "$output" == *"CHUNK_VISITS=0 is not a positive whole number"* ]]
  SLURM_PARTITION=nosuch run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 2 ]
  [[ "$output" == *"SLURM_PARTITION=nosuch is not a partition"*"Partitions here: debug"* ]]
  WAIT=maybe run "$ROOT/bin/raws" y1-wfd
  [[ "$output" == *"WAIT=maybe is neither yes nor no"* ]]
  SCHEDULER=pbs run "$ROOT/bin/raws" y1-wfd
  [[ "$output" == *"SCHEDULER=pbs is not a scheduler"* ]]
  RUNTIME=container run "$ROOT/bin/raws" y1-wfd
  [[ "$output" == *"RUNTIME=container runs make itself in the container, where there is no sbatch"*"Use REPO_CONTAINER=yes instead"* ]]
  [ -z "$(sbatch_lines)" ]
  [ ! -e "$STATE/slurm" ]
  assert_no_trace_of_step raws-y1-wfd
}

@test "raws slurm: DRY_RUN prints the sbatch options and submits nothing" {
  DRY_RUN=1 run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  [ "$output" = "sbatch --parsable --array=<chunks of 2 missing visits of y1-wfd> --job-name=dp02-raws-y1-wfd --export=ALL --output=$STATE/logs/raws/y1-wfd-%4a.out --cpus-per-task=4 --time=01:00:00 --mem=4G $SDIR/job.sh" ]
  [ -z "$(sbatch_lines)" ]
  [ ! -e "$STATE" ]
}

@test "raws slurm: a chunk whose visits the registry no longer misses is done, whatever its last task said" {
  run -0 "$ROOT/bin/raws" y1-wfd
  printf 'exit 1 job 4242_2\n' >"$SDIR/results/y1-wfd-0002.failed"
  # The visit of chunk 2 is no longer missing (here: gone from the tree).
  rm -r "$DP02_TOP/raw/y1-wfd/00001476"
  : >"$DOUBLE_ARGV_LOG"
  SBATCH_DOUBLE_JOB=4243 run -0 "$ROOT/bin/raws" y1-wfd
  [[ "$(sbatch_lines)" == "sbatch --parsable --array=0,1 "* ]]
  [ ! -e "$SDIR/results/y1-wfd-0002.failed" ]
  grep -q "^result: already done (the registry has every visit of y1-wfd-0002; last task 4242_2: failed)" "$SDIR/results/y1-wfd-0002.done"
}

@test "raws slurm: progress is one refreshed line on a terminal, plain lines otherwise" {
  export WAIT=yes DP02_SLURM_POLL=0
  run "$ROOT/bin/raws" y1-wfd
  [[ "$output" == *$'\n'"raws-y1-wfd: 0 pending, 0 running, 0 done, 3 failed"$'\n'* ]]
  rm -r "$STATE"
  # script(1) gives the step a terminal.
  run script -qec "$ROOT/bin/raws y1-wfd" /dev/null
  [[ "$output" == *$'\r\e[K'"raws-y1-wfd: 0 pending, 0 running, 0 done, 3 failed"* ]]
}
