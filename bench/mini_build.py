"""Benchmark (issue 16, goal 3): the miniature end-to-end ``make repo``, wall and CPU time.

The build from nothing of ``make demo`` (the input tree is made first, not timed), on a lite
runtime with the stand-ins. Goal: < 60 s wall on 2 cores on an idle machine, CPU beside it.
Not a test: prints the figures, the anchor and the ratio, and exits 0 whatever they are.
Run with PYTHONPATH=tests:bench (bench/run sets it).
"""

from __future__ import annotations

import argparse
import os
import sys

import standin_build

GOAL_S = 60.0


def main(argv: list[str] | None = None) -> int:
    """Print the wall and CPU time of one miniature build against the 60 s goal."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    standin_build.add_arguments(parser)
    args = parser.parse_args(argv)
    r = standin_build.load_or_build(args.result, args.runtime)
    print(f"mini_build ({r['runtime']}, daf_butler {r['daf_butler']}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}):")
    print(f"  make repo from nothing: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU "
          f"(children), {len(r['calls'])} butler calls")
    print(f"  anchor: < {GOAL_S:.0f} s wall    ratio: {r['wall_s'] / GOAL_S:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
