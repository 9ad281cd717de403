#!/usr/bin/env bats
# bin/check-inputs: the preflight step (py/check_inputs.py) through the library.

load helpers

setup_file() {
  # A good miniature tree, made once per file (check-inputs only reads it).
  "$BATS_TEST_DIRNAME/../../.venv/bin/python" "$BATS_TEST_DIRNAME/../../py/make_mini_inputs.py" \
    --out "$BATS_FILE_TMPDIR/mini" --pixels 0 >/dev/null 2>&1
}

setup() { common_setup; }

@test "check-inputs: --help and usage" {
  run "$ROOT/bin/check-inputs" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"Usage: bin/check-inputs"* ]]
  run "$ROOT/bin/check-inputs" extra
  [ "$status" -eq 2 ]
  [[ "$output" == *"Usage: bin/check-inputs"* ]]
}

@test "check-inputs: a good miniature tree passes, with stamp, table and report" {
  DP02_TOP="$BATS_FILE_TMPDIR/mini" VISIT_LIST="$BATS_FILE_TMPDIR/mini/visits.txt" \
    run "$ROOT/bin/check-inputs"
  [ "$status" -eq 0 ]
  [[ "$output" == *"raw.index-files"*"ok"* ]]
  [[ "$output" == *"check-inputs: 0 error(s), 0 warning(s)"* ]]
  [[ "$output" == *"] check-inputs ... done in"* ]]
  [ -f "$STATE/stamps/check-inputs.done" ]
  grep -q "py/check_inputs.py" "$STATE/stamps/check-inputs.done"
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["ok"] and d["errors"] == 0' \
    "$STATE/reports/check-inputs.json"
}

@test "check-inputs: errors stop the step, name the checks, leave no stamp" {
  # The helpers' tiny tree: no index files (warning); empty raw and refcat files, no visit
  # list, an export.yaml without its dataset type naming a missing file, no truth summary (errors).
  run "$ROOT/bin/check-inputs"
  [ "$status" -eq 1 ]
  [[ "$output" == *"failed these checks: raw.files, raw.visit-list, calib.export, calib.files, refcat.files, truth.files. The table above"* ]]
  [[ "$output" == *"lsst_a_1472_R22_S11_r.fits (empty, 0 bytes)"* ]]
  [[ "$output" == *"raw.index-files"*"warning"* ]]
  [[ "$output" == *"make raw-indexes"* ]]
  [ ! -e "$STATE/stamps/check-inputs.done" ]
  [ -f "$STATE/reports/check-inputs.json" ]
}

@test "check-inputs: DRY_RUN prints the command only" {
  DRY_RUN=1 run "$ROOT/bin/check-inputs"
  [ "$status" -eq 0 ]
  [[ "$output" == "python3 $ROOT/py/check_inputs.py --raw $DP02_TOP/raw "* ]]
  [[ "$output" == *"--report $STATE/reports/check-inputs.json"* ]]
  [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
  assert_no_trace_of_step check-inputs
  [ ! -e "$STATE/reports" ]
}

@test "check-inputs: bad settings are refused before anything runs" {
  EXPECTED_VISITS=lots run "$ROOT/bin/check-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"EXPECTED_VISITS=lots is not a whole number"* ]]
  DP02_RAW='' run "$ROOT/bin/check-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"the setting DP02_RAW is empty"* ]]
  REGISTRY_DB='postgresql://u:secret@h/db' run "$ROOT/bin/check-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"carries a password"* ]]
  [[ "$output" != *secret* ]]
  assert_no_trace_of_step check-inputs
}

@test "check-inputs: with REGISTRY_DB it runs db-check (DRY_RUN shows the option)" {
  REGISTRY_DB='postgresql+psycopg2://u@localhost:5432/db' DRY_RUN=1 run "$ROOT/bin/check-inputs"
  [ "$status" -eq 0 ]
  [[ "$output" == *"--registry-db postgresql --db-check $ROOT/bin/db-check"* ]]
  [[ "$output" != *"u@localhost"* ]]
}
