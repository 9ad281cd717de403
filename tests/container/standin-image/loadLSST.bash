# shellcheck shell=bash
# loadLSST.bash of the stand-in LSST stack image (dp02-repo tests only, tests/container).
# Like the real one, sourcing it defines `setup`; `setup lsst_distrib` makes the butler
# commands appear: here the lite runtime's venv and the stack stand-ins
# (DAF_BUTLER_PLUGINS), instead of eups products.
LSST_STACK_STANDIN=${LSST_STACK_DIR:-/opt/lsst/software/stack}
export EUPS_PATH=$LSST_STACK_STANDIN/stack

setup() {
  if [[ "${1:-}" != lsst_distrib ]]; then
    printf 'setup: the stand-in stack has only lsst_distrib, not %s\n' "${1:-(nothing)}" >&2
    return 1
  fi
  export LSST_DISTRIB_DIR=$LSST_STACK_STANDIN/standins
  export PATH=$LSST_STACK_STANDIN/venv/bin:$PATH
  export DAF_BUTLER_PLUGINS=$LSST_STACK_STANDIN/standins/python/tests/stack_standins/resources.yaml
  export PYTHONPATH=$LSST_STACK_STANDIN/standins/python${PYTHONPATH:+:$PYTHONPATH}
  export STACK_CLI_DIR=$LSST_STACK_STANDIN/standins/stack-cli
}
