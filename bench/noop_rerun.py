"""Benchmark (issue 16, goal 1): ``make repo`` with nothing left to do, default settings.

After a complete miniature build, ``make repo`` again with the default ``RUNTIME=auto``,
and side by side (alternating, same machine, same minute) with ``RUNTIME=host``; the median
of RUNS each. One more run under ``strace -f -e trace=execve`` counts the processes it
starts, and how many of them are Python or butler. Goal: <= 0.5 s and 0 Python or butler
processes. Not a test: prints the figures, the anchor and the ratio, exits 0 whatever they
are. Run with PYTHONPATH=tests:bench (bench/run sets it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import demo
import standin_build

GOAL_S = 0.5


def exec_counts(env: dict[str, str], workdir: Path) -> tuple[int, int]:
    """(processes started, of which Python or butler) by one no-op make repo, via strace."""
    if shutil.which("strace") is None:
        return -1, -1
    trace = workdir / "noop.strace"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none",
                    "-o", str(trace), *demo.MAKE, "repo"],
                   env=env, capture_output=True, check=True)
    started = re.findall(r'execve\("([^"]+)".* = 0$', trace.read_text(), flags=re.M)
    heavy = [p for p in started if re.search(r"/(python[0-9.]*|butler)$", p)]
    return len(started), len(heavy)


def main(argv: list[str] | None = None) -> int:
    """Print the no-op rerun's time and processes with RUNTIME=auto and RUNTIME=host."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None,
                        help="a directory holding a complete standin_build.py build")
    parser.add_argument("--runtime", default="current", choices=("current", "v23"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dp02-bench-") as tmp:
        top = args.workdir.resolve() if args.workdir else Path(tmp)
        if args.workdir is None:
            standin_build.timed_build(args.runtime, top)
        env = demo.demo_env(args.runtime, top)
        times: dict[str, list[float]] = {"auto": [], "host": []}
        for _ in range(args.runs):
            for runtime in times:
                status, out, wall, _cpu = standin_build.make({**env, "RUNTIME": runtime}, "repo")
                if status != 0:
                    raise SystemExit(f"noop_rerun: make repo failed (exit {status}):\n{out}")
                times[runtime].append(wall)
        auto_env = {**env, "RUNTIME": "auto"}
        procs, heavy = exec_counts(auto_env, top)
    auto = statistics.median(times["auto"])
    host = statistics.median(times["host"])
    print(f"noop_rerun ({args.runtime}), median of {args.runs}:")
    print(f"  RUNTIME=auto (default): {auto:.3f} s   RUNTIME=host: {host:.3f} s   "
          f"auto/host {auto / host:.2f}x")
    if procs < 0:
        print("  processes: strace not found, not counted")
    else:
        print(f"  processes started by the default no-op: {procs}, of which Python or butler: "
              f"{heavy}")
    print(f"  anchor: <= {GOAL_S} s and 0 Python/butler    ratio: {auto / GOAL_S:.2f} "
          "(before: 6.5-9.4 s, 4 butler --help)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
