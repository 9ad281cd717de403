#!/usr/bin/env bash
# check_inputs_full_scale.sh: time check-inputs on a tree with the full DP0.2 layout.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: bench/check_inputs_full_scale.sh [-h | --help] [TREE]
Time the check-inputs preflight on an input tree with the full DP0.2 layout: 5 years x 3971
visit directories (19,855, each with an _index.json and 189 raw files without pixels: 3.75
million raws), the refcat trixels those visits touch, calibrations and the sky map config.
The tree is made with
  py/make_mini_inputs.py --out TREE --years 5 --visits 3971 --pixels 0
(two sensors a visit), then each visit directory is filled to the 189 science sensors with
hard links to its first raw (3.75 million names on 39,710 inodes: some 300 MB, about three
minutes), into a temporary directory (removed afterwards), or TREE is reused when it already
holds such a tree (kept). check-inputs runs twice, cold-ish (just after the tree was written
or first touched) and warm, with --jobs JOBS, and the seconds of each run are printed. Every
raw is stat'ed and access'ed; astropy opens FITS_SAMPLE of them (header-only files here).
Not a test: it does not fail on a slow run.
Environment: PYTHON (default: .venv/bin/python when present, else python3), JOBS (default
1), FITS_SAMPLE (default 200).
TXT
}

for a in "$@"; do
  case "$a" in -h | --help) usage; exit 0 ;; esac
done
[[ $# -le 1 ]] || { usage >&2; exit 2; }

HOME_DIR=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$HOME_DIR/.venv/bin/python" ]]; then PYTHON="$HOME_DIR/.venv/bin/python"; else PYTHON=python3; fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dp02-bench.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

if [[ $# -eq 1 ]]; then
  TREE=$1
else
  TREE="$WORK/dp0.2"
fi
if [[ ! -f "$TREE/.dp02-mini-inputs.json" ]]; then
  [[ ! -e "$TREE" ]] || { echo "bench: $TREE exists and is not a mini-inputs tree" >&2; exit 2; }
  echo "bench: writing the full-scale tree into $TREE ..." >&2
  t0=$(date +%s.%N)
  "$PYTHON" "$HOME_DIR/py/make_mini_inputs.py" --out "$TREE" --years 5 --visits 3971 --pixels 0 >&2
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "bench: tree written in %.1f s\n", b - a}' >&2
  echo "bench: filling every visit directory to 189 raws with hard links ..." >&2
  "$PYTHON" - "$TREE/raw" <<'PY' >&2
import os, sys
rafts = [f"R{a}{b}" for a in range(5) for b in range(5) if (a, b) not in ((0, 0), (0, 4), (4, 0), (4, 4))]
sensors = [f"{r}_S{x}{y}" for r in rafts for x in range(3) for y in range(3)]
links = 0
for year in sorted(os.listdir(sys.argv[1])):
    for visit in os.listdir(os.path.join(sys.argv[1], year)):
        vdir = os.path.join(sys.argv[1], year, visit)
        first = sorted(f for f in os.listdir(vdir) if f.startswith("lsst_a_"))[0]
        _l, _a, number, _r, _s, band = first.split("_")
        for sensor in sensors:
            path = os.path.join(vdir, f"lsst_a_{number}_{sensor}_{band}")
            if not os.path.exists(path):
                os.link(os.path.join(vdir, first), path)
                links += 1
print(f"bench: {links} hard links added ({len(sensors)} raws a visit)")
PY
fi
TREE=$(cd "$TREE" && pwd)

run_once() {
  local label=$1 t0 t1 status=0
  t0=$(date +%s.%N)
  "$PYTHON" "$HOME_DIR/py/check_inputs.py" --quiet \
    --raw "$TREE/raw" --calib "$TREE/calib" --refcats "$TREE/refcats" \
    --skymap-dir "$TREE/skymaps" --skymap-config "$TREE/skymaps/DC2.py" \
    --raw-years "y1-wfd y2-wfd y3-wfd y4-wfd y5-wfd" --visit-list "$TREE/visits.txt" \
    --expected-visits 19855 --jobs "${JOBS:-1}" --fits-sample "${FITS_SAMPLE:-200}" \
    --repo "$WORK/repo" --state-dir "$WORK/repo-state" \
    --report "$WORK/repo-state/reports/check-inputs.json" || status=$?
  t1=$(date +%s.%N)
  awk -v l="$label" -v a="$t0" -v b="$t1" -v s="$status" \
    'BEGIN {printf "check-inputs %-5s %6.2f s (exit %s)\n", l, b - a, s}'
}

echo "bench: $(nproc) cores, tree $TREE: $(find "$TREE/raw" -mindepth 2 -maxdepth 2 -type d | wc -l) visit directories, $(find "$TREE/refcats/cal_ref_cat" -type f | wc -l) refcat files" >&2
run_once cold
run_once warm
"$PYTHON" - "$WORK/repo-state/reports/check-inputs.json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
f = d["figures"]
print(f"bench: report: {d['errors']} error(s), {d['warnings']} warning(s), "
      f"{f.get('visit_dirs')} visit dirs, {f.get('raw_files')} raws "
      f"({f.get('raw_files_opened_by_astropy')} opened by astropy), "
      f"{f.get('refcat_files')} refcats, JOBS={d['inputs'].get('JOBS')}")
PY
