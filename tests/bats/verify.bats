#!/usr/bin/env bats
# bin/verify: the last step (py/verify_repo.py) through the library.

load helpers

setup_file() {
  # A miniature tree and a good repository built from it with the daf_butler API
  # (tests/python/_verify_fixture.py), made once per file.
  local top_dir
  top_dir=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  "$top_dir/.venv/bin/python" "$top_dir/py/make_mini_inputs.py" --out "$BATS_FILE_TMPDIR/mini" \
    --pixels 0 >/dev/null 2>&1
  "$top_dir/.venv/bin/python" -c 'import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import _verify_fixture
_verify_fixture.build_repo(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), ["y1-wfd", "y2-wfd"])' \
    "$top_dir/tests/python" "$BATS_FILE_TMPDIR/mini" "$BATS_FILE_TMPDIR/good-repo" \
    "$BATS_FILE_TMPDIR/good-state" >/dev/null 2>&1
}

setup() { common_setup; }

@test "verify: --help and usage" {
  run "$ROOT/bin/verify" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"Usage: bin/verify"* ]]
  [[ "$output" == *"defaults-chain"* ]]
  run "$ROOT/bin/verify" extra
  [ "$status" -eq 2 ]
}

@test "verify: a good repository passes, with stamp, table and report" {
  cp -r "$BATS_FILE_TMPDIR/good-repo" "$REPO"
  mkdir -p "$STATE" && cp "$BATS_FILE_TMPDIR/good-state/"*.ecsv "$STATE/"
  DP02_TOP="$BATS_FILE_TMPDIR/mini" run "$ROOT/bin/verify"
  [ "$status" -eq 0 ]
  [[ "$output" == *"verify: 19 of 19 checks match"* ]]
  [[ "$output" == *"refcats:listing "*"raws:listing "*"truth-summary:listing "* ]]
  [[ "$output" == *"] verify ... done in"* ]]
  [ -f "$STATE/stamps/verify.done" ]
  [ -f "$STATE/reports/verify.json" ]
}

@test "verify: an empty repository fails, naming every mismatch, no stamp" {
  use_empty_repo
  mkdir -p "$STATE" && cp "$BATS_FILE_TMPDIR/good-state/refcat.ecsv" "$STATE/"
  DP02_TOP="$BATS_FILE_TMPDIR/mini" run "$ROOT/bin/verify"
  [ "$status" -eq 1 ]
  [[ "$output" == *"does not match its inputs: instrument (expected LSSTCam-imSim, found missing)"* ]]
  [[ "$output" == *"defaults-chain (expected LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary, found missing)"* ]]
  [[ "$output" == *"MISMATCH"* ]]
  [ ! -e "$STATE/stamps/verify.done" ]
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert not d["ok"] and "refcats" in d["mismatches"]' \
    "$STATE/reports/verify.json"
}

@test "verify: DRY_RUN prints the command only, even before the repository exists" {
  DRY_RUN=1 run "$ROOT/bin/verify"
  [ "$status" -eq 0 ]
  [[ "$output" == "python3 $ROOT/py/verify_repo.py --repo $REPO --instrument LSSTCam-imSim "* ]]
  [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
  assert_no_trace_of_step verify
}

@test "verify: bad settings are refused" {
  run "$ROOT/bin/verify"
  [ "$status" -eq 2 ]
  [[ "$output" == *"is not a butler repository"* ]]
  use_empty_repo
  DEFAULTS_CHAIN_CHILDREN='' run "$ROOT/bin/verify"
  [ "$status" -eq 2 ]
  [[ "$output" == *"the setting DEFAULTS_CHAIN_CHILDREN is empty"* ]]
  REGISTRY_DB='postgresql://u:secret@h/db' run "$ROOT/bin/verify"
  [ "$status" -eq 2 ]
  [[ "$output" != *secret* ]]
  assert_no_trace_of_step verify
}
