#!/usr/bin/env bats
# The Makefile: step order, reset, status, help.

load helpers

setup() {
  common_setup
  export MAKE="make -C $ROOT VENV=/nonexistent RUNTIME=host"
}

@test "make: help lists the targets" {
  run $MAKE help
  [ "$status" -eq 0 ]
  for t in install test lint repo status reset mini-inputs db-check demo bench; do
    [[ "$output" == *"  $t "* ]]
  done
  # The ##@ comments of the Makefile head its sections, in their order.
  sections=$(grep '^##@ ' "$ROOT/Makefile" | cut -c5-)
  [ -n "$sections" ]
  [ "$(printf '%s\n' "$output" | grep -Fx -f <(printf '%s\n' "$sections"))" = "$sections" ]
}

@test "make -n repo lists the steps in the published order" {
  run $MAKE -n repo
  [ "$status" -eq 0 ]
  steps=$(printf '%s\n' "$output" | grep '^bin/' | grep -v '^bin/mini-inputs' | grep -v '^bin/report' | sed 's#^bin/##; s#^raws #raws-#')
  [ "$steps" = "$("$ROOT/bin/config" steps)" ]
  [ "$(printf '%s\n' "$steps" | tr '\n' ' ')" = "check-inputs create register-instrument import-calibs curated-calibs register-skymap refcat-table refcats raws-y1-wfd raws-y2-wfd visits truth-summary chain verify " ]
  [ ! -e "$STATE" ]
}

@test "make -n repo makes the miniature tree first only when DP02_TOP is MINI_DIR" {
  MINI_DIR="$DP02_TOP" run $MAKE -n repo
  [ "$(printf "%s\n" "$output" | grep "^bin/" | head -n 1)" = "bin/mini-inputs" ]
  run $MAKE -n repo
  [[ "$output" != *bin/mini-inputs* ]]
}

@test "make reset STEP=refcats removes exactly refcats and the later stamps" {
  mkdir -p "$STATE/stamps"
  for s in $("$ROOT/bin/config" steps); do echo "step: $s" >"$STATE/stamps/$s.done"; done
  run $MAKE reset STEP=refcats
  [ "$status" -eq 0 ]
  [ "$(find "$STATE/stamps" -type f -printf '%f\n' | sort | tr '\n' ' ')" = "check-inputs.done create.done curated-calibs.done import-calibs.done refcat-table.done register-instrument.done register-skymap.done " ]
}

@test "make reset STEP=raws removes every year; a bad STEP is named" {
  mkdir -p "$STATE/stamps"
  for s in $("$ROOT/bin/config" steps); do echo "step: $s" >"$STATE/stamps/$s.done"; done
  run $MAKE reset STEP=raws
  [ "$status" -eq 0 ]
  [ ! -e "$STATE/stamps/raws-y1-wfd.done" ]
  [ -e "$STATE/stamps/refcats.done" ]
  run $MAKE reset STEP=nonsense
  [ "$status" -ne 0 ]
  [[ "$output" == *"STEP=nonsense is not a step"* ]]
  run $MAKE reset
  [ "$status" -ne 0 ]
  [[ "$output" == *"no STEP given"* ]]
}

@test "make status: done, failed and pending rows" {
  use_empty_repo
  "$ROOT/bin/create" 2>/dev/null
  BUTLER_DOUBLE_FAIL=register-instrument run "$ROOT/bin/register-instrument"
  run $MAKE status
  [ "$status" -eq 0 ]
  [[ "$output" == *"create "*"done"* ]]
  [[ "$output" == *"register-instrument "*"failed"* ]]
  [[ "$output" == *"import-calibs "*"pending"* ]]
}

@test "make status: Ctrl-C is interrupted, a reset step is pending, stamps readable by all" {
  use_empty_repo
  "$ROOT/bin/create" 2>/dev/null
  [ "$(stat -c %a "$STATE/stamps/create.done")" = 644 ]
  # Ctrl-C: SIGINT to the step's whole process group, as a terminal sends it (setsid: a
  # group of its own, not the test's).
  mkdir -p ctrl-c
  cat >ctrl-c/butler <<'SH'
#!/bin/sh
[ "$*" = --help ] && printf 'Commands:\n  register-instrument\n' && exit 0
kill -INT 0
exit 130
SH
  chmod +x ctrl-c/butler
  PATH="$PWD/ctrl-c:$PATH" run -130 setsid "$ROOT/bin/register-instrument"
  [[ "$output" == *"register-instrument ... INTERRUPTED (exit 130)"* ]]
  grep -q '^# step register-instrument INTERRUPTED (exit 130) ' "$STATE/logs/register-instrument.log"
  run -0 "$ROOT/bin/reset" create
  run $MAKE status
  [ "$status" -eq 0 ]
  [[ "$output" == *"create "*"pending"* ]]
  [[ "$output" == *"register-instrument "*"interrupted"* ]]
  [[ "$output" == *"import-calibs "*"pending"* ]]
}

@test "make <step> runs nothing when its stamp exists" {
  mkdir -p "$STATE/stamps"
  for s in $("$ROOT/bin/config" steps); do echo "step: $s" >"$STATE/stamps/$s.done"; done
  run $MAKE repo
  [ "$status" -eq 0 ]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  run $MAKE -n refcats
  [[ "$output" != *bin/refcats* ]]
}

@test "make: settings come from ENV_FILE, the environment wins over it" {
  printf 'REPO=%s\nRAW_YEARS=y1-wfd\n' "$BATS_TEST_TMPDIR/from-env-file" >"$ENV_FILE"
  unset REPO
  unset RAW_YEARS
  run $MAKE -n repo
  [[ "$output" == *"bin/raws y1-wfd"* && "$output" != *"y2-wfd"* ]]
  run "$ROOT/bin/config" get REPO
  [ "$output" = "$BATS_TEST_TMPDIR/from-env-file" ]
  REPO=/elsewhere run "$ROOT/bin/config" get REPO
  [ "$output" = "/elsewhere" ]
  run "$ROOT/bin/config" get STATE_DIR
  [ "$output" = "$BATS_TEST_TMPDIR/from-env-file-state" ]
}

@test "settings: a bad line in the env file is named" {
  printf 'this is not a setting\n' >"$ENV_FILE"
  run "$ROOT/bin/config" show
  [ "$status" -ne 0 ]
  [[ "$output" == *"$ENV_FILE has a line that is not KEY=value"* ]]
}

@test "make: settings given on make's command line reach make itself and the steps" {
  mkdir -p "$BATS_TEST_TMPDIR/cmdline-state/stamps"
  for s in $("$ROOT/bin/config" steps); do echo "x" >"$BATS_TEST_TMPDIR/cmdline-state/stamps/$s.done"; done
  # The build report, written after the last stamp, is up to date too.
  mkdir -p "$BATS_TEST_TMPDIR/cmdline-state/reports"
  touch "$BATS_TEST_TMPDIR/cmdline-state/reports/build.html"
  run $MAKE -n repo STATE_DIR="$BATS_TEST_TMPDIR/cmdline-state"
  [ "$status" -eq 0 ]
  [[ "$output" != *bin/* ]]
  run $MAKE -n repo RAW_YEARS=y2-wfd
  [[ "$output" == *"bin/raws y2-wfd"* && "$output" != *"y1-wfd"* ]]
}

@test "DRY_RUN=1 make repo on a fresh checkout prints every command and writes nothing" {
  export DP02_TOP="$BATS_TEST_TMPDIR/fresh/mini" MINI_DIR="$BATS_TEST_TMPDIR/fresh/mini"
  export REPO="$BATS_TEST_TMPDIR/fresh/repo"
  mkdir -p "$BATS_TEST_TMPDIR/fresh"
  DRY_RUN=1 run $MAKE repo
  [ "$status" -eq 0 ]
  [[ "$output" == *"make_mini_inputs.py --out $DP02_TOP"* ]]
  [[ "$output" == *"butler create --seed-config $REPO-state/butler-seed.yaml --override $REPO"* ]]
  [[ "$output" == *"butler ingest-files --transfer direct $REPO cal_ref_cat_2_2 refcats $REPO-state/refcat.ecsv"* ]]
  [[ "$output" == *"butler ingest-raws --transfer direct -j 1 --output-run LSSTCam-imSim/raw/all $REPO $DP02_TOP/raw/y2-wfd"* ]]
  [[ "$output" == *"make_chain.py $REPO 2.2i/defaults"* ]]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/fresh")" ]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
}
