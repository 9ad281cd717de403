#!/usr/bin/env bats
# The container runtime (bin/container, bin/runtime, docker/entrypoint.sh), with recording
# doubles for docker, podman, apptainer and the stack's butler (tests/doubles/): the exact
# command lines, the mounts, the user, the env file, the db-auth file, no secret anywhere,
# DRY_RUN, the RUNTIME=auto decision and the entrypoint's stack check. No engine is run.

ROOT=$(cd "$(dirname "$BATS_TEST_FILENAME")/../.." && pwd)
PASSWORD='s3cret-Pw-9f2c'

setup() {
  T=$BATS_TEST_TMPDIR
  # Only the basic system commands the scripts use, never a real engine or butler; the
  # system's python3 (its standard library: py/url_credentials.py checks a URL for a
  # password without SQLAlchemy on a host that only runs the container).
  SYS=$T/sysbin
  mkdir -p "$SYS" "$T/bin" "$T/home" "$T/in/dp0.2/raw" "$T/mini"
  local c p
  for c in bash env sh dirname basename cat sed awk fold tr grep ls mktemp mv chmod mkdir \
    date git id stat cut rm head tail sort flock readlink wc true false uname; do
    p=$(command -v "$c") && ln -sf "$p" "$SYS/$c"
  done
  ln -sf /usr/bin/python3 "$SYS/python3"
  LOG=$T/argv.log
  : >"$LOG"
  IN=$T/in/dp0.2
  REPO=$T/out/repo
  STATE=$T/out/state
  cat >"$T/test.env" <<EOF
DP02_TOP=$IN
REPO=$REPO
STATE_DIR=$STATE
MINI_DIR=$T/mini
EOF
  ID="$(id -u):$(id -g)"
}

# Put doubles on the test PATH under their real names: use_doubles docker podman ...
use_doubles() {
  local d
  for d in "$@"; do ln -sf "$ROOT/tests/doubles/$d-double" "$T/bin/$d"; done
}

# Run a toolkit command in a clean environment: only the test PATH, HOME, the settings
# file and the variables given (NAME=value ...) before the command.
tk() {
  local vars=()
  while [[ $# -gt 0 && "$1" == *=* ]]; do vars+=("$1"); shift; done
  run env -i PATH="$T/bin:$SYS" HOME="$T/home" ENV_FILE="$T/test.env" \
    DOUBLE_ARGV_LOG="$LOG" "${vars[@]}" bash "$ROOT/$1" "${@:2}"
}

# The output with the line breaks of `fold -s` taken out (it wraps after a space).
joined() { printf '%s' "$output" | tr -d '\n'; }

# The recorded calls of one engine subcommand (e.g. "docker run").
recorded() { grep -E "^$1( |$)" "$LOG" || true; }

# Fail unless the secret is absent from every recorded argv, the output and the env file.
no_secret() {
  if grep -qF "$PASSWORD" "$LOG"; then echo "password in a recorded argv" >&2; return 1; fi
  if [[ "$output" == *"$PASSWORD"* ]]; then echo "password in the output" >&2; return 1; fi
  if [[ -f "$STATE/container.env" ]] && grep -qF "$PASSWORD" "$STATE/container.env"; then
    echo "password in the env file" >&2
    return 1
  fi
}

make_db_auth() {
  # A db-auth file with a password in it, mode 600, at $1.
  mkdir -p "$(dirname "$1")"
  printf -- '- url: postgresql://db.example:5432/dp02\n  username: dp02\n  password: %s\n' "$PASSWORD" >"$1"
  chmod 600 "$1"
}

PG=postgresql+psycopg2://dp02@db.example:5432/dp02

# ---------------------------------------------------------------- help

@test "every container script has a usage line and --help" {
  for s in bin/container bin/runtime docker/entrypoint.sh; do
    tk "$s" --help
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == Usage:* ]]
  done
}

# ---------------------------------------------------------------- build

@test "docker-build: tag from the stack tag and the git revision, STACK_IMAGE as build arg" {
  use_doubles docker
  rev=$(git -C "$ROOT" rev-parse --short HEAD)
  tk CONTAINER_BUILD_OPTS="--pull --label site=x" bin/container build
  [ "$status" -eq 0 ]
  [ "$(recorded 'docker build')" = "docker build --build-arg STACK_IMAGE=lsstsqre/centos:7-stack-lsst_distrib-v23_0_0 --build-arg DP02_REVISION=$rev -t dp02-repo:7-stack-lsst_distrib-v23_0_0-$rev --pull --label site=x -f $ROOT/Dockerfile $ROOT" ]
}

@test "docker-build: a current release image gives its tag; podman gets the registry named" {
  use_doubles podman
  rev=$(git -C "$ROOT" rev-parse --short HEAD)
  tk STACK_IMAGE=ghcr.io/lsst/scipipe:al9-w_2024_10 bin/container build
  [ "$status" -eq 0 ]
  [ "$(recorded 'podman build')" = "podman build --format docker --build-arg STACK_IMAGE=ghcr.io/lsst/scipipe:al9-w_2024_10 --build-arg DP02_REVISION=$rev -t dp02-repo:al9-w_2024_10-$rev -f $ROOT/Dockerfile $ROOT" ]
  : >"$LOG"
  tk IMAGE_TAG=site/dp02:mine bin/container build
  [[ "$(recorded 'podman build')" == "podman build --format docker --build-arg STACK_IMAGE=docker.io/lsstsqre/centos:7-stack-lsst_distrib-v23_0_0 "*" -t site/dp02:mine "* ]]
}

@test "docker-build with apptainer: pulls into STACK_SIF, or has nothing to build" {
  use_doubles apptainer
  tk bin/container build
  [ "$status" -eq 0 ]
  [ -z "$(recorded 'apptainer build')" ]
  [[ "$(joined)" == *"nothing to build"* ]]
  tk STACK_SIF="$T/stack.sif" bin/container build
  [ "$status" -eq 0 ]
  [ "$(recorded 'apptainer build')" = "apptainer build $T/stack.sif docker://lsstsqre/centos:7-stack-lsst_distrib-v23_0_0" ]
}

# ---------------------------------------------------------------- docker-repo, SQLite

@test "docker-repo (docker): exact command line; inputs read-only, outputs made on the host" {
  use_doubles docker
  tk IMAGE_TAG=dp02-repo:test bin/container repo
  [ "$status" -eq 0 ]
  [ "$(recorded 'docker image')" = "docker image inspect dp02-repo:test" ]
  [ "$(recorded 'docker run')" = "docker run --rm --user $ID --env-file $STATE/container.env -v $REPO:$REPO:rw -v $STATE:$STATE:rw -v $IN:$IN:ro dp02-repo:test make repo" ]
  [ -d "$REPO" ] && [ -d "$STATE" ]
  # The env file: the resolved settings, RUNTIME=host inside, no container settings.
  grep -qx "DP02_TOP=$IN" "$STATE/container.env"
  grep -qx "DP02_RAW=$IN/raw" "$STATE/container.env"
  grep -qx "REPO=$REPO" "$STATE/container.env"
  grep -qx "ENV_FILE=$STATE/container.env" "$STATE/container.env"
  grep -qx "DEFAULTS_CHAIN_CHILDREN=LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary" "$STATE/container.env"
  grep -qx "RUNTIME=host" "$STATE/container.env"
  [ "$(grep -cE '^(CONTAINER_ENGINE|STACK_IMAGE|IMAGE_TAG|CONTAINER_RUN_OPTS)=' "$STATE/container.env")" -eq 0 ]
}

@test "docker-repo (podman, root): same mounts; CONTAINER_RUN_OPTS word-split before the image" {
  use_doubles podman
  tk IMAGE_TAG=dp02-repo:test CONTAINER_RUN_OPTS="--security-opt label=disable --memory 8g" bin/container repo
  [ "$status" -eq 0 ]
  [ "$(recorded 'podman run')" = "podman run --rm --user $ID --env-file $STATE/container.env -v $REPO:$REPO:rw -v $STATE:$STATE:rw -v $IN:$IN:ro --security-opt label=disable --memory 8g dp02-repo:test make repo" ]
}

@test "docker-repo (rootless podman): --userns=keep-id with the host uid:gid" {
  use_doubles podman
  # shellcheck disable=SC2016 # a script for the double, not expanded here
  printf '#!/bin/sh\ncase "$1" in -u) echo 1234 ;; -g) echo 567 ;; esac\n' >"$T/bin/id"
  chmod +x "$T/bin/id"
  tk IMAGE_TAG=dp02-repo:test bin/container repo
  [ "$status" -eq 0 ]
  [[ "$(recorded 'podman run')" == "podman run --rm --userns=keep-id --user 1234:567 --env-file "* ]]
}

@test "docker-repo (apptainer): stock stack image, checkout bound read-only, entrypoint from it" {
  use_doubles apptainer
  tk bin/container repo
  [ "$status" -eq 0 ]
  [ "$(recorded 'apptainer exec')" = "apptainer exec --cleanenv --env-file $STATE/container.env --bind $ROOT:$ROOT:ro --bind $REPO:$REPO:rw --bind $STATE:$STATE:rw --bind $IN:$IN:ro --pwd $ROOT docker://lsstsqre/centos:7-stack-lsst_distrib-v23_0_0 bash $ROOT/docker/entrypoint.sh make repo" ]
  # Apptainer's env file is shell syntax: values quoted.
  grep -qx "DEFAULTS_CHAIN_CHILDREN='LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats 2.2i/truth_summary'" "$STATE/container.env"
  grep -qx "RUNTIME='host'" "$STATE/container.env"
}

@test "docker-repo (apptainer): a local STACK_SIF, which must exist" {
  use_doubles apptainer
  tk STACK_SIF="$T/stack.sif" bin/container repo
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"STACK_SIF=$T/stack.sif does not exist"* ]]
  [ -z "$(recorded 'apptainer exec')" ]
  touch "$T/stack.sif"
  tk STACK_SIF="$T/stack.sif" bin/container repo
  [ "$status" -eq 0 ]
  [[ "$(recorded 'apptainer exec')" == *" --pwd $ROOT $T/stack.sif bash $ROOT/docker/entrypoint.sh make repo" ]]
}

@test "docker-shell and in-container: interactive bash; any make targets" {
  use_doubles docker
  tk IMAGE_TAG=dp02-repo:test bin/container shell
  [ "$status" -eq 0 ]
  [ "$(recorded 'docker run')" = "docker run --rm -i -t --user $ID --env-file $STATE/container.env -v $REPO:$REPO:rw -v $STATE:$STATE:rw -v $IN:$IN:ro dp02-repo:test bash" ]
  : >"$LOG"
  tk IMAGE_TAG=dp02-repo:test bin/container run "status verify"
  [ "$status" -eq 0 ]
  [[ "$(recorded 'docker run')" == *" -v $IN:$IN:ro dp02-repo:test make status verify" ]]
  : >"$LOG"
  tk IMAGE_TAG=dp02-repo:test bin/container run ""
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"no target given"* ]]
  [ -z "$(recorded 'docker run')" ]
}

@test "inputs outside DP02_TOP get their own read-only mounts; nothing missing is mounted" {
  use_doubles docker
  mkdir -p "$T/elsewhere/refcats"
  tk IMAGE_TAG=dp02-repo:test DP02_REFCATS="$T/elsewhere/refcats" DP02_CALIB="$T/nowhere" bin/container repo
  [ "$status" -eq 0 ]
  [[ "$(recorded 'docker run')" == *" -v $IN:$IN:ro -v $T/elsewhere/refcats:$T/elsewhere/refcats:ro dp02-repo:test make repo" ]]
  [[ "$(recorded 'docker run')" != *nowhere* ]]
}

@test "the miniature tree is mounted read-write when it is to be made inside" {
  use_doubles docker
  tk IMAGE_TAG=dp02-repo:test bin/container run mini-inputs
  [ "$status" -eq 0 ]
  [[ "$(recorded 'docker run')" == *" -v $T/mini:$T/mini:rw "* ]]
  # DP02_TOP is MINI_DIR and the tree is missing: `make repo` makes it first.
  : >"$LOG"
  tk IMAGE_TAG=dp02-repo:test DP02_TOP="$T/mini" bin/container repo
  [[ "$(recorded 'docker run')" == *" -v $T/mini:$T/mini:rw "* ]]
  [[ "$(recorded 'docker run')" != *":ro "* ]]
  # Once it is there, it is an input like any other.
  touch "$T/mini/.dp02-mini-inputs.json"
  : >"$LOG"
  tk IMAGE_TAG=dp02-repo:test DP02_TOP="$T/mini" bin/container repo
  [[ "$(recorded 'docker run')" == *" -v $T/mini:$T/mini:ro dp02-repo:test make repo" ]]
}

@test "docker-repo refuses to run an image that was not built, and says how to build it" {
  use_doubles docker
  tk DOCKER_DOUBLE_IMAGE=1 IMAGE_TAG=dp02-repo:old bin/container repo
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"dp02-repo:old is not there"*"make docker-build"* ]]
  [ -z "$(recorded 'docker run')" ]
}

# ---------------------------------------------------------------- PostgreSQL and secrets

@test "PostgreSQL (docker): db-auth file read-only at LSST_DB_AUTH, host network, no secret" {
  use_doubles docker
  make_db_auth "$T/auth/db-auth.yaml"
  tk IMAGE_TAG=dp02-repo:test REGISTRY_DB="$PG" LSST_DB_AUTH="$T/auth/db-auth.yaml" bin/container repo
  [ "$status" -eq 0 ]
  A=$T/auth/db-auth.yaml
  [ "$(recorded 'docker run')" = "docker run --rm --user $ID --env-file $STATE/container.env -v $REPO:$REPO:rw -v $STATE:$STATE:rw -v $IN:$IN:ro -v $A:$A:ro -e LSST_DB_AUTH=$A --network host dp02-repo:test make repo" ]
  grep -qx "REGISTRY_DB=$PG" "$STATE/container.env"
  no_secret
}

@test "PostgreSQL (podman, apptainer): ~/.lsst/db-auth.yaml when LSST_DB_AUTH is unset; no secret" {
  use_doubles podman apptainer
  A=$T/home/.lsst/db-auth.yaml
  make_db_auth "$A"
  tk CONTAINER_ENGINE=podman IMAGE_TAG=dp02-repo:test REGISTRY_DB="$PG" bin/container repo
  [ "$status" -eq 0 ]
  [[ "$(recorded 'podman run')" == *" -v $A:$A:ro -e LSST_DB_AUTH=$A --network host dp02-repo:test make repo" ]]
  no_secret
  tk CONTAINER_ENGINE=apptainer DRY_RUN= REGISTRY_DB="$PG" bin/container repo
  [ "$status" -eq 0 ]
  # Apptainer shares the host network already: no network option.
  [[ "$(recorded 'apptainer exec')" == *" --bind $A:$A:ro --env LSST_DB_AUTH=$A --pwd $ROOT docker://"* ]]
  [[ "$(recorded 'apptainer exec')" != *network* ]]
  no_secret
  # The dry run shows the env file: still no secret.
  tk CONTAINER_ENGINE=apptainer DRY_RUN=1 REGISTRY_DB="$PG" bin/container repo
  [ "$status" -eq 0 ]
  no_secret
}

@test "SQLite: no host network and no db-auth mount, even with a db-auth file" {
  use_doubles docker
  make_db_auth "$T/home/.lsst/db-auth.yaml"
  tk IMAGE_TAG=dp02-repo:test LSST_DB_AUTH="$T/home/.lsst/db-auth.yaml" bin/container repo
  [ "$status" -eq 0 ]
  [[ "$(recorded 'docker run')" != *network* ]]
  [[ "$(recorded 'docker run')" != *db-auth* ]]
}

@test "a db-auth file readable by others, or a missing one, is refused before any run" {
  use_doubles docker
  make_db_auth "$T/auth/db-auth.yaml"
  chmod 644 "$T/auth/db-auth.yaml"
  tk IMAGE_TAG=dp02-repo:test REGISTRY_DB="$PG" LSST_DB_AUTH="$T/auth/db-auth.yaml" bin/container repo
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"chmod 600 $T/auth/db-auth.yaml"* ]]
  tk IMAGE_TAG=dp02-repo:test REGISTRY_DB="$PG" LSST_DB_AUTH="$T/auth/none.yaml" bin/container repo
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"LSST_DB_AUTH=$T/auth/none.yaml names no file"* ]]
  [ -z "$(recorded 'docker run')" ]
  no_secret
}

@test "a password in REGISTRY_DB is refused; it appears in no argv and no output" {
  use_doubles docker
  tk IMAGE_TAG=dp02-repo:test REGISTRY_DB="postgresql+psycopg2://dp02:$PASSWORD@db.example/dp02" bin/container repo
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"carries a password"* ]]
  [ -z "$(recorded 'docker run')" ]
  no_secret
}

# ---------------------------------------------------------------- DRY_RUN

@test "DRY_RUN=1 prints the complete command line and runs nothing (every engine)" {
  use_doubles docker podman apptainer
  for e in docker podman apptainer; do
    tk CONTAINER_ENGINE=$e IMAGE_TAG=dp02-repo:test DRY_RUN=1 bin/container repo
    [ "$status" -eq 0 ]
    [[ "$(joined)" == *"$e "*" --env-file $STATE/container.env "*" make repo"* ]]
  done
  tk DRY_RUN=1 bin/container build
  [ "$status" -eq 0 ]
  [[ "$(joined)" == *"docker build --build-arg STACK_IMAGE="* ]]
  # Only the engine probe ran; nothing was built, run or created.
  [ "$(grep -cvx 'docker info' "$LOG")" -eq 0 ]
  [ ! -e "$REPO" ] && [ ! -e "$STATE" ]
}

# ---------------------------------------------------------------- engine detection

@test "CONTAINER_ENGINE empty: docker (daemon up), then podman, then apptainer" {
  use_doubles docker podman apptainer
  tk bin/container engine
  [ "$output" = docker ]
  tk DOCKER_DOUBLE_INFO=1 bin/container engine
  [ "$output" = podman ]
  rm "$T/bin/podman"
  tk DOCKER_DOUBLE_INFO=1 bin/container engine
  [ "$output" = apptainer ]
  rm "$T/bin/apptainer" "$T/bin/docker"
  tk bin/container engine
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"no container engine found"* ]]
  tk CONTAINER_ENGINE=podman bin/container engine
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"the podman command is not on PATH"* ]]
  tk CONTAINER_ENGINE=lxc bin/container engine
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"docker, podman or apptainer"* ]]
}

# ---------------------------------------------------------------- RUNTIME

@test "RUNTIME=auto: the host stack when all its butler commands answer --help" {
  use_doubles butler docker podman apptainer
  tk DRY_RUN=1 bin/runtime
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = host ]
  [ ! -e "$STATE/.stack-probe" ]  # a dry run writes nothing
  rm "$T/bin/docker" "$T/bin/podman" "$T/bin/apptainer"
  tk bin/runtime
  [ "${lines[-1]}" = host ]
  # One `butler --help` lists the commands, each time (the dry run cached nothing).
  [ "$(grep -c -- '^butler --help$' "$LOG")" -eq 2 ]
}

@test "RUNTIME=auto: the stack probe is cached in STATE_DIR, keyed on butler and its plugins" {
  use_doubles butler
  tk bin/runtime
  [ "${lines[-1]}" = host ]
  [ "$(grep -c -- '^butler --help$' "$LOG")" -eq 1 ]
  tk bin/runtime
  [ "${lines[-1]}" = host ]
  [ "$(grep -c -- '^butler --help$' "$LOG")" -eq 1 ]  # answered from the cache
  tk DAF_BUTLER_PLUGINS=/other/resources.yaml bin/runtime
  [ "$(grep -c -- '^butler --help$' "$LOG")" -eq 2 ]  # another plugin set: probed again
}

@test "STACK_PROBE_CACHE: builds with other STATE_DIRs that share the file probe once" {
  use_doubles butler
  tk STACK_PROBE_CACHE="$T/shared/probe" STATE_DIR="$T/a" bin/runtime
  [ "${lines[-1]}" = host ]
  tk STACK_PROBE_CACHE="$T/shared/probe" STATE_DIR="$T/b" bin/runtime
  [ "${lines[-1]}" = host ]
  [ "$(grep -c -- '^butler --help$' "$LOG")" -eq 1 ]
  [ -f "$T/shared/probe" ] && [ ! -e "$T/a/.stack-probe" ] && [ ! -e "$T/b/.stack-probe" ]
  # The host's cache stays outside: the container probes in its own STATE_DIR.
  use_doubles podman
  tk STACK_PROBE_CACHE="$T/shared/probe" IMAGE_TAG=dp02-repo:test bin/container repo
  [ "$(grep -c '^STACK_PROBE_CACHE=' "$STATE/container.env")" -eq 0 ]
}

@test "RUNTIME=auto: a container when the host's butler lacks a stack command and an engine exists" {
  for engine in docker podman apptainer; do
    rm -f "$T/bin/"*
    use_doubles butler "$engine"
    tk BUTLER_DOUBLE_MISSING=ingest-raws bin/runtime
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = container ]
    [[ "$(joined)" == *"container ($engine)"*"butler lacks: ingest-raws"* ]]
  done
  # No butler at all (no stack, no lite runtime).
  rm -f "$T/bin/"*
  use_doubles podman
  tk bin/runtime
  [ "${lines[-1]}" = container ]
  # docker on PATH without a daemon does not count.
  rm -f "$T/bin/"*
  use_doubles docker butler
  tk DOCKER_DOUBLE_INFO=1 BUTLER_DOUBLE_MISSING="register-skymap define-visits" bin/runtime
  [ "$status" -eq 5 ]
}

@test "RUNTIME=auto: no stack and no engine stops with the three ways, and make test needs none" {
  use_doubles butler
  for missing in "write-curated-calibrations register-skymap ingest-raws define-visits" define-visits; do
    tk BUTLER_DOUBLE_MISSING="$missing" bin/runtime
    [ "$status" -eq 5 ]
    [ "$(printf '%s\n' "$output" | grep -cx -e host -e container -e lite)" -eq 0 ]
    flat=$(joined)
    [[ "$flat" == *"setup lsst_distrib"* ]]
    [[ "$flat" == *"Docker or Podman"* ]]
    [[ "$flat" == *"Apptainer"* ]]
    [[ "$flat" == *"'make test' needs none of them"* ]]
  done
  rm "$T/bin/butler"
  tk bin/runtime
  [ "$status" -eq 5 ]
}

@test "RUNTIME=host, lite, container and a wrong value" {
  tk RUNTIME=host bin/runtime
  [ "$output" = host ]
  tk RUNTIME=lite bin/runtime
  [ "$output" = lite ]
  tk RUNTIME=container bin/runtime
  [ "$status" -eq 5 ]
  [[ "$(joined)" == *"RUNTIME=container, but no container engine"* ]]
  use_doubles apptainer
  tk RUNTIME=container bin/runtime
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = container ]
  tk RUNTIME=docker bin/runtime
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"RUNTIME=docker is not one of auto, host, container, lite"* ]]
  # No butler probe for an explicit RUNTIME.
  [ -z "$(recorded butler)" ]
}

# ---------------------------------------------------------------- entrypoint

# A stand-in for /opt/lsst/software/stack: loadLSST.bash defines `setup`, which puts the
# butler double on PATH for lsst_distrib.
fake_stack() {
  mkdir -p "$T/stack/bin"
  ln -sf "$ROOT/tests/doubles/butler-double" "$T/stack/bin/butler"
  cat >"$T/stack/loadLSST.bash" <<EOF
setup() {
  [ "\$1" = lsst_distrib ] || return 1
  export PATH="$T/stack/bin:\$PATH" SETUP_LSST_DISTRIB=yes
}
EOF
}

@test "entrypoint: all stack commands present: execs its arguments with the stack set up" {
  fake_stack
  # shellcheck disable=SC2016 # expanded by the bash the entrypoint execs
  tk LSST_STACK_DIR="$T/stack" docker/entrypoint.sh bash -c 'echo "args=$0 $1 setup=$SETUP_LSST_DISTRIB runtime=$RUNTIME"; echo "venv=$VENV"' one two
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "args=one two setup=yes runtime=host" ]
  [[ "${lines[1]}" != "venv=.venv" ]]
  [ "$(grep -c '^butler --help$' "$LOG")" -eq 1 ]
}

@test "entrypoint: a missing stack command: one clear paragraph, non-zero, nothing run" {
  fake_stack
  tk LSST_STACK_DIR="$T/stack" BUTLER_DOUBLE_MISSING="register-skymap define-visits" docker/entrypoint.sh touch "$T/ran"
  [ "$status" -ne 0 ]
  [ ! -e "$T/ran" ]
  flat=$(joined)
  [[ "$flat" == "entrypoint: error: "*"lacks the butler command(s): register-skymap define-visits"*"pipe_tasks"*"make docker-build"* ]]
}

@test "entrypoint: no stack, or a stack without lsst_distrib: clear message, non-zero" {
  tk LSST_STACK_DIR="$T/nostack" docker/entrypoint.sh true
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"$T/nostack/loadLSST.bash does not exist"* ]]
  mkdir -p "$T/stack2"
  echo 'setup() { echo "setup: Product lsst_distrib not found" >&2; return 1; }' >"$T/stack2/loadLSST.bash"
  tk LSST_STACK_DIR="$T/stack2" docker/entrypoint.sh true
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"activating the stack failed (exit 1)"* ]]
  tk LSST_STACK_DIR="$T/stack2" docker/entrypoint.sh
  [ "$status" -eq 2 ]
}

# ---------------------------------------------------------------- the image recipe

# shellcheck disable=SC2016 # the Dockerfile's own ${...}, matched literally
@test "Dockerfile: v23 by default, toolkit only, non-root, entrypoint, make repo" {
  D=$ROOT/Dockerfile
  grep -qx 'ARG STACK_IMAGE=lsstsqre/centos:7-stack-lsst_distrib-v23_0_0' "$D"
  grep -qx 'FROM ${STACK_IMAGE}' "$D"
  [ "$(grep '^USER ' "$D" | tail -n 1)" = 'USER ${DP02_UID}:${DP02_GID}' ]
  grep -qx 'ARG DP02_UID=1000' "$D"
  grep -q '^ENV HOME=/tmp' "$D"
  grep -qx 'ENTRYPOINT \["/bin/bash", "/opt/dp02-repo/docker/entrypoint.sh"\]' "$D"
  grep -qx 'CMD \["make", "repo"\]' "$D"
  grep -qx 'WORKDIR /opt/dp02-repo' "$D"
  # What goes in: the toolkit; what stays out: tests, the venv, git, local inputs/outputs.
  [ "$(grep -c '^COPY ' "$D")" -eq 6 ]
  [ "$(grep '^COPY ' "$D" | grep -c -e tests -e venv)" -eq 0 ]
  I=$ROOT/.dockerignore
  [ "$(head -n 3 "$I" | grep -cx '\*')" -eq 1 ]
  [ "$(grep '^!' "$I" | sort | tr '\n' ' ')" = '!Makefile !bin/ !docker/ !etc/ !mk/ !py/ ' ]
}

# ---------------------------------------------------------------- REPO_CONTAINER=yes

@test "REPO_CONTAINER=yes: exec runs one command in the image, same mounts; the flag stays outside" {
  use_doubles podman
  tk REPO_CONTAINER=yes IMAGE_TAG=dp02-repo:test bin/container exec butler ingest-raws --help
  [ "$status" -eq 0 ]
  [ "$(recorded 'podman run')" = "podman run --rm --user $ID --env-file $STATE/container.env -v $REPO:$REPO:rw -v $STATE:$STATE:rw -v $IN:$IN:ro dp02-repo:test butler ingest-raws --help" ]
  # Inside, the toolkit is not told to go into a container again.
  [ "$(grep -c '^REPO_CONTAINER=' "$STATE/container.env")" -eq 0 ]
  tk bin/container exec
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"no command given"* ]]
}

@test "REPO_CONTAINER=yes: stack commands go through bin/container exec, daf_butler's do not" {
  tk DRY_RUN=1 REPO_CONTAINER=yes bin/visits
  [ "$status" -eq 0 ]
  [[ "$output" == *"$ROOT/bin/container exec butler define-visits "* ]]
  tk DRY_RUN=1 REPO_CONTAINER=yes bin/create
  [ "$status" -eq 0 ]
  printf '%s\n' "${lines[@]}" | grep -q '^butler create '
  [[ "$output" != *"container exec"* ]]
  # Without it, the stack command runs on the host.
  tk DRY_RUN=1 bin/visits
  printf '%s\n' "${lines[@]}" | grep -q '^butler define-visits '
}

@test "REPO_CONTAINER=yes: make runs here (no stack probe); needs an engine; not with RUNTIME=container" {
  tk REPO_CONTAINER=yes bin/runtime
  [ "$status" -eq 5 ]
  [[ "$(joined)" == *"REPO_CONTAINER=yes, but no container engine"* ]]
  use_doubles podman
  tk REPO_CONTAINER=yes bin/runtime
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = host ]
  [[ "$(joined)" == *"each stack command in the container (podman)"* ]]
  [ -z "$(recorded butler)" ]
  tk REPO_CONTAINER=yes RUNTIME=container bin/runtime
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"REPO_CONTAINER=yes and RUNTIME=container contradict each other"* ]]
  tk REPO_CONTAINER=maybe bin/runtime
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"REPO_CONTAINER=maybe is not one of yes, no"* ]]
}

@test "REPO_CONTAINER=yes: ready says what to build when the image or the .sif is missing" {
  use_doubles podman
  tk IMAGE_TAG=dp02-repo:test bin/container ready
  [ "$status" -eq 0 ]
  tk PODMAN_DOUBLE_IMAGE=1 IMAGE_TAG=dp02-repo:old bin/container ready
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"dp02-repo:old is not there"*"make docker-build"* ]]
  use_doubles apptainer
  tk CONTAINER_ENGINE=apptainer STACK_SIF="$T/none.sif" bin/container ready
  [ "$status" -ne 0 ]
  [[ "$(joined)" == *"STACK_SIF=$T/none.sif does not exist"* ]]
  [ -z "$(recorded 'podman run')$(recorded 'apptainer exec')" ]
}
