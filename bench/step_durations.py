"""Benchmark (issue 16, goal 6): the steps' "done in X s" add up to the build's wall time.

Each step's duration (its stamp's duration_s, the figure of its console line) counts from the
script's start to its stamp; the build report, last, prints its own time. Their sum
against the wall time of ``make repo`` in the same build: the rest is make itself and the
gaps between steps. Goal: within 5 %.
Not a test: prints the figures, the anchor and the ratio, and exits 0 whatever they are.
Run with PYTHONPATH=tests:bench (bench/run sets it).
"""

from __future__ import annotations

import argparse
import re
import sys

import standin_build

GOAL = 0.05


def main(argv: list[str] | None = None) -> int:
    """Print the sum of the step durations against the build's wall time."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    standin_build.add_arguments(parser)
    args = parser.parse_args(argv)
    r = standin_build.load_or_build(args.result, args.runtime)
    steps = sum(r["steps"].values())
    # make repo ends with the build report, which prints its own "written in X s" line.
    report = sum(float(m) for m in re.findall(r"^report: .* written in ([0-9.]+) s$",
                                              r["output"], flags=re.M))
    total = steps + report
    gap = (r["wall_s"] - total) / r["wall_s"]
    print(f"step_durations ({r['runtime']}, daf_butler {r['daf_butler']}):")
    print(f"  {len(r['steps'])} steps: {steps:.1f} s summed, the report {report:.1f} s; make repo: "
          f"{r['wall_s']:.1f} s wall; unaccounted {r['wall_s'] - total:.1f} s")
    print(f"  anchor: within {GOAL:.0%}    ratio: sum/wall {total / r['wall_s']:.3f} "
          f"({gap:+.1%} outside the steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
