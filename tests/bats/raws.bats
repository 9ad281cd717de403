#!/usr/bin/env bats
# bin/raws YEAR: one ingest-raws per year.

load helpers

setup() { common_setup; use_empty_repo; }

@test "raws: the technote's call for one year" {
  run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt raws-y1-wfd) ingest-raws --transfer direct -j 1 --output-run LSSTCam-imSim/raw/all $REPO $DP02_TOP/raw/y1-wfd" ]
  [ -f "$STATE/stamps/raws-y1-wfd.done" ]
}

@test "raws: JOBS, TRANSFER and RAW_COLLECTION overrides" {
  JOBS=16 TRANSFER=link RAW_COLLECTION=raw/test run "$ROOT/bin/raws" y2-wfd
  [ "$status" -eq 0 ]
  [ "$(calls)" = "$(log_file_opt raws-y2-wfd) ingest-raws --transfer link -j 16 --output-run raw/test $REPO $DP02_TOP/raw/y2-wfd" ]
}

@test "raws: a year not in RAW_YEARS, a bad JOBS, a missing year directory" {
  run "$ROOT/bin/raws" y9-wfd
  [ "$status" -ne 0 ]
  [[ "$output" == *"'y9-wfd' is not one of RAW_YEARS"* ]]
  JOBS=zero run "$ROOT/bin/raws" y1-wfd
  [ "$status" -ne 0 ]
  [[ "$output" == *"JOBS=zero is not a positive whole number"* ]]
  RAW_YEARS="y1-wfd y3-wfd" run "$ROOT/bin/raws" y3-wfd
  [ "$status" -ne 0 ]
  [[ "$output" == *"has no directory y3-wfd"* ]]
  [ -z "$(calls)" ]
}

@test "raws: missing ingest-raws is reported before anything runs" {
  BUTLER_DOUBLE_MISSING=ingest-raws run "$ROOT/bin/raws" y1-wfd
  [ "$status" -ne 0 ]
  [[ "$output" == *"'ingest-raws' is not available"*"obs_base"* ]]
  assert_no_trace_of_step raws-y1-wfd
}

@test "raws: DRY_RUN" {
  DRY_RUN=1 run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  [ "$output" = "butler ingest-raws --transfer direct -j 1 --output-run LSSTCam-imSim/raw/all $REPO $DP02_TOP/raw/y1-wfd" ]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  [ ! -e "$STATE" ]
}

@test "raws: --progress is passed, and butler's output shown, only on a terminal" {
  run "$ROOT/bin/raws" y1-wfd
  [[ "$(calls)" != *--progress* ]]
  rm "$STATE/stamps/raws-y1-wfd.done"
  : >"$BUTLER_DOUBLE_LOG"
  # script(1) gives the step a terminal.
  run script -qec "$ROOT/bin/raws y1-wfd" /dev/null
  [ "$status" -eq 0 ]
  [[ "$(calls)" == "--log-file $STATE/logs/raws-y1-wfd.json --progress ingest-raws "* ]]
  [[ "$output" == *"butler ingest-raws: ok (test double)"* ]]
}

@test "raws: the stamp records start, end, duration, command, revision and stack" {
  run "$ROOT/bin/raws" y1-wfd
  [ "$status" -eq 0 ]
  stamp="$STATE/stamps/raws-y1-wfd.done"
  grep -Eq '^start: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$stamp"
  grep -Eq '^end: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$stamp"
  grep -Eq '^duration_s: [0-9]+\.[0-9]$' "$stamp"
  grep -Eq "^toolkit_revision: ($(git -C "$ROOT" rev-parse --short HEAD)|unknown)$" "$stamp"
  grep -Eq '^stack: lite \(daf_butler [0-9]+\.[0-9]' "$stamp"
  grep -q "^  - butler --log-file $STATE/logs/raws-y1-wfd.json ingest-raws --transfer direct" "$stamp"
  [ -z "$(find "$STATE/stamps" -name '.*')" ]  # no temporary file left
}

@test "raws: with a stack set up, the stamp records its release tag, not the product name" {
  # The EUPS layout of a stack: <EUPS_PATH>/<flavor>/lsst_distrib/<version> and the tag
  # chain files in <EUPS_PATH>/ups_db/lsst_distrib/.
  local eups="$BATS_TEST_TMPDIR/stack" version=g0b29ad24fb+e5c6c9a0b2
  mkdir -p "$eups/Linux64/lsst_distrib/$version" "$eups/ups_db/lsst_distrib"
  for tag in current v23_0_0; do
    printf 'FILE = version\nPRODUCT = lsst_distrib\nCHAIN = %s\nGroup:\n   FLAVOR = Linux64\n   VERSION = %s\nEnd:\n' \
      "$tag" "$version" >"$eups/ups_db/lsst_distrib/$tag.chain"
  done
  printf 'FILE = version\nCHAIN = w_2022_01\nGroup:\n   VERSION = g123\nEnd:\n' >"$eups/ups_db/lsst_distrib/w_2022_01.chain"
  LSST_DISTRIB_DIR="$eups/Linux64/lsst_distrib/$version" run -0 "$ROOT/bin/raws" y1-wfd
  grep -Eq '^stack: v23_0_0 \(daf_butler [0-9]+\.[0-9]' "$STATE/stamps/raws-y1-wfd.done"
}
