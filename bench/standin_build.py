"""One timed miniature build, the measurement that several benchmarks read.

``make repo`` on the miniature tree, on a lite runtime with the stack commands played by
the stand-ins (the build of ``make demo``, tests/demo.py), every butler call timed by
bench/lib/timer/butler. It records the build's wall and CPU time (the children's, from
``getrusage``), each step's duration (its stamp), and each butler call's step, start, end
and exit status, in a JSON file that mini_build.py, step_overhead.py and step_durations.py
read (``bench/run`` makes one build for all three; each makes its own when run alone).

Run with PYTHONPATH=tests:bench (bench/run sets it).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import demo
import runtimes

ROOT = Path(__file__).resolve().parents[1]
TIMER = ROOT / "bench" / "lib" / "timer"


def make(env: dict[str, str], *targets: str) -> tuple[int, str, float, float]:
    """Run make in the toolkit; return its status, output, wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([*demo.MAKE, *targets], env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, proc.stdout + proc.stderr, wall, cpu


def stamp_durations(state: Path) -> dict[str, float]:
    """Each step's duration_s from its stamp."""
    out = {}
    for stamp in sorted((state / "stamps").glob("*.done")):
        for line in stamp.read_text().splitlines():
            if line.startswith("duration_s: "):
                out[stamp.name[:-len(".done")]] = float(line.split()[1])
    return out


def timed_build(runtime: str, top: Path) -> dict[str, Any]:
    """Build the miniature repository under ``top`` from nothing, timing everything.

    Parameters
    ----------
    runtime : str
        ``current`` or ``v23``.
    top : Path
        Working directory; the input tree is written there first (not timed) if missing.

    Returns
    -------
    result : dict
        wall_s, cpu_s, steps (name: seconds), calls (step, start, end, status, command),
        runtime, daf_butler version.
    """
    venv = runtimes.VENVS[runtime]
    if not (venv / "bin" / "butler").exists():
        raise SystemExit(f"standin_build: no {venv.name}: run 'make install"
                         f"{'-v23' if runtime == 'v23' else ''}' first")
    inputs = top / "inputs" / "dp0.2"
    if not inputs.is_dir():
        demo.make_tree(runtime, inputs)
    for sub in ("repo", "state"):
        shutil.rmtree(top / sub, ignore_errors=True)
    log = top / "butler-calls.tsv"
    log.unlink(missing_ok=True)
    env = demo.demo_env(runtime, top)
    env.update({"PATH": f"{TIMER}:{env['PATH']}", "BUTLER_TIMER_REAL": str(venv / "bin" / "butler"),
                "BUTLER_TIMER_LOG": str(log)})
    status, out, wall, cpu = make(env, "repo")
    if status != 0:
        raise SystemExit(f"standin_build: the miniature build failed (exit {status}):\n{out}")
    calls = []
    for line in log.read_text().splitlines():
        step, start, end, code, cmd = line.split("\t")
        calls.append({"step": step, "start": float(start), "end": float(end),
                      "status": int(code), "command": cmd})
    version = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "from importlib.metadata import version; "
                              "print(version('lsst-daf-butler'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return {"runtime": runtime, "daf_butler": version, "wall_s": wall, "cpu_s": cpu,
            "steps": stamp_durations(top / "state"), "calls": calls, "output": out}


def load_or_build(result: Path | None, runtime: str) -> dict[str, Any]:
    """The JSON of ``--result`` when given, else a new build in a temporary directory."""
    if result is not None:
        return json.loads(result.read_text())
    with tempfile.TemporaryDirectory(prefix="dp02-bench-") as tmp:
        return timed_build(runtime, Path(tmp))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every benchmark that reads a timed build."""
    parser.add_argument("--result", type=Path, default=None,
                        help="read this standin_build.py result instead of building")
    parser.add_argument("--runtime", choices=runtimes.NAMES, default="current",
                        help="lite runtime of the build (default: current)")


def main(argv: list[str] | None = None) -> int:
    """Build once and write the result JSON (bench/run's shared measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True,
                        help="where the inputs, repo and state go (kept)")
    parser.add_argument("--out", type=Path, required=True, help="the result JSON")
    parser.add_argument("--runtime", choices=runtimes.NAMES, default="current")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    result = timed_build(args.runtime, args.workdir.resolve())
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(args.out)
    print(f"standin_build: {args.runtime} (daf_butler {result['daf_butler']}): "
          f"{result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, "
          f"{len(result['calls'])} butler calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
