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

@test "curated-calibs: the first attempt on the repository its STATE_DIR made asks no registry; every later one asks" {
  # As create marks the repository it made (bin/lib/dp02.sh dp02_mark_repo).
  printf 'id-1\nmade by dp02-repo create\n' >"$REPO/.dp02-repo"
  mkdir -p "$STATE"
  echo id-1 >"$STATE/repo-id"
  run -0 "$ROOT/bin/curated-calibs"
  grep -qx '# registry check collection: collection LSSTCam-imSim/calib does not exist (new repository: registry not asked) (state 10)' "$STATE/logs/curated-calibs.log"
  grep -qx 'attempt: curated-calibs' "$REPO/.dp02-repo"
  # Second attempt (the stamp lost): the registry is asked, whatever the logs say.
  rm -rf "$STATE/stamps" "$STATE/logs"
  run -0 "$ROOT/bin/curated-calibs"
  grep -qx '# registry check collection: collection LSSTCam-imSim/calib does not exist (state 10)' "$STATE/logs/curated-calibs.log"
  # A repository another STATE_DIR made: asked, on its first attempt too.
  printf 'id-2\n' >"$REPO/.dp02-repo"
  rm -rf "$STATE/stamps" "$STATE/logs"
  run -0 "$ROOT/bin/curated-calibs"
  grep -qx '# registry check collection: collection LSSTCam-imSim/calib does not exist (state 10)' "$STATE/logs/curated-calibs.log"
  # No marker at all (a repository the toolkit did not make): asked, and nothing written.
  rm -f "$REPO/.dp02-repo" && rm -rf "$STATE/stamps" "$STATE/logs"
  run -0 "$ROOT/bin/curated-calibs"
  grep -q '^# registry check collection: .* does not exist (state 10)$' "$STATE/logs/curated-calibs.log"
  [ ! -e "$REPO/.dp02-repo" ]
}
