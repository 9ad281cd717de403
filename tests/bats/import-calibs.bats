#!/usr/bin/env bats
# bin/import-calibs: exact call (RTN-029 published order, --skip-dimensions), bad inputs.

load helpers

setup() { common_setup; use_empty_repo; }

@test "import-calibs: the technote's call, with --skip-dimensions" {
  run "$ROOT/bin/import-calibs"
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt import-calibs) import --skip-dimensions instrument,detector,physical_filter,band --export-file $DP02_TOP/calib/export.yaml $REPO $DP02_TOP/calib" ]
  [ -f "$STATE/stamps/import-calibs.done" ]
}

@test "import-calibs: DP02_CALIB override" {
  mkdir -p elsewhere && cp "$DP02_TOP/calib/export.yaml" elsewhere/
  DP02_CALIB="$BATS_TEST_TMPDIR/elsewhere" run "$ROOT/bin/import-calibs"
  [ "$status" -eq 0 ]
  [[ "$(calls)" == *"--export-file $BATS_TEST_TMPDIR/elsewhere/export.yaml $REPO $BATS_TEST_TMPDIR/elsewhere" ]]
}

@test "import-calibs: a missing DP02_CALIB is named with its value" {
  DP02_CALIB=/no/such/calib run "$ROOT/bin/import-calibs"
  [ "$status" -ne 0 ]
  [[ "$output" == *"DP02_CALIB=/no/such/calib does not exist"* ]]
  [ -z "$(calls)" ]
  assert_no_trace_of_step import-calibs
}

@test "import-calibs: a calibration tree without export.yaml is refused" {
  rm "$DP02_TOP/calib/export.yaml"
  run "$ROOT/bin/import-calibs"
  [ "$status" -ne 0 ]
  [[ "$output" == *"has no export.yaml"* ]]
  [ -z "$(calls)" ]
}

@test "import-calibs: DRY_RUN prints and runs nothing" {
  DRY_RUN=1 run "$ROOT/bin/import-calibs"
  [ "$status" -eq 0 ]
  [[ "$output" == "butler import --skip-dimensions instrument,detector,physical_filter,band --export-file"* ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  [ ! -e "$STATE" ]
}

@test "import-calibs: a failing import leaves no stamp" {
  BUTLER_DOUBLE_FAIL=import run "$ROOT/bin/import-calibs"
  [ "$status" -ne 0 ]
  [ ! -e "$STATE/stamps/import-calibs.done" ]
  grep -q 'simulated failure' "$STATE/logs/import-calibs.log"
}

@test "import-calibs: an export.yaml naming no dataset (cut short) is refused, not imported" {
  sed -i '/^- type: dataset$/,$d' "$DP02_TOP/calib/export.yaml"
  run "$ROOT/bin/import-calibs"
  [ "$status" -ne 0 ]
  [[ "$output" == *"export.yaml names no dataset: it is cut short"* ]]
  [ -z "$(calls)" ]
  [ ! -e "$STATE/stamps/import-calibs.done" ]
}
