#!/usr/bin/env bats
# bin/refcats: register-dataset-type, then one ingest-files of the table.

load helpers

setup() {
  common_setup
  use_empty_repo
  "$ROOT/bin/refcat-table" 2>/dev/null
}

@test "refcats: the technote's two calls" {
  run "$ROOT/bin/refcats"
  [ "$status" -eq 0 ]
  expected="$(log_file_opt refcats) register-dataset-type $REPO cal_ref_cat_2_2 SimpleCatalog htm7
$(log_file_opt refcats) ingest-files --transfer direct $REPO cal_ref_cat_2_2 refcats $STATE/refcat.ecsv"
  [ "$(calls)" = "$expected" ]
  [ -f "$STATE/stamps/refcats.done" ]
}

@test "refcats: overrides, and --formatter only when REFCAT_FORMATTER is set" {
  REFCAT_FORMATTER=my.Formatter TRANSFER=symlink REFCAT_COLLECTION=refcats/test run "$ROOT/bin/refcats"
  [ "$status" -eq 0 ]
  [[ "$(calls)" == *"ingest-files --transfer symlink --formatter my.Formatter $REPO cal_ref_cat_2_2 refcats/test $STATE/refcat.ecsv" ]]
}

@test "refcats: without the table, says to run refcat-table" {
  rm "$STATE/refcat.ecsv"
  run "$ROOT/bin/refcats"
  [ "$status" -ne 0 ]
  [[ "$output" == *"make refcat-table"* ]]
  [ -z "$(calls)" ]
}

@test "refcats: a failing ingest leaves no stamp and its error in the log" {
  BUTLER_DOUBLE_FAIL=ingest-files run "$ROOT/bin/refcats"
  [ "$status" -ne 0 ]
  [ ! -e "$STATE/stamps/refcats.done" ]
  grep -q "simulated failure of 'ingest-files'" "$STATE/logs/refcats.log"
}
