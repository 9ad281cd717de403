#!/usr/bin/env bash
# settings_load.sh: forks and time of resolving the settings (issue 16, goal 5).
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: bench/settings_load.sh [-h | --help] [RUNS]
Counts the processes forked while the settings are resolved, with strace -f: once by
bin/config (what make runs, one process per make invocation) and once by a bin/ script's
own load (dp02_load_config, the sourced library), and times RUNS (default 20) loads of each.
Goal: one process per make invocation and per script, no fork per setting (before: about
57 forks per load, make loading 4 times). Not a test: prints the figures, exits 0.
TXT
}

forks() {
  # Processes forked by the command "$@" (clone/fork/vfork calls that returned a pid).
  local trace
  trace=$(mktemp)
  strace -f -qq -e trace=clone,clone3,fork,vfork -e signal=none -o "$trace" "$@" >/dev/null 2>&1 || true
  grep -cE '(clone|clone3|fork|vfork)\(.*= [1-9][0-9]*$' "$trace" || true
  rm -f "$trace"
}

per_load_ms() {
  # Milliseconds per run of "$2..." over $1 runs.
  local runs=$1 t0 t1 i
  shift
  t0=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$@" >/dev/null; done
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v n="$runs" 'BEGIN {printf "%.1f", (b - a) / n / 1e6}'
}

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; esac
  local runs=${1:-20} here script_load make_load empty
  here=$(cd "$(dirname "$0")/.." && pwd)
  cd "$here"
  export ENV_FILE=/nonexistent
  script_load=(bash -c 'source bin/lib/dp02.sh && dp02_load_config')
  make_load=(bin/config make STAMPS RAW_YEARS DP02_TOP MINI_DIR)
  echo "settings_load (bash ${BASH_VERSION}, $(make --version | head -n 1)):"
  if command -v strace >/dev/null; then
    printf '  make (bin/config make): %s forks per load\n' "$(forks "${make_load[@]}")"
    printf '  a script (dp02_load_config): %s forks per load\n' "$(forks "${script_load[@]}")"
    empty=$(mktemp -d)
    printf '  make -q repo on an empty STATE_DIR (every load make does, and its stamp checks): %s forks\n' \
      "$(STATE_DIR=$empty forks make -q repo)"
    rm -rf "$empty"
  else
    echo "  strace not found: forks not counted"
  fi
  printf '  time per load: make %s ms, a script %s ms (mean of %s runs)\n' \
    "$(per_load_ms "$runs" "${make_load[@]}")" "$(per_load_ms "$runs" "${script_load[@]}")" "$runs"
  echo "  anchor: 1 process per make invocation and per script, no fork per setting (before: ~57 forks per load)"
}

main "$@"
