#!/usr/bin/env bats
# bin/clean-repo: removes REPO and STATE_DIR, never the inputs or the toolkit.

load helpers
# The refusal tests run with DRY_RUN=1: were a refusal missing, clean-repo would only print
# the rm command (exit 0, the test fails) instead of removing a parent of the test's tree.

setup() { common_setup; }

@test "clean-repo: --help" {
  run -0 "$ROOT/bin/clean-repo" --help
  [[ "$output" == Usage:* ]]
}

@test "clean-repo: removes REPO and STATE_DIR with CONFIRM=yes, keeps the inputs" {
  mkdir -p "$REPO" "$STATE/stamps"
  touch "$REPO/butler.yaml" "$STATE/stamps/create.done"
  CONFIRM=yes run -0 "$ROOT/bin/clean-repo"
  [ ! -e "$REPO" ] && [ ! -e "$STATE" ]
  [ -f "$DP02_TOP/skymaps/DC2.py" ]
}

@test "clean-repo: without CONFIRM and no terminal, removes nothing" {
  mkdir -p "$REPO"
  run -2 "$ROOT/bin/clean-repo" </dev/null
  [[ "$output" == *"give CONFIRM=yes"* ]]
  [ -d "$REPO" ]
}

@test "clean-repo: REPO inside DP02_TOP is refused" {
  REPO="$DP02_TOP/repo" DRY_RUN=1 CONFIRM=yes run -2 "$ROOT/bin/clean-repo"
  [[ "$output" == *"inside DP02_TOP"* ]]
  [ -f "$DP02_TOP/skymaps/DC2.py" ]
}

@test "clean-repo: REPO or STATE_DIR holding DP02_TOP is refused, also through a symlink" {
  local parent
  parent=$(dirname "$DP02_TOP")
  REPO="$parent" DRY_RUN=1 CONFIRM=yes run -2 "$ROOT/bin/clean-repo"
  [[ "$output" == *"it holds DP02_TOP"* ]]
  ln -s "$parent" "$BATS_TEST_TMPDIR/alias"
  STATE_DIR="$BATS_TEST_TMPDIR/alias" DRY_RUN=1 CONFIRM=yes run -2 "$ROOT/bin/clean-repo"
  [[ "$output" == *"it holds DP02_TOP"* ]]
  [ -f "$DP02_TOP/skymaps/DC2.py" ]
}

@test "clean-repo: REPO holding the toolkit is refused" {
  REPO="$(dirname "$ROOT")" DRY_RUN=1 CONFIRM=yes run -2 "$ROOT/bin/clean-repo"
  [[ "$output" == *"refusing to remove"* ]]
  [ -f "$ROOT/Makefile" ]
}
