#!/usr/bin/env bats
# bin/db-check: the checks that need no server, then a few on a throwaway PostgreSQL
# cluster started with tests/pgcluster.py (skipped without the server binaries unless CI).

load helpers

setup_file() {
  export PG_STATE="$BATS_FILE_TMPDIR/pg"
  if "$BATS_TEST_DIRNAME/../../.venv/bin/python" "$BATS_TEST_DIRNAME/../pgcluster.py" start "$PG_STATE" >"$BATS_FILE_TMPDIR/pg.out" 2>&1; then
    export PG_OK=1
  else
    export PG_OK=
  fi
}

teardown_file() {
  "$BATS_TEST_DIRNAME/../../.venv/bin/python" "$BATS_TEST_DIRNAME/../pgcluster.py" stop "$PG_STATE" >/dev/null 2>&1 || true
}

setup() { common_setup; }

flat() {
  # The output with its line breaks undone (error paragraphs are wrapped at 100 columns).
  tr -s ' \n' '  ' <<<"$output"
}

need_pg() {
  if [[ -z "$PG_OK" ]]; then
    if [[ -n "${CI:-}" ]]; then
      cat "$BATS_FILE_TMPDIR/pg.out" >&2
      echo "CI is set and the PostgreSQL test cluster did not start" >&2
      return 1
    fi
    skip "PostgreSQL test cluster unavailable: $(tail -n 1 "$BATS_FILE_TMPDIR/pg.out")"
  fi
  # shellcheck source=/dev/null
  source "$PG_STATE/env.sh"
  PG_PASSWORD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$PG_STATE/cluster.json")
}

@test "db-check: --help prints the usage and exits 0" {
  run "$ROOT/bin/db-check" --help
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "Usage: bin/db-check"* ]]
}

@test "db-check: an unknown argument prints the usage and exits 2" {
  run "$ROOT/bin/db-check" --bogus
  [ "$status" -eq 2 ]
  [[ "$output" == *"Usage: bin/db-check"* ]]
}

@test "db-check: REGISTRY_DB empty is SQLite, nothing to check" {
  REGISTRY_DB='' run "$ROOT/bin/db-check"
  [ "$status" -eq 0 ]
  [[ "$output" == *"SQLite, nothing to check"* ]]
}

@test "db-check: a password in the URL is refused and not printed" {
  REGISTRY_DB='postgresql+psycopg2://me:Top-Secret-42@db.example.org:5432/reg' run "$ROOT/bin/db-check"
  [ "$status" -ne 0 ]
  [[ "$(flat)" == *"carries a password"* ]]
  [[ "$output" != *"Top-Secret-42"* ]]
}

@test "db-check: a bare postgresql:// URL is refused with the +psycopg2 fix" {
  REGISTRY_DB='postgresql://me@db.example.org:5432/reg' LSST_DB_AUTH=/nonexistent run "$ROOT/bin/db-check"
  [ "$status" -ne 0 ]
  [[ "$(flat)" == *"postgresql+psycopg2://me@db.example.org:5432/reg"* ]]
}

@test "db-check: the real cluster passes through the db-auth file, password never shown" {
  need_pg
  REGISTRY_DB=$DP02_PG_URL REGISTRY_NAMESPACE=bats_ns run "$ROOT/bin/db-check"
  [ "$status" -eq 0 ]
  [[ "$output" == *"ok: btree_gist"* ]]
  [[ "$output" == *"schema bats_ns does not exist yet"* ]]
  [[ "$output" != *"$PG_PASSWORD"* ]]
}

@test "db-check: a database without btree_gist gets the SQL to run" {
  need_pg
  REGISTRY_DB=$DP02_PG_URL_NO_GIST run "$ROOT/bin/db-check"
  [ "$status" -ne 0 ]
  [[ "$(flat)" == *"CREATE EXTENSION IF NOT EXISTS btree_gist;"* ]]
  [[ "$output" != *"$PG_PASSWORD"* ]]
}

@test "db-check: a db-auth file readable by others is refused" {
  need_pg
  cp "$LSST_DB_AUTH" "$BATS_TEST_TMPDIR/auth.yaml"
  chmod 644 "$BATS_TEST_TMPDIR/auth.yaml"
  REGISTRY_DB=$DP02_PG_URL LSST_DB_AUTH="$BATS_TEST_TMPDIR/auth.yaml" run "$ROOT/bin/db-check"
  [ "$status" -ne 0 ]
  [[ "$(flat)" == *"chmod 600"* ]]
  [[ "$output" != *"$PG_PASSWORD"* ]]
}
