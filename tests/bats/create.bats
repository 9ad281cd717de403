#!/usr/bin/env bats
# bin/create: the seed config and the exact `butler create` call, refusals, dry run.

load helpers

setup() { common_setup; }

@test "create: --help prints the usage line" {
  run "$ROOT/bin/create" --help
  [ "$status" -eq 0 ]
  [[ "$output" == Usage:* ]]
}

@test "create: runs butler create with the generated SQLite seed and writes the stamp" {
  run "$ROOT/bin/create"
  [ "$status" -eq 0 ]
  [[ "$output" == *"[2/"*"] create ... done in "* ]]
  [ "$(calls)" = "$(log_file_opt create) create --seed-config $STATE/butler-seed.yaml --override $REPO" ]
  grep -q 'cls: lsst.daf.butler.datastores.fileDatastore.FileDatastore' "$STATE/butler-seed.yaml"
  run ! grep -q '^registry:' "$STATE/butler-seed.yaml"
  [ -f "$STATE/stamps/create.done" ]
  grep -q '^end: ' "$STATE/stamps/create.done"
  grep -q "^  - butler --log-file .* create --seed-config" "$STATE/stamps/create.done"
}

@test "create: PostgreSQL seed with namespace; db-check runs first" {
  # A db-check stand-in for this test only: the real one needs a server.
  mkdir -p fakehome/bin
  cp -r "$ROOT/bin/lib" "$ROOT/bin/create" fakehome/bin/
  printf '#!/bin/sh\necho db-check-called >>"%s"\n' "$BATS_TEST_TMPDIR/dbcheck.log" >fakehome/bin/db-check
  chmod +x fakehome/bin/db-check
  mkdir -p fakehome/py fakehome/etc
  cp "$ROOT"/py/*.py fakehome/py/
  cp "$ROOT"/etc/* fakehome/etc/
  REGISTRY_DB="postgresql+psycopg2://dp02@127.0.0.1:5432/dp02" REGISTRY_NAMESPACE=dp02_test \
    run fakehome/bin/create
  [ "$status" -eq 0 ]
  grep -q db-check-called "$BATS_TEST_TMPDIR/dbcheck.log"
  grep -q '^  db: postgresql+psycopg2://dp02@127.0.0.1:5432/dp02$' "$STATE/butler-seed.yaml"
  grep -q '^  namespace: dp02_test$' "$STATE/butler-seed.yaml"
}

@test "create: a URL with a password is refused and the password appears nowhere" {
  REGISTRY_DB="postgresql+psycopg2://dp02:s3cretPW@127.0.0.1:5432/dp02" run "$ROOT/bin/create"
  [ "$status" -ne 0 ]
  [[ "$output" == *REGISTRY_DB* ]]
  [[ "$output" != *s3cretPW* ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  run ! grep -rq s3cretPW "$BATS_TEST_TMPDIR" --exclude=test.env
}

@test "create: a bare postgresql:// or another database is refused, naming REGISTRY_DB" {
  REGISTRY_DB="mysql://dp02@127.0.0.1/dp02" run "$ROOT/bin/create"
  [ "$status" -ne 0 ]
  [[ "$output" == *"REGISTRY_DB=mysql://dp02@127.0.0.1/dp02"* ]]
  REGISTRY_DB="postgresql://dp02@127.0.0.1/dp02" run "$ROOT/bin/create"
  [ "$status" -ne 0 ]
  [[ "$output" == *"REGISTRY_DB=postgresql://dp02@127.0.0.1/dp02"*"postgresql+psycopg2://"* ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
}

@test "create: a failing butler leaves no stamp, and a log holding its error" {
  export BUTLER_DOUBLE_FAIL=create
  run "$ROOT/bin/create"
  [ "$status" -ne 0 ]
  [ ! -e "$STATE/stamps/create.done" ]
  grep -q "simulated failure of 'create'" "$STATE/logs/create.log"
  grep -q '^# step create FAILED' "$STATE/logs/create.log"
  [[ "$output" == *"create ... FAILED"*"$STATE/logs/create.log"* ]]
}

@test "create: DRY_RUN prints the command and changes nothing on disk" {
  DRY_RUN=1 run "$ROOT/bin/create"
  [ "$status" -eq 0 ]
  [[ "$output" == *"butler create --seed-config $STATE/butler-seed.yaml --override $REPO"* ]]
  [ ! -s "$BUTLER_DOUBLE_LOG" ]
  [ ! -e "$STATE" ]
  [ ! -e "$REPO" ]
}

@test "create: nothing to do on an existing repository" {
  use_empty_repo
  run "$ROOT/bin/create"
  [ "$status" -eq 0 ]
  [[ "$output" == *"create ... already done"* ]]
  [ -z "$(calls)" ]
  [ -f "$STATE/stamps/create.done" ]
}

@test "create: a half-made repository (butler.yaml, no schema) stops with how to clean up" {
  mkdir -p "$REPO"
  printf 'registry:\n  db: sqlite:///%s/nope/gen3.sqlite3\n' "$REPO" >"$REPO/butler.yaml"
  run "$ROOT/bin/create"
  [ "$status" -ne 0 ]
  [[ "$output" == *"failed part way"* ]]
  [[ "$output" == *"rm -r $REPO"* ]]
  [ -z "$(calls)" ]
  [ ! -e "$STATE/stamps/create.done" ]
}
