#!/usr/bin/env bash
# raws_slurm_rate.sh: the raw ingest rate of `make raws SCHEDULER=slurm` on a single-node
# Slurm cluster, per array task and in total.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: bench/raws_slurm_rate.sh [-h | --help] [VISITS [CHUNK_VISITS [SENSORS]]]
Starts a throwaway PostgreSQL cluster (tests/pgcluster.py) and a single-node Slurm cluster
(tests/slurmcluster.py, as root), writes a miniature tree of one year with VISITS visits
(default 24) of SENSORS sensors each (default 9: raft R22), builds the repository up to
refcats on this host, then times `make raws SCHEDULER=slurm CHUNK_VISITS=...` (default 4,
SLURM_CPUS=1). Prints the raws per second of each task (its raws / the duration in its
result file) and in total (all raws / the wall time of make raws, which includes Slurm's
scheduling and the final registry check). Runs on the lite runtime (.venv) with the
ingest-raws stand-in of tests/stack_standins, so the figure is the toolkit's and Slurm's
overhead plus the stand-in's ingest, not obs_base's. Not a test: it never fails on a slow run.
Environment: DP02_SLURM_POLL (seconds between squeue polls, default 1 here).
TXT
}

for a in "$@"; do
  case "$a" in -h | --help) usage; exit 0 ;; esac
done
[[ $# -le 3 ]] || { usage >&2; exit 2; }
VISITS=${1:-24}
CHUNK=${2:-4}
NSENS=${3:-9}

HOME_DIR=$(cd "$(dirname "$0")/.." && pwd)
VENV="$HOME_DIR/.venv"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dp02-bench-slurm.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

sensors=$(for s in S00 S01 S02 S10 S11 S12 S20 S21 S22; do printf 'R22_%s ' "$s"; done | cut -d' ' -f1-"$NSENS")
echo "bench: tree of 1 year x $VISITS visits x $NSENS sensors in $WORK" >&2
"$VENV/bin/python" "$HOME_DIR/py/make_mini_inputs.py" --out "$WORK/dp0.2" --years 1 \
  --visits "$VISITS" --sensors "$sensors" --formatters lite >/dev/null

# The run inside both clusters: DP02_PG_URL and LSST_DB_AUTH from pgcluster, SLURM_CONF
# from slurmcluster.
cat >"$WORK/inner.sh" <<'INNER'
set -euo pipefail
cd "$DP02_HOME"
export PATH="$DP02_HOME/tests/doubles:$VENV/bin:$PATH" BUTLER_DOUBLE_REAL="$VENV/bin/butler"
export DAF_BUTLER_PLUGINS="$DP02_HOME/tests/stack_standins/resources.yaml"
export PYTHONPATH="$DP02_HOME:$DP02_HOME/py" ENV_FILE="$WORK/no.env" PROFILE=mini RUNTIME=host
export DP02_TOP="$WORK/dp0.2" MINI_DIR="$WORK/dp0.2" REPO="$WORK/repo" STATE_DIR="$WORK/repo-state"
export RAW_YEARS=y1-wfd INSTRUMENT_CLASS=tests.stack_standins.instrument.MiniLsstCamImSim
export REFCAT_FORMATTER=lsst.daf.butler.formatters.astropyTable.AstropyTableFormatter
export REGISTRY_DB="$DP02_PG_URL" REGISTRY_NAMESPACE=bench
make -s VENV=/nonexistent refcats >/dev/null 2>&1
t0=$(date +%s.%N)
make VENV=/nonexistent raws SCHEDULER=slurm CHUNK_VISITS="$CHUNK" SLURM_CPUS=1 SLURM_MEM=500M \
  SLURM_TIME=30:00 DP02_SLURM_POLL="${DP02_SLURM_POLL:-1}" 2>&1 | sed 's/^/  make: /' >&2
t1=$(date +%s.%N)
files=$(find "$WORK/dp0.2/raw/y1-wfd" -name '*.fits' | wc -l)
ntasks=$(find "$STATE_DIR/slurm/raws-y1-wfd/results" -name '*.done' | wc -l)
echo "tasks: $ntasks of $CHUNK visits ($((CHUNK * $(echo "$SENSORS" | wc -w))) raws each), $(nproc) CPUs, 1 CPU per task"
for f in "$STATE_DIR"/slurm/raws-y1-wfd/results/*.done; do
  chunk=$(basename "$f" .done)
  n=$(while read -r d; do find "$d" -name '*.fits'; done <"$STATE_DIR/slurm/raws-y1-wfd/chunks/$chunk.txt" | wc -l)
  d=$(sed -n 's/^duration_s: //p' "$f")
  awk -v c="$chunk" -v n="$n" -v d="$d" 'BEGIN {printf "task %s: %d raws in %.1f s: %.2f raws/s\n", c, n, d, n / d}'
done
awk -v n="$files" -v a="$t0" -v b="$t1" 'BEGIN {printf "total: %d raws in %.1f s (make raws wall time): %.2f raws/s\n", n, b - a, n / (b - a)}'
INNER
export DP02_HOME=$HOME_DIR VENV WORK CHUNK SENSORS=$sensors
mkdir -p "$WORK/pg"
"$VENV/bin/python" "$HOME_DIR/tests/pgcluster.py" run --dir "$WORK/pg" -- \
  "$VENV/bin/python" "$HOME_DIR/tests/slurmcluster.py" run -- bash "$WORK/inner.sh"
