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
