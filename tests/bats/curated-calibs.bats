#!/usr/bin/env bats
# bin/curated-calibs: --collection passed explicitly (mandatory from release 28).

load helpers

setup() { common_setup; use_empty_repo; }

@test "curated-calibs: the call with an explicit --collection" {
  run "$ROOT/bin/curated-calibs"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt curated-calibs) write-curated-calibrations --collection LSSTCam-imSim/calib $REPO LSSTCam-imSim" ]
}

@test "curated-calibs: overrides of CURATED_COLLECTION and INSTRUMENT" {
  CURATED_COLLECTION=HSC/calib INSTRUMENT=HSC run "$ROOT/bin/curated-calibs"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt curated-calibs) write-curated-calibrations --collection HSC/calib $REPO HSC" ]
}

@test "curated-calibs: missing stack command, empty setting" {
  BUTLER_DOUBLE_MISSING=write-curated-calibrations run "$ROOT/bin/curated-calibs"
  [ "$status" -ne 0 ]
  [[ "$output" == *"'write-curated-calibrations' is not available"*"obs_base"* ]]
  CURATED_COLLECTION='' run "$ROOT/bin/curated-calibs"
  [ "$status" -ne 0 ]
  [[ "$output" == *"CURATED_COLLECTION is empty"* ]]
  [ -z "$(calls)" ]
}

@test "curated-calibs: DRY_RUN" {
  DRY_RUN=yes run "$ROOT/bin/curated-calibs"
  [ "$status" -eq 0 ]
  [ "$output" = "butler write-curated-calibrations --collection LSSTCam-imSim/calib $REPO LSSTCam-imSim" ]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
}
