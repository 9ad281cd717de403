#!/usr/bin/env bats
# bin/register-skymap: -C with the sky map config.

load helpers

setup() { common_setup; use_empty_repo; }

@test "register-skymap: the technote's call, and with SKYMAP_CONFIG overridden" {
  run "$ROOT/bin/register-skymap"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt register-skymap) register-skymap -C $DP02_TOP/skymaps/DC2.py $REPO" ]
  cp "$DP02_TOP/skymaps/DC2.py" other.py
  : >"$BUTLER_DOUBLE_LOG"
  rm "$STATE/stamps/register-skymap.done"
  SKYMAP_CONFIG=other.py run "$ROOT/bin/register-skymap"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt register-skymap) register-skymap -C $BATS_TEST_TMPDIR/other.py $REPO" ]
}

@test "register-skymap: a missing config file is named" {
  SKYMAP_CONFIG=/nope/DC2.py run "$ROOT/bin/register-skymap"
  [ "$status" -ne 0 ]
  [[ "$output" == *"SKYMAP_CONFIG=/nope/DC2.py does not exist"* ]]
  [ -z "$(calls)" ]
}

@test "register-skymap: missing pipe_tasks command" {
  BUTLER_DOUBLE_MISSING=register-skymap run "$ROOT/bin/register-skymap"
  [ "$status" -ne 0 ]
  [[ "$output" == *"'register-skymap' is not available"*"pipe_tasks"* ]]
}

@test "register-skymap: a rerun keeps the failed attempt's log as register-skymap.log.1" {
  BUTLER_DOUBLE_FAIL=register-skymap run "$ROOT/bin/register-skymap"
  [ "$status" -ne 0 ]
  [ ! -e "$STATE/stamps/register-skymap.done" ]
  grep -q "simulated failure" "$STATE/logs/register-skymap.log"
  run "$ROOT/bin/register-skymap"
  [ "$status" -eq 0 ]
  # The latest attempt is the log; the failed one is kept whole beside it.
  grep -q "^# step register-skymap done" "$STATE/logs/register-skymap.log"
  run -1 grep -q "simulated failure" "$STATE/logs/register-skymap.log"
  grep -q "simulated failure" "$STATE/logs/register-skymap.log.1"
  grep -q "^# step register-skymap FAILED (exit " "$STATE/logs/register-skymap.log.1"
  rm "$STATE/stamps/register-skymap.done"
  run "$ROOT/bin/register-skymap"
  [ "$status" -eq 0 ]
  [ -e "$STATE/logs/register-skymap.log.2" ]
  [ "$(grep -c "^# step register-skymap started" "$STATE/logs/register-skymap.log.1")" -eq 1 ]
}
