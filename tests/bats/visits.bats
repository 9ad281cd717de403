#!/usr/bin/env bats
# bin/visits: define-visits over the raw collection.

load helpers

setup() { common_setup; use_empty_repo; }

@test "visits: the technote's call, and overrides" {
  run "$ROOT/bin/visits"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt visits) define-visits --collections LSSTCam-imSim/raw/all $REPO LSSTCam-imSim" ]
  : >"$BUTLER_DOUBLE_LOG"
  RAW_COLLECTION=raw/x INSTRUMENT=HSC run "$ROOT/bin/visits"
  [ "$(calls)" = "$(log_file_opt visits) define-visits --collections raw/x $REPO HSC" ]
}

@test "visits: missing define-visits" {
  BUTLER_DOUBLE_MISSING=define-visits run "$ROOT/bin/visits"
  [ "$status" -ne 0 ]
  [[ "$output" == *"'define-visits' is not available"* ]]
}
