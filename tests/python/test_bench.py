"""bench/: every benchmark is run by bench/run (make bench) or named there as left out, and
each answers --help (figures are not tested: benchmarks are not timed tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
#: Modules of bench/ that are not benchmarks themselves.
HELPERS = {"standin_build.py"}


def test_bench_run_lists_every_benchmark() -> None:
    usage = subprocess.run([str(BENCH / "run"), "--help"], capture_output=True, text=True,
                           check=True).stdout
    run_names = set(re.search(r"NAME: one of\s+([^;]+);", usage).group(1).split())
    left_out = set(re.findall(r"bench/([a-z_]+\.(?:sh|py))", usage)) - HELPERS
    scripts = {p.name for p in BENCH.iterdir() if p.suffix in (".py", ".sh")} - HELPERS
    assert {s for s in scripts if Path(s).stem not in run_names} == left_out, usage
    assert {Path(s).stem for s in scripts} >= run_names


def test_benchmarks_answer_help() -> None:
    for script in sorted(BENCH.glob("*.py")):
        if script.name in HELPERS:
            continue
        env = {"PYTHONPATH": f"{ROOT / 'tests'}:{BENCH}", "PATH": "/usr/bin:/bin"}
        result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                                text=True, check=False, env=env)
        assert result.returncode == 0 and "usage:" in result.stdout, (script.name, result.stderr)
