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
