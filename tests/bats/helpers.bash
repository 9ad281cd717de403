# shellcheck shell=bash
# Shared setup of the bats tests of bin/: a scratch input tree and settings pointing into
# the test's temporary directory, the recording butler double (tests/doubles/butler) first
# on PATH and the lite runtime's Python after it, and a real empty SQLite repository for
# the steps that ask the registry before acting.

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export ROOT

bats_require_minimum_version 1.5.0

make_empty_repo() {
  # One real empty repository per test file (the registry checks read it).
  if [[ ! -f "$BATS_FILE_TMPDIR/empty-repo/butler.yaml" ]]; then
    "$ROOT/.venv/bin/butler" create "$BATS_FILE_TMPDIR/empty-repo" >/dev/null 2>&1
  fi
}

make_inputs() {
  # A tiny input tree of the DP0.2 shape (not ingestible: the double does not read it).
  local top=$1
  mkdir -p "$top/calib" "$top/raw/y1-wfd/00001472" "$top/raw/y2-wfd/00159491" \
    "$top/refcats/cal_ref_cat" "$top/skymaps"
  touch "$top/raw/y1-wfd/00001472/lsst_a_1472_R22_S11_r.fits" \
    "$top/raw/y2-wfd/00159491/lsst_a_159491_R22_S11_i.fits" \
    "$top/refcats/cal_ref_cat/141440.fits" "$top/refcats/cal_ref_cat/141441.fits"
  printf 'config.name = "DC2"\n' >"$top/skymaps/DC2.py"
  cat >"$top/calib/export.yaml" <<'YAML'
description: Butler Data Repository Export
version: 1.0.2
universe_version: 2
universe_namespace: daf_butler
data:
- type: collection
  collection_type: RUN
  name: 2.2i/calib/gen2/20220101T000000Z
- type: dataset
  dataset_type: bias
  run: 2.2i/calib/gen2/20220101T000000Z
  records:
  - dataset_id:
    - 2a2e3c44-6f0c-5d0e-9a4e-0f1f6a0b0c01
    data_id:
    - instrument: LSSTCam-imSim
      detector: 94
    path: 2.2i/calib/bias/bias_R22_S11.fits
YAML
}

common_setup() {
  export BUTLER_DOUBLE_LOG="$BATS_TEST_TMPDIR/butler-calls.log"
  : >"$BUTLER_DOUBLE_LOG"
  unset BUTLER_DOUBLE_REAL BUTLER_DOUBLE_MISSING BUTLER_DOUBLE_FAIL
  export PATH="$ROOT/tests/doubles:$ROOT/.venv/bin:$PATH"
  # The module of the default INSTRUMENT_CLASS (obs_lsst), as a double: butler is one too.
  export PYTHONPATH="$ROOT/tests/doubles/pylib${PYTHONPATH:+:$PYTHONPATH}"
  # Only the settings given here: no developer .env, no inherited settings.
  export ENV_FILE="$BATS_TEST_TMPDIR/test.env"
  : >"$ENV_FILE"
  # shellcheck disable=SC2046 # one word per setting name
  unset $(bash -c "source '$ROOT/bin/lib/dp02.sh'; printf '%s\n' \"\${DP02_SETTINGS[@]}\"") LSST_DB_AUTH
  export DP02_TOP="$BATS_TEST_TMPDIR/inputs"
  export REPO="$BATS_TEST_TMPDIR/repo"
  export STATE="$BATS_TEST_TMPDIR/repo-state"
  export RAW_YEARS="y1-wfd y2-wfd"
  make_inputs "$DP02_TOP"
  cd "$BATS_TEST_TMPDIR" || return 1
}

use_empty_repo() {
  make_empty_repo
  cp -r "$BATS_FILE_TMPDIR/empty-repo" "$REPO"
}

calls() {
  # The recorded butler calls, without the stack probe (`butler --help`, `CMD --help`).
  grep -v -E -- '(^| )--help$' "$BUTLER_DOUBLE_LOG" || true
}

log_file_opt() {
  # The global option every step passes to butler for its JSON log.
  printf -- '--log-file %s' "$STATE/logs/$1.json"
}

assert_no_trace_of_step() {
  # A dry run or refused step leaves no stamp, no log, no repository.
  local step=$1
  [[ ! -e "$STATE/stamps/$step.done" ]]
  [[ ! -e "$STATE/logs/$step.log" ]]
}
