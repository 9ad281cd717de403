#!/usr/bin/env bash
# entrypoint.sh: the container's entrypoint. Activates the LSST stack, checks that the four
# stack commands the build needs exist, then runs its arguments (default: make repo).
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: docker/entrypoint.sh COMMAND [ARGS...]
  Activates the LSST stack (source $LSST_STACK_DIR/loadLSST.bash && setup lsst_distrib),
  checks that butler write-curated-calibrations, register-skymap, ingest-raws and
  define-visits exist, then execs COMMAND (the image's default: make repo).
  LSST_STACK_DIR  the stack's directory (default /opt/lsst/software/stack)
TXT
}

die() {
  printf 'entrypoint: error: %s\n' "$*" | fold -s -w 100 >&2
  exit "${DP02_ENTRYPOINT_STATUS:-3}"
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac

LSST_STACK_DIR=${LSST_STACK_DIR:-/opt/lsst/software/stack}
# A lite runtime (.venv) of a bound host checkout (Apptainer) must not shadow the stack.
export VENV=${DP02_CONTAINER_VENV:-/nonexistent/dp02-lite-venv}
# Make decides nothing again inside: the container is the stack (also for Apptainer's
# stock image, which lacks the Dockerfile's DP02_IN_CONTAINER).
export RUNTIME=host DP02_IN_CONTAINER=1
# Any uid may run the image (docker run --user uid:gid): HOME must be writable.
if [[ -z "${HOME:-}" || ! -w "${HOME:-/nonexistent}" ]]; then export HOME=/tmp; fi

[[ -r "$LSST_STACK_DIR/loadLSST.bash" ]] || die "the LSST stack is not in this image: $LSST_STACK_DIR/loadLSST.bash does not exist. Build the image FROM an LSST stack image (STACK_IMAGE, e.g. lsstsqre/centos:7-stack-lsst_distrib-v23_0_0 or ghcr.io/lsst/scipipe:al9-<tag>), or set LSST_STACK_DIR to where the stack is installed in it."

# loadLSST.bash and eups read unset variables and return non-zero from inner commands.
set +eu
# shellcheck source=/dev/null
source "$LSST_STACK_DIR/loadLSST.bash"
status=$?
if ((status == 0)); then
  setup lsst_distrib
  status=$?
fi
set -eu
((status == 0)) || die "activating the stack failed (exit $status): 'source $LSST_STACK_DIR/loadLSST.bash && setup lsst_distrib'. The image's stack is incomplete or not lsst_distrib; the output above says which part. Use a release image that contains lsst_distrib as STACK_IMAGE and rebuild (make docker-build)."

command -v butler >/dev/null 2>&1 || die "the butler command is not on PATH after 'setup lsst_distrib' in $LSST_STACK_DIR. The image's stack has no daf_butler: use a release image of lsst_distrib as STACK_IMAGE and rebuild (make docker-build)."

# A plugin that fails to import only logs a warning, so `butler --help` exiting 0 proves
# nothing (REFERENCE section 2); but such a command is left out of its list, so the list
# answers for each command, for one Python start (bin/lib/dp02.sh dp02_stack_missing).
listed=" $({ butler --help 2>/dev/null || true; } |
  awk '/^Commands:/ {on = 1; next} on && /^  [a-z][a-z0-9-]*( |$)/ {print $1}' | tr '\n' ' ')"
missing=()
for cmd in write-curated-calibrations register-skymap ingest-raws define-visits; do
  [[ "$listed" == *" $cmd "* ]] || missing+=("$cmd")
done
if ((${#missing[@]})); then
  die "the stack in $LSST_STACK_DIR lacks the butler command(s): ${missing[*]}. They come from obs_base (write-curated-calibrations, ingest-raws, define-visits) and pipe_tasks (register-skymap), which 'setup lsst_distrib' puts on DAF_BUTLER_PLUGINS; run 'butler ${missing[0]} --help' in 'make docker-shell' to see the import error. Use a complete lsst_distrib release image as STACK_IMAGE and rebuild (make docker-build)."
fi

exec "$@"
