#!/usr/bin/env bats
# bin/fetch-inputs and bin/export-calibs: settings refused before anything runs, and the
# command lines of a dry run (the downloads and the real export are tested under tests/e2e).

load helpers

setup() {
  common_setup
  unset INPUTS_BASE_URL FETCH_ARCHIVES DOWNLOAD_DIR FORCE SOURCE_REPO EXPORT_CALIB_COLLECTION EXPORT_DIR
}

@test "fetch-inputs: an empty INPUTS_BASE_URL is refused, naming the setting and the fix" {
  FETCH_ARCHIVES=a.tar.gz:calib run "$ROOT/bin/fetch-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"INPUTS_BASE_URL is empty"*"PROFILE=dp02"* ]]
  [ ! -e "$STATE/stamps/fetch-inputs.done" ]
}

@test "fetch-inputs: the dp02 profile lists the five published archives and a base URL" {
  PROFILE=dp02 run "$ROOT/bin/config" get FETCH_ARCHIVES
  [ "$status" -eq 0 ]
  for name in dp02_raw_wfd_indexes.tar.gz:raw dp02_calib.tar.gz:calib dp02_refcat.tar.gz:refcats \
    dp02_refcat.ecsv.tar.gz:refcats dp02_truth_summary.tar:truth_summary; do
    [[ " $output " == *" $name "* ]]
  done
  PROFILE=dp02 run "$ROOT/bin/config" get INPUTS_BASE_URL
  [[ "$output" == https://* ]]
}

@test "fetch-inputs: DRY_RUN prints the command with DOWNLOAD_DIR under STATE_DIR; FORCE" {
  INPUTS_BASE_URL=http://127.0.0.1:9/x FETCH_ARCHIVES=a.tar.gz:calib STATE_DIR="$STATE" DRY_RUN=1 FORCE=yes \
    run "$ROOT/bin/fetch-inputs"
  [ "$status" -eq 0 ]
  [ "$output" = "python3 $ROOT/py/fetch_inputs.py --base-url http://127.0.0.1:9/x --archives a.tar.gz:calib --download-dir $STATE/downloads --top $DP02_TOP --record $STATE/downloads.json --force" ]
  INPUTS_BASE_URL=http://127.0.0.1:9/x FETCH_ARCHIVES=a.tar.gz:calib FORCE=maybe run "$ROOT/bin/fetch-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"FORCE=maybe"* ]]
}

@test "fetch-inputs: a malformed FETCH_ARCHIVES word is refused" {
  INPUTS_BASE_URL=http://127.0.0.1:9/x FETCH_ARCHIVES="a.tar.gz:../up" STATE_DIR="$STATE" run "$ROOT/bin/fetch-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"FETCH_ARCHIVES"*"not a plain directory name"* ]]
}

@test "export-calibs: SOURCE_REPO and EXPORT_DIR are required" {
  run "$ROOT/bin/export-calibs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"SOURCE_REPO is empty"* ]]
  SOURCE_REPO=/src run "$ROOT/bin/export-calibs"
  [[ "$output" == *"EXPORT_DIR is empty"* ]]
}

@test "export-calibs: DRY_RUN prints the check, the overlay, the export and the rename" {
  SOURCE_REPO=/src EXPORT_DIR="$BATS_TEST_TMPDIR/out" DRY_RUN=1 run "$ROOT/bin/export-calibs"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"export_calibs.py check --repo /src --collection 2.2i/calib --export-dir $BATS_TEST_TMPDIR/out" ]]
  [[ "${lines[1]}" == *"export_calibs.py overlay --repo /src --out $BATS_TEST_TMPDIR/.export-calibs.XXXXXX/butler.yaml" ]]
  [ "${lines[2]}" = "butler export-calibs $BATS_TEST_TMPDIR/.export-calibs.XXXXXX/butler.yaml $BATS_TEST_TMPDIR/.export-calibs.XXXXXX/export 2.2i/calib" ]
  [[ "${lines[3]}" == *"export_calibs.py verify --export-dir $BATS_TEST_TMPDIR/.export-calibs.XXXXXX/export" ]]
  [ -z "$(calls)" ]
  [ ! -e "$BATS_TEST_TMPDIR/out" ]
}
