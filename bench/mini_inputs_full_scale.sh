#!/usr/bin/env bash
# Benchmark: generate the miniature DP0.2 tree at the full DP0.2 raw layout
# (5 years x 3971 visits = 19,855 visits, header-only raw files) into a
# temporary directory, then print the elapsed seconds, the file count and the
# disk size. The temporary tree is removed at the end.
set -euo pipefail

usage() {
    echo "usage: $0 [--help] [--sensors \"R22_S11 R22_S12\"] [--python PYTHON] [--keep]"
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python="${here}/.venv/bin/python"
sensors="R22_S11 R22_S12"
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help)
            usage
            echo "Generates --years 5 --visits 3971 --pixels 0 with py/make_mini_inputs.py"
            echo "into a temporary directory and prints elapsed seconds and disk size."
            echo "  --sensors LIST  sensors per visit (default \"R22_S11 R22_S12\")"
            echo "  --python PATH   Python to run (default .venv/bin/python of the checkout)"
            echo "  --keep          keep the generated tree and print its path"
            exit 0 ;;
        --sensors) sensors="${2:?--sensors needs a value}"; shift 2 ;;
        --python) python="${2:?--python needs a value}"; shift 2 ;;
        --keep) keep=1; shift ;;
        *) usage >&2; echo "$0: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [[ ! -x "$python" ]]; then
    echo "$0: $python is not an executable Python; create the virtualenv (.venv) or pass --python." >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mini-bench.XXXXXX")
if [[ $keep -eq 0 ]]; then
    trap 'rm -rf "$work"' EXIT
fi

start=$(date +%s.%N)
"$python" "${here}/py/make_mini_inputs.py" --out "$work/dp0.2" --years 5 --visits 3971 \
    --pixels 0 --sensors "$sensors"
end=$(date +%s.%N)

elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
files=$(find "$work/dp0.2" -type f | wc -l)
disk=$(du -sh "$work/dp0.2" | cut -f1)
apparent=$(du -sh --apparent-size "$work/dp0.2" | cut -f1)
echo "elapsed_seconds=${elapsed} files=${files} disk=${disk} apparent=${apparent} cpus=$(nproc)"
if [[ $keep -eq 1 ]]; then
    echo "tree kept at $work/dp0.2"
fi
