#!/usr/bin/env bats
# bin/refcat-table: writes the table into STATE_DIR, never into the inputs.

load helpers

setup() { common_setup; }

@test "refcat-table: writes STATE_DIR/refcat.ecsv and nothing under DP02_TOP" {
  before=$(find "$DP02_TOP" -type f | sort | xargs sha256sum)
  run "$ROOT/bin/refcat-table"
  [ "$status" -eq 0 ]
  [ -f "$STATE/refcat.ecsv" ]
  grep -q "$DP02_TOP/refcats/cal_ref_cat/141440.fits 141440" "$STATE/refcat.ecsv"
  [ "$before" = "$(find "$DP02_TOP" -type f | sort | xargs sha256sum)" ]
  [ -f "$STATE/stamps/refcat-table.done" ]
}

@test "refcat-table: an empty refcat directory fails, with no table and no stamp" {
  rm "$DP02_TOP"/refcats/cal_ref_cat/*.fits
  run "$ROOT/bin/refcat-table"
  [ "$status" -ne 0 ]
  [[ "$output" == *"no refcat file"* ]]
  [ ! -e "$STATE/refcat.ecsv" ]
  [ ! -e "$STATE/stamps/refcat-table.done" ]
}

@test "refcat-table: DP02_REFCATS without cal_ref_cat is named" {
  DP02_REFCATS="$DP02_TOP/skymaps" run "$ROOT/bin/refcat-table"
  [ "$status" -ne 0 ]
  [[ "$output" == *"DP02_REFCATS=$DP02_TOP/skymaps has no cal_ref_cat/"* ]]
}
