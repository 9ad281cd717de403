"""Benchmark (issue 16, goal 2): the toolkit's overhead per step against its butler commands.

In one miniature build, each step's duration (its stamp: settings, checks, commands, stamp)
against the time of the butler commands it ran (each call timed by bench/lib/timer/butler:
the same commands, run as they would be bare). The ratio step / butler is the toolkit's
cost; steps without a butler command (check-inputs, refcat-table: Python only) are listed
apart, as is the stack probe (``butler --help``, once per build). The issue's anchor
set is create, register-instrument, import-calibs, refcats and chain (1.98x before).
Goal: <= 1.10x (1.05x). Not a test: prints the figures, exits 0 whatever they are.
Run with PYTHONPATH=tests:bench (bench/run sets it).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

import standin_build

ANCHOR_STEPS = ("create", "register-instrument", "import-calibs", "refcats", "chain")
GOAL = 1.10


def main(argv: list[str] | None = None) -> int:
    """Print each step's duration, its butler time and their ratio, and the totals."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    standin_build.add_arguments(parser)
    args = parser.parse_args(argv)
    r = standin_build.load_or_build(args.result, args.runtime)
    butler: dict[str, float] = defaultdict(float)
    ncalls: dict[str, int] = defaultdict(int)
    for c in r["calls"]:
        butler[c["step"]] += c["end"] - c["start"]
        ncalls[c["step"]] += 1
    print(f"step_overhead ({r['runtime']}, daf_butler {r['daf_butler']}):")
    print(f"  {'step':<22} {'step s':>7} {'butler s':>9} {'calls':>5} {'ratio':>6}")
    for step, secs in r["steps"].items():
        b = butler.get(step, 0.0)
        ratio = f"{secs / b:.2f}x" if b else "-"
        print(f"  {step:<22} {secs:7.1f} {b:9.1f} {ncalls.get(step, 0):5d} {ratio:>6}")
    probe = [c for c in r["calls"] if c["step"] == "-"]
    print(f"  stack probe (butler --help, inside the first stack step): {len(probe)} calls, "
          f"{sum(c['end'] - c['start'] for c in probe):.1f} s")
    for label, steps in (("anchor steps " + ", ".join(ANCHOR_STEPS), ANCHOR_STEPS),
                         ("every step with a butler command",
                          tuple(s for s in r["steps"] if butler.get(s)))):
        s_total = sum(r["steps"].get(s, 0.0) for s in steps)
        b_total = sum(butler.get(s, 0.0) for s in steps)
        print(f"  {label}: {s_total:.1f} s against {b_total:.1f} s of butler: "
              f"ratio {s_total / b_total:.2f}x (anchor <= {GOAL:.2f}x, goal 1.05x; before 1.98x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
