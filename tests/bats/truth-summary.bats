#!/usr/bin/env bats
# bin/truth-summary: the table, register-dataset-type, ingest-files (the registry part is
# exercised end to end in tests/e2e; here the command lines and the switch).

load helpers

setup() { common_setup; use_empty_repo; }

@test "truth-summary: DRY_RUN prints the published commands" {
  DRY_RUN=1 run --separate-stderr "$ROOT/bin/truth-summary"
  [ "$status" -eq 0 ]
  expected="python3 $ROOT/py/make_truth_table.py $DP02_TOP/truth_summary --skymap-config $DP02_TOP/skymaps/DC2.py --repo $REPO -o $STATE/truth-summary.ecsv
butler register-dataset-type $REPO truth_summary DataFrame skymap tract
butler ingest-files --transfer direct $REPO truth_summary 2.2i/truth_summary $STATE/truth-summary.ecsv"
  [ "$output" = "$expected" ]
  assert_no_trace_of_step truth-summary
}

@test "truth-summary: the settings change the commands" {
  TRUTH_DATASET_TYPE=truth TRUTH_STORAGE_CLASS=DataFrame TRUTH_DIMENSIONS="skymap tract" \
    TRUTH_COLLECTION=truth/run TRANSFER=symlink DRY_RUN=1 run --separate-stderr "$ROOT/bin/truth-summary"
  [ "$status" -eq 0 ]
  [[ "$output" == *"butler ingest-files --transfer symlink $REPO truth truth/run $STATE/truth-summary.ecsv" ]]
}

@test "truth-summary: TRUTH_SUMMARY=no writes the stamp and calls nothing" {
  TRUTH_SUMMARY=no run "$ROOT/bin/truth-summary"
  [ "$status" -eq 0 ]
  [[ "$output" == *"truth-summary ... skipped (TRUTH_SUMMARY=no)"* ]]
  [ -f "$STATE/stamps/truth-summary.done" ]
  [ -z "$(calls)" ]
}

@test "truth-summary: a missing DP02_TRUTH_SUMMARY stops the step before any call" {
  run "$ROOT/bin/truth-summary"
  [ "$status" -ne 0 ]
  [[ "$output" == *"DP02_TRUTH_SUMMARY=$DP02_TOP/truth_summary does not exist"* ]]
  [ -z "$(calls)" ]
  assert_no_trace_of_step truth-summary
}

@test "truth-summary: a refused table leaves no stamp, its reason in the log" {
  mkdir -p "$DP02_TOP/truth_summary"
  printf 'file URI,skymap,tract\n/elsewhere/truth_parquet/truth_patchint_tract3831.parq,DC2,3831\n' \
    >"$DP02_TOP/truth_summary/truth_tables.csv"
  run "$ROOT/bin/truth-summary"
  [ "$status" -ne 0 ]
  [ ! -e "$STATE/stamps/truth-summary.done" ]
  grep -q "sky map DC2 is not registered" "$STATE/logs/truth-summary.log"
  [ -z "$(calls)" ]
}
