#!/usr/bin/env bats
# bin/config and the settings library: precedence, .env.example, profiles, redaction.

load helpers

setup() { common_setup; }

@test "config: every setting is documented in .env.example with its default" {
  for name in $(bash -c "source '$ROOT/bin/lib/dp02.sh'; printf '%s\n' \"\${DP02_SETTINGS[@]}\""); do
    grep -q "^# $name=" "$ROOT/.env.example" || { echo "undocumented: $name"; false; }
  done
}

@test "config: .env.example copied as .env changes nothing" {
  run "$ROOT/bin/config" show
  default_output=$output
  cp "$ROOT/.env.example" "$ENV_FILE"
  run "$ROOT/bin/config" show
  [ "$status" -eq 0 ]
  [ "$output" = "$default_output" ]
}

@test "config: profile dp02 sets the DP0.2 expectations and needs DP02_TOP" {
  unset DP02_TOP RAW_YEARS
  PROFILE=dp02 run "$ROOT/bin/config" get EXPECTED_VISITS
  [ "$output" = 19852 ]
  PROFILE=dp02 run "$ROOT/bin/config" get RAW_YEARS
  [ "$output" = "y1-wfd y2-wfd y3-wfd y4-wfd y5-wfd" ]
  PROFILE=dp02 run "$ROOT/bin/import-calibs"
  [ "$status" -ne 0 ]
  [[ "$output" == *"DP02_CALIB"* ]]
}

@test "config: derived defaults follow the settings they refer to" {
  DP02_TOP=/data/dp02 REPO=/out/repo run "$ROOT/bin/config" show
  [[ "$output" == *"DP02_CALIB=/data/dp02/calib"* ]]
  [[ "$output" == *"SKYMAP_CONFIG=/data/dp02/skymaps/DC2.py"* ]]
  [[ "$output" == *"STATE_DIR=/out/repo-state"* ]]
}

@test "config: show redacts a password in a URL" {
  REGISTRY_DB="postgresql+psycopg2://u:hunter2@h/db" run "$ROOT/bin/config" show
  [[ "$output" == *"REGISTRY_DB=postgresql+psycopg2://u:***@h/db"* ]]
  [[ "$output" != *hunter2* ]]
}

@test "settings: a value derived from an empty setting names that setting" {
  unset DP02_TOP
  PROFILE=dp02 run "$ROOT/bin/refcat-table"
  [ "$status" -ne 0 ]
  [[ "$output" == *"DP02_REFCATS is empty (its default, \${DP02_TOP}/refcats, is derived from DP02_TOP, which is empty)"*"Set DP02_TOP"* ]]
}

@test "settings: every bad setting is named at once, before anything runs, also in a dry run" {
  JOBS=0 TRANSFER=move RAW_YEARS='y1-wfd ../y2-wfd' DRY_RUN=1 run "$ROOT/bin/check-inputs"
  [ "$status" -eq 2 ]
  [[ "$output" == *"error: RAW_YEARS holds ../y2-wfd"* ]]
  [[ "$output" == *"error: JOBS=0 is not a positive whole number"* ]]
  [[ "$output" == *"error: TRANSFER=move is refused"* ]]
  [[ "$output" == *"the settings above are not valid, so nothing was run"* ]]
  [[ "$output" != *"py/check_inputs.py"* ]]
  assert_no_trace_of_step check-inputs
}

@test "settings: a key of the settings file that is no setting: a warning naming the closest" {
  printf 'JOB=4\nTRANSFR=copy\n' >"$ENV_FILE"
  DRY_RUN=1 run "$ROOT/bin/check-inputs"
  [ "$status" -eq 0 ]
  [[ "$output" == *"warning: JOB in $ENV_FILE is not a setting of the toolkit, so it is ignored: did you mean JOBS?"* ]]
  [[ "$output" == *"warning: TRANSFR in $ENV_FILE"*"did you mean TRANSFER?"* ]]
}

@test "settings: a password in any form is refused naming user and host; redaction hides it" {
  local url
  for url in 'postgresql+psycopg2://dp02:Zq9%2Fa@db.example:5432/x' \
    'postgresql+psycopg2://dp02:Zq9/a@db.example:5432/x' \
    'postgresql+psycopg2://dp02:Zq9#a@db.example:5432/x' \
    'postgresql+psycopg2://dp02:Zq9?a@db.example:5432/x' \
    'postgresql+psycopg2://dp02:Zq9:a@db.example:5432/x' \
    'postgresql+psycopg2://dp02@db.example:5432/x?password=Zq9'; do
    REGISTRY_DB=$url run "$ROOT/bin/create"
    [ "$status" -eq 2 ]
    [[ "$output" == *"REGISTRY_DB carries a password"*"for user 'dp02' at host 'db.example'"* ]]
    [[ "$output" != *Zq9* ]]
    REGISTRY_DB=$url run "$ROOT/bin/config" show
    [[ "$output" == *"REGISTRY_DB=postgresql+psycopg2://dp02"*"db.example:5432/x"* ]]
    [[ "$output" != *Zq9* ]]
  done
  REGISTRY_DB='postgresql+psycopg2://dp02:Zq9@a@db.example/x' run "$ROOT/bin/create"
  [[ "$output" == *"for user 'dp02', at a host that cannot be told apart from the password"* ]]
  [[ "$output" != *Zq9* ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  run ! grep -rq Zq9 "$BATS_TEST_TMPDIR" --exclude=test.env
}

@test "settings: dp02_redact without a URL starts no Python; with one it hides the password" {
  run bash -c "source '$ROOT/bin/lib/dp02.sh'; PATH=/nonexistent; dp02_redact 'no url here: a:b@c'"
  [ "$output" = "no url here: a:b@c" ]
  run bash -c "source '$ROOT/bin/lib/dp02.sh'; dp02_redact \"\$1\"" _ "x --db 'postgresql+psycopg2://u:Zq9/b@h/db' y"
  [ "$output" = "x --db 'postgresql+psycopg2://u:***@h/db' y" ]
  # When Python cannot parse it (here: no url_credentials.py), every URL is hidden whole.
  run bash -c "source '$ROOT/bin/lib/dp02.sh'; DP02_HOME=/nonexistent; dp02_redact \"\$1\"" _ "x https://u:Zq9@h/p y"
  [ "$output" = "x https://*** y" ]
}

@test "settings: without python3 a URL cannot be checked, and nothing runs" {
  mkdir -p "$BATS_TEST_TMPDIR/nopython"
  local c
  for c in bash env sh dirname basename cat sed awk tr grep mktemp mv mkdir date git id stat cut rm head tail sort flock readlink wc; do ln -sf "$(command -v "$c")" "$BATS_TEST_TMPDIR/nopython/$c"; done
  REGISTRY_DB='postgresql+psycopg2://dp02@db.example/x' PATH="$BATS_TEST_TMPDIR/nopython" run "$ROOT/bin/create"
  [ "$status" -eq 2 ]
  [[ "$output" == *"REGISTRY_DB must be checked for a password before anything runs, and python3 is not on PATH"* ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
}

@test "config: DEFAULTS_CHAIN_CHILDREN follows the collection settings it is made of" {
  run -0 "$ROOT/bin/config" get DEFAULTS_CHAIN_CHILDREN
  [ "$output" = "LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary" ]
  RAW_COLLECTION=HSC/raw/all REFCAT_COLLECTION=refcats/gaia run -0 "$ROOT/bin/config" get DEFAULTS_CHAIN_CHILDREN
  [ "$output" = "HSC/raw/all 2.2i/calib skymaps refcats/gaia 2.2i/truth_summary" ]
  # and chain passes them on (a dry run prints its command).
  RAW_COLLECTION=HSC/raw/all DRY_RUN=1 run -0 "$ROOT/bin/chain"
  [[ "$output" == *" HSC/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary"* ]]
}
