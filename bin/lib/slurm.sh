# shellcheck shell=bash
# slurm.sh: the raw ingest as Slurm job arrays (SCHEDULER=slurm), sourced after dp02.sh by
# bin/raws and bin/status.
#
# Per year, STATE_DIR/slurm/raws-YEAR/ holds:
#   chunks/YEAR-NNNN.txt  the visit directories of array index NNNN, one per line
#   job.sh                the array job: bin/raws --chunk chunks/YEAR-$SLURM_ARRAY_TASK_ID.txt
#   submit.sh [ARRAY]     the sbatch command line; also appends "JOBID ARRAY" to jobs
#   jobs                  every submission, oldest first (the last one naming a chunk wins)
#   results/YEAR-NNNN.done    the task's stamp (written by bin/raws --chunk when it succeeded)
#   results/YEAR-NNNN.failed  "exit N job J_I" (written by job.sh when bin/raws failed)
# and STATE_DIR/logs/raws/YEAR-NNNN.log is the task's step log (its butler output), with
# YEAR-NNNN.out beside it (the job's own stdout and stderr).
# Task states come from squeue (pending, running) and the result files (done, failed); a
# task that left the queue without a result (scancel, time limit, node failure) failed.
# `scontrol show job` adds its Slurm state to a failure report while Slurm remembers the
# job (MinJobAge). No sacct: that needs slurmdbd, which this does not assume.

slurm_dir() { printf '%s/slurm/raws-%s' "$STATE_DIR" "$1"; }

slurm_validate() {
  # Everything that can be checked before anything is submitted; one paragraph each.
  if dp02_is_sqlite; then
    dp02_die "SCHEDULER=slurm needs a PostgreSQL registry, and REGISTRY_DB is empty (SQLite). The array tasks of a year write to the registry at the same time, from several nodes; SQLite takes one writer at a time and its file locks do not work across the shared file systems of a cluster, so tasks would time out or corrupt the registry. Set REGISTRY_DB=postgresql+psycopg2://USER@HOST:PORT/DATABASE (password in a db-auth file, see README 'PostgreSQL registries and credentials') before 'make create', or use SCHEDULER=local."
  fi
  [[ "$CHUNK_VISITS" =~ ^[1-9][0-9]*$ ]] || dp02_die "CHUNK_VISITS=$CHUNK_VISITS is not a positive whole number. It is the number of visit directories each Slurm array task ingests: set it to 1 or more (default 100, README 'Running on a Slurm cluster')."
  [[ "$SLURM_CPUS" =~ ^[1-9][0-9]*$ ]] || dp02_die "SLURM_CPUS=$SLURM_CPUS is not a positive whole number. It is each task's --cpus-per-task and ingest-raws -j: set it to 1 or more."
  case "$WAIT" in yes | no) ;; *) dp02_die "WAIT=$WAIT is neither yes nor no. yes: make raws waits for the Slurm arrays; no: it submits them and returns." ;; esac
  [[ "$RUNTIME" != container ]] || dp02_die "RUNTIME=container runs make itself in the container, where there is no sbatch, so SCHEDULER=slurm cannot submit from there. Use REPO_CONTAINER=yes instead: make and sbatch run on the login node (with daf_butler for the registry checks: make install), and each task runs its ingest-raws in the container (README 'Running on a Slurm cluster'). Or set up the stack on the login and compute nodes and use RUNTIME=host."
  local cmd
  for cmd in sbatch squeue scontrol; do
    command -v "$cmd" >/dev/null 2>&1 || dp02_die "SCHEDULER=slurm, but the Slurm command $cmd is not on PATH. Run make on a Slurm login node (or 'module load slurm' first), or set SCHEDULER=local."
  done
  if [[ -n "$SLURM_PARTITION" ]] && ! scontrol show partition "$SLURM_PARTITION" >/dev/null 2>&1; then
    local known
    known=$(sinfo -h -o %R 2>/dev/null | sort -u | tr '\n' ' ')
    dp02_die "SLURM_PARTITION=$SLURM_PARTITION is not a partition of this Slurm cluster (scontrol show partition $SLURM_PARTITION fails). Partitions here: ${known:-none found (sinfo)}. Set SLURM_PARTITION to one of them, or leave it empty for the cluster's default."
  fi
  return 0
}

_slurm_sbatch_options() {
  # The sbatch options of a year's array (besides --parsable and --array), one per line.
  local year=$1 extra=()
  printf '%s\n' "--job-name=dp02-raws-$year" "--export=ALL" \
    "--output=$DP02_LOGS/raws/$year-%4a.out" "--cpus-per-task=$SLURM_CPUS"
  [[ -z "$SLURM_PARTITION" ]] || printf '%s\n' "--partition=$SLURM_PARTITION"
  [[ -z "$SLURM_ACCOUNT" ]] || printf '%s\n' "--account=$SLURM_ACCOUNT"
  [[ -z "$SLURM_TIME" ]] || printf '%s\n' "--time=$SLURM_TIME"
  [[ -z "$SLURM_MEM" ]] || printf '%s\n' "--mem=$SLURM_MEM"
  # Split on blanks only: no quotes, no globbing, no command substitution.
  read -ra extra <<<"$SLURM_EXTRA"
  [[ ${#extra[@]} -eq 0 ]] || printf '%s\n' "${extra[@]}"
}

slurm_write_scripts() {
  # Write job.sh and submit.sh of a year (again at each submission: settings may change).
  local year=$1 dir opts=() o line nchunks
  dir=$(slurm_dir "$year")
  mapfile -t opts < <(_slurm_sbatch_options "$year")
  nchunks=$(find "$dir/chunks" -name "$year-*.txt" | wc -l)
  cat >"$dir/job.sh.tmp" <<EOF
#!/usr/bin/env bash
# Slurm array job of dp02-repo: ingest the raws of $year, one chunk of visit directories
# per array task: chunks/$year-NNNN.txt, NNNN the array index. Written by bin/raws
# (SCHEDULER=slurm); submit.sh beside it submits it. The settings come with the job's
# environment (sbatch --export=ALL). Log of task NNNN: $DP02_LOGS/raws/$year-NNNN.log
set -uo pipefail
chunk=\$(printf '$year-%04d' "\${SLURM_ARRAY_TASK_ID:?submit this with sbatch --array}")
dir=$(printf '%q' "$dir")
rm -f "\$dir/results/\$chunk.failed"
# ingest-raws -j: the CPUs Slurm gave the task.
export JOBS=\${SLURM_CPUS_PER_TASK:-\${JOBS:-1}}
status=0
$(printf '%q' "$DP02_HOME/bin/raws") --chunk "\$dir/chunks/\$chunk.txt" $year || status=\$?
if [ "\$status" -ne 0 ]; then
  printf 'exit %s job %s_%s\n' "\$status" "\$SLURM_ARRAY_JOB_ID" "\$SLURM_ARRAY_TASK_ID" >"\$dir/results/\$chunk.failed"
fi
exit "\$status"
EOF
  line="sbatch --parsable --array=\"\$array\""
  for o in "${opts[@]}"; do line+=" $(printf '%q' "$o")"; done
  line+=" $(printf '%q' "$dir/job.sh")"
  cat >"$dir/submit.sh.tmp" <<EOF
#!/usr/bin/env bash
# Submit the raw ingest of $year as a Slurm job array: submit.sh [ARRAY]
# ARRAY: the chunk indexes, as sbatch --array takes them (e.g. 3 or 0-4,7); default every
# chunk, 0-$((nchunks - 1)). Prints the job id and appends "JOBID ARRAY" to jobs, where
# make raws and make status find it. Written by bin/raws (SCHEDULER=slurm).
set -euo pipefail
array=\${1:-0-$((nchunks - 1))}
job=\$($line)
printf '%s %s\\n' "\${job%%;*}" "\$array" >>$(printf '%q' "$dir/jobs")
printf '%s\\n' "\${job%%;*}"
EOF
  chmod +x "$dir/job.sh.tmp" "$dir/submit.sh.tmp"
  mv -f "$dir/job.sh.tmp" "$dir/job.sh"
  mv -f "$dir/submit.sh.tmp" "$dir/submit.sh"
}

slurm_chunks() {
  # The chunk names of a year (YEAR-NNNN), in order.
  local dir
  dir=$(slurm_dir "$1")
  [[ -d "$dir/chunks" ]] || return 0
  find "$dir/chunks" -name "$1-*.txt" -printf '%f\n' | sed 's/\.txt$//' | sort
}

_slurm_expand_array() {
  # 0-2,5 -> 0 1 2 5 (one per line); a %N throttle suffix is ignored.
  local spec=${1%%%*} part
  local -a parts
  IFS=, read -ra parts <<<"$spec"
  for part in "${parts[@]}"; do
    if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
      seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    elif [[ "$part" =~ ^[0-9]+$ ]]; then
      printf '%s\n' "$part"
    fi
  done
}

slurm_task_jobs() {
  # "INDEX JOBID" for every chunk ever submitted: its latest submission.
  local dir job array i
  dir=$(slurm_dir "$1")
  [[ -f "$dir/jobs" ]] || return 0
  declare -A last=()
  while read -r job array; do
    [[ -n "$job" ]] || continue
    while IFS= read -r i; do last[$i]=$job; done < <(_slurm_expand_array "$array")
  done <"$dir/jobs"
  for i in "${!last[@]}"; do printf '%s %s\n' "$i" "${last[$i]}"; done | sort -n
}

slurm_states() {
  # "CHUNK STATE JOB_INDEX" per chunk of a year; STATE is pending, running, done, failed
  # or new (never submitted). squeue is asked first, then the result files, so that a task
  # ending in between is seen done, never lost.
  local year=$1 dir queue chunk i job state
  dir=$(slurm_dir "$year")
  queue=$(squeue -h -r -o '%F_%K %T' 2>/dev/null) || queue=
  declare -A jobof=() inq=()
  while read -r i job; do jobof[$i]=$job; done < <(slurm_task_jobs "$year")
  while read -r job state; do [[ -n "$job" ]] && inq[$job]=$state; done <<<"$queue"
  while IFS= read -r chunk; do
    i=$((10#${chunk##*-}))
    job=${jobof[$i]:-}
    if [[ -f "$dir/results/$chunk.done" ]]; then
      state='done'
    elif [[ -f "$dir/results/$chunk.failed" ]]; then
      state=failed
    elif [[ -z "$job" ]]; then
      state=new
    else
      case "${inq[${job}_$i]:-}" in
        "") state=failed ;;
        PENDING | REQUEUED | REQUEUE_HOLD | REQUEUE_FED | RESV_DEL_HOLD) state=pending ;;
        *) state=running ;;
      esac
    fi
    printf '%s %s %s\n' "$chunk" "$state" "${job:+${job}_$i}"
  done < <(slurm_chunks "$year")
}

slurm_count() {
  # "P pending, R running, D done, F failed" of a states listing on stdin.
  awk '{n[$2]++} END {printf "%d pending, %d running, %d done, %d failed", n["pending"], n["running"], n["done"], n["failed"]}'
}

slurm_failure_report() {
  # The failed task of a chunk: its job, Slurm state, log and last lines of its error.
  local year=$1 chunk=$2 task=$3 dir log sstate="" why nvis
  dir=$(slurm_dir "$year")
  log="$DP02_LOGS/raws/$chunk.log"
  nvis=$(wc -l <"$dir/chunks/$chunk.txt")
  if [[ -n "$task" ]]; then
    sstate=$(scontrol show job "$task" 2>/dev/null | grep -oE 'JobState=[A-Z_]+|ExitCode=[0-9:]+' | tr '\n' ' ')
  fi
  if [[ -f "$dir/results/$chunk.failed" ]]; then
    why="bin/raws $(cat "$dir/results/$chunk.failed")"
  else
    why="ended without a result (cancelled, time limit or node failure)"
  fi
  printf 'chunk %s (%s visits, %s) failed: task %s %s%s\n' "$chunk" "$nvis" \
    "$dir/chunks/$chunk.txt" "${task:-?}" "$why" "${sstate:+ [${sstate% }]}"
  if [[ -s "$log" ]]; then
    printf '  log %s, last lines:\n' "$log"
    tail -n 6 "$log" | sed 's/^/    /'
  fi
  if [[ -s "${log%.log}.out" ]]; then
    printf '  job output %s, last lines:\n' "${log%.log}.out"
    tail -n 4 "${log%.log}.out" | sed 's/^/    /'
  fi
}

slurm_make_chunks() {
  # Split the visit directories of file $2 (one per line) into new chunks of CHUNK_VISITS,
  # numbered after the year's existing chunks. Prints the new chunk indexes.
  local year=$1 list=$2 dir next last
  dir=$(slurm_dir "$year")
  mkdir -p "$dir/chunks"
  last=$(slurm_chunks "$year" | tail -n 1)
  next=0
  [[ -z "$last" ]] || next=$((10#${last##*-} + 1))
  awk -v n="$CHUNK_VISITS" -v dir="$dir/chunks" -v year="$year" -v start="$next" '
    { k = start + int((NR - 1) / n); f = sprintf("%s/%s-%04d.txt", dir, year, k); print > f }
    (NR - 1) % n == 0 { print k }' "$list"
}

slurm_submit() {
  # Submit the chunks of a year whose visits are missing (file $2) and that were neither
  # pending nor running in $3, the chunk states (slurm_states) taken BEFORE the registry
  # check that wrote $2: a task that ends between the two is then still seen queued, never
  # done-but-missing, so it is not submitted twice. New chunks for missing visits in no
  # chunk. Sets DP02_SLURM_SUBMITTED (the array spec, empty when nothing was submitted)
  # and DP02_SLURM_JOB.
  local year=$1 missing=$2 before=$3 dir chunk state task uncovered idx=() all
  dir=$(slurm_dir "$year")
  mkdir -p "$dir/results" "$DP02_LOGS/raws"
  DP02_SLURM_SUBMITTED='' DP02_SLURM_JOB=''
  all=$(mktemp)
  cat "$dir"/chunks/"$year"-*.txt >"$all" 2>/dev/null || true
  uncovered=$(mktemp)
  grep -Fvxf "$all" "$missing" >"$uncovered" || true
  if [[ -s "$uncovered" ]]; then
    mapfile -t idx < <(slurm_make_chunks "$year" "$uncovered")
  fi
  rm -f "$all" "$uncovered"
  while read -r chunk state task; do
    [[ -n "$chunk" ]] || continue
    case "$state" in pending | running) continue ;; esac
    if ! grep -qFxf "$dir/chunks/$chunk.txt" "$missing"; then
      # The registry has every visit of the chunk: whatever its last task said, it is done
      # (so that an old failure does not fail this round).
      if [[ "$state" != "done" ]]; then
        printf 'result: already done (the registry has every visit of %s; last task %s: %s)\n' \
          "$chunk" "${task:-none}" "$state" >"$dir/results/$chunk.done"
        rm -f "$dir/results/$chunk.failed"
      fi
      continue
    fi
    local i=$((10#${chunk##*-}))
    [[ " ${idx[*]-} " == *" $i "* ]] || idx+=("$i")
  done <<<"$before"
  [[ ${#idx[@]} -gt 0 ]] || return 0
  mapfile -t idx < <(printf '%s\n' "${idx[@]}" | sort -n)
  DP02_SLURM_SUBMITTED=$(IFS=,; printf '%s' "${idx[*]}")
  for i in "${idx[@]}"; do
    rm -f "$dir/results/$(printf '%s-%04d' "$year" "$i")".{done,failed}
  done
  slurm_write_scripts "$year"
  DP02_STEP_COMMANDS+=("$dir/submit.sh $DP02_SLURM_SUBMITTED")
  printf '$ %s %s\n' "$dir/submit.sh" "$DP02_SLURM_SUBMITTED" >>"$DP02_STEP_LOG"
  DP02_SLURM_JOB=$("$dir/submit.sh" "$DP02_SLURM_SUBMITTED" 2>>"$DP02_STEP_LOG") ||
    dp02_die "sbatch refused the array of $year (chunks $DP02_SLURM_SUBMITTED): $(tail -n 3 "$DP02_STEP_LOG" | tr '\n' ' ')See $DP02_STEP_LOG; the job script is $dir/job.sh."
  printf 'submitted job %s, array %s\n' "$DP02_SLURM_JOB" "$DP02_SLURM_SUBMITTED" >>"$DP02_STEP_LOG"
}

slurm_wait() {
  # Wait until no chunk of the year is pending or running, showing the counts (refreshed on
  # one line on a terminal, a new line at each change otherwise). Polls every
  # DP02_SLURM_POLL seconds (default 10).
  local year=$1 states counts shown="" tty=
  [[ -t 2 ]] && tty=1
  while :; do
    states=$(slurm_states "$year" | awk '$2 != "new"')
    counts=$(slurm_count <<<"$states")
    if [[ "$counts" != "$shown" ]]; then
      if [[ -n "$tty" ]]; then printf '\r\033[K%s' "raws-$year: $counts" >&2; else dp02_log "raws-$year: $counts"; fi
      printf '# %s %s\n' "$(dp02_now)" "$counts" >>"$DP02_STEP_LOG"
      shown=$counts
    fi
    awk '$2 == "pending" || $2 == "running" {found = 1} END {exit !found}' <<<"$states" || break
    sleep "${DP02_SLURM_POLL:-10}"
  done
  [[ -z "$tty" ]] || printf '\n' >&2
  # shellcheck disable=SC2034 # read by bin/raws
  DP02_SLURM_STATES=$states
}
