#!/usr/bin/env bats
# bin/inspect: the published inspection commands, read-only, on any repository.

load helpers

setup() { common_setup; use_empty_repo; }

@test "inspect: --help" {
  run -0 "$ROOT/bin/inspect" --help
  [[ "$output" == Usage:* ]]
}

@test "inspect: DRY_RUN prints the five commands and writes nothing" {
  DRY_RUN=1 run -0 "$ROOT/bin/inspect"
  [[ "$output" == *"butler query-collections --chains TREE $REPO > $STATE/reports/inspect/collections-tree.txt"* ]]
  [[ "$output" == *"butler query-dataset-types --verbose $REPO >"* ]]
  [[ "$output" == *"butler query-dimension-records $REPO physical_filter >"* ]]
  [[ "$output" == *"py/inspect_repo.py $REPO $STATE/reports/inspect"* ]]
  [ ! -e "$STATE/reports" ]
  [ -z "$(calls)" ]
}

@test "inspect: a repository the toolkit did not build (real butler): reports, no stamp, registry unchanged" {
  export BUTLER_DOUBLE_REAL="$ROOT/.venv/bin/butler"
  local before
  before=$(sha256sum "$REPO/gen3.sqlite3")
  run -0 "$ROOT/bin/inspect"
  [[ "$output" == *"inspect: REPO=$REPO, reports in $STATE/reports/inspect/"* ]]
  run -0 ls "$STATE/reports/inspect"
  [ "$output" = "$(printf '%s\n' collections-tree.txt dataset-counts.txt dataset-types.txt \
    records-detector.txt records-instrument.txt records-physical_filter.txt summary.txt)" ]
  [ "$(grep -c . "$BUTLER_DOUBLE_LOG")" -eq 5 ]
  [ ! -e "$STATE/stamps/inspect.done" ]
  [ "$(sha256sum "$REPO/gen3.sqlite3")" = "$before" ]
}

@test "inspect: no repository is one clear error" {
  rm -rf "$REPO"
  run -2 "$ROOT/bin/inspect"
  [[ "$output" == *"$REPO"* ]]
  [ ! -e "$STATE/reports/inspect" ]
}
