"""Benchmark: the raws registry check (``py/repo_state.py raws``) at DP0.2 scale.

Builds a SQLite registry holding one year of raws at DP0.2 size (default 3,970 exposures x
189 detectors = 750,330 raws; registry-only inserts through the daf_butler API, no files
in the datastore), and a year directory with one empty raw file per raw (the check counts
names only), then times the check as the raws step runs it (a new process) and reads its
peak memory. It runs the check twice per size: with the last tenth of the exposures missing
(the resume), then with every exposure ingested (the no-op rerun). With ``--sizes`` it
repeats for several sizes, so that the growth can be read from the difference (the
fixed cost of a process that imports daf_butler is the same at every size), and
extrapolates to 3.75 million raws.

Not a test: it prints figures and the goals (issue 16: <= 2 s and <= 250 MiB at 750k), and
exits 0 whatever they are. Runs on the runtime whose Python runs it (.venv or .venv-v23).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOME = Path(__file__).resolve().parents[1]
INSTRUMENT = "LSSTCam-imSim"
COLLECTION = "LSSTCam-imSim/raw/all"
DETECTORS = 189
FIRST_EXPOSURE = 400_000
GOAL_SECONDS = 2.0
GOAL_MIB = 250.0
DP02_RAWS = 3_750_000


def record(element: Any, **given: Any) -> dict[str, Any]:
    """A dimension record of ``element`` with ``given`` values and neutral ones elsewhere
    (the fields differ between the v23 and current universes)."""
    values: dict[str, Any] = {}
    for field in element.RecordClass.fields.standard:
        kind = type(field.dtype).__name__ if not isinstance(field.dtype, type) else \
            field.dtype.__name__
        values[field.name] = {"String": "x", "BigInteger": 0, "Float": 0.0,
                              "Boolean": False}.get(kind)
    values.update(given)
    return values


def make_registry(root: Path, exposures: int) -> tuple[Any, Any]:
    """A repository at ``root`` with the records of ``exposures`` exposures and no raws yet;
    returns the registry and the raw dataset type."""
    from lsst.daf.butler import Butler, DatasetType

    Butler.makeRepo(str(root))
    registry = Butler(str(root), writeable=True).registry
    universe = registry.dimensions
    names = set(universe.getStaticElements().names)
    registry.insertDimensionData("instrument", record(
        universe["instrument"], name=INSTRUMENT, detector_max=DETECTORS + 10,
        exposure_max=10**8, visit_max=10**8, class_name="bench.Cam"))
    registry.insertDimensionData("physical_filter", {"instrument": INSTRUMENT,
                                                     "name": "i_sim_1.4", "band": "i"})
    registry.insertDimensionData("detector", *[
        record(universe["detector"], instrument=INSTRUMENT, id=d, full_name=f"D{d:03d}")
        for d in range(DETECTORS)])
    extra: dict[str, Any] = {}
    if "day_obs" in names:
        registry.insertDimensionData("day_obs", record(universe["day_obs"],
                                                       instrument=INSTRUMENT, id=20220101))
        extra["day_obs"] = 20220101
    if "group" in names:
        registry.insertDimensionData("group", {"instrument": INSTRUMENT, "name": "g"})
        extra["group"] = "g"
    registry.insertDimensionData("exposure", *[
        record(universe["exposure"], instrument=INSTRUMENT, id=FIRST_EXPOSURE + e,
               physical_filter="i_sim_1.4", obs_id=f"E{e}", **extra)
        for e in range(exposures)])
    raw = DatasetType("raw", ("instrument", "detector", "exposure"), "Exposure",
                      universe=universe)
    registry.registerDatasetType(raw)
    registry.registerRun(COLLECTION)
    return registry, raw


def insert_raws(registry: Any, raw: Any, first: int, stop: int) -> float:
    """Insert the raws of exposures ``first`` to ``stop`` - 1; returns the seconds taken."""
    t0 = time.perf_counter()
    batch = 200  # exposures per insert: 37,800 raws, one transaction
    for start in range(first, stop, batch):
        registry.insertDatasets(raw, [{"instrument": INSTRUMENT, "detector": d,
                                       "exposure": FIRST_EXPOSURE + e}
                                      for e in range(start, min(start + batch, stop))
                                      for d in range(DETECTORS)], run=COLLECTION)
    return time.perf_counter() - t0


def make_year(year: Path, exposures: int) -> None:
    """One visit directory per exposure, one empty raw file per detector."""
    for e in range(exposures):
        visit = year / f"{FIRST_EXPOSURE + e:08d}"
        visit.mkdir(parents=True)
        for d in range(DETECTORS):
            (visit / f"lsst_a_{FIRST_EXPOSURE + e}_D{d:03d}.fits").touch()


# Runs the check in the child and prints the child's own peak memory (VmHWM, per address
# space: ru_maxrss would include the fork of this large parent).
CHILD = """
import atexit, sys, time
import repo_state
def peak():
    with open("/proc/self/status") as status:
        line = [x for x in status if x.startswith("VmHWM:")][0]
    sys.stderr.write("peak-kib " + line.split()[1] + "\\n")
atexit.register(peak)
count = repo_state.raws_per_exposure
def timed(*args):
    t0 = time.perf_counter()
    try:
        return count(*args)
    finally:
        sys.stderr.write("query-s %.3f\\n" % (time.perf_counter() - t0))
repo_state.raws_per_exposure = timed
sys.exit(repo_state.main(sys.argv[1:]))
"""


def time_check(repo: Path, year: Path, out: Path) -> tuple[float, float, float, int]:
    """Run the raws check as bin/raws does, in a new process; (its seconds, the seconds of
    its registry queries, its peak MiB, its exit status)."""
    cmd = [sys.executable, "-c", CHILD, "raws", str(repo), INSTRUMENT, COLLECTION, str(year),
           "-o", str(out)]
    env = {**os.environ, "PYTHONPATH": str(HOME / "py")}
    t0 = time.perf_counter()
    result = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, check=False)
    seconds = time.perf_counter() - t0
    found = dict(line.split(None, 1) for line in result.stderr.splitlines()
                 if line.startswith(("peak-kib ", "query-s ")))
    mib = int(found["peak-kib"]) / 1024.0 if "peak-kib" in found else float("nan")
    return seconds, float(found.get("query-s", "nan")), mib, result.returncode


def main(argv: list[str] | None = None) -> int:
    """Build the registries, time the checks, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="397,3970",
                        help="exposures per year to try, comma-separated (default 397,3970; "
                        "DP0.2: about 3970 a year)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where to build (default: a temporary directory, removed)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    from importlib.metadata import version

    print(f"bench raws-check: daf_butler {version('lsst-daf-butler')}, Python "
          f"{sys.version.split()[0]}, SQLite registry, {DETECTORS} raws per exposure")
    print(f"{'raws':>9} {'case':<22} {'process s':>9} {'queries s':>9} {'peak MiB':>9} "
          f"{'exit':>5}")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        noop: list[tuple[int, float, float]] = []
        for exposures in sizes:
            work = Path(tmp) / str(exposures)
            year = work / "raw" / "y1-wfd"
            make_year(year, exposures)
            registry, raw = make_registry(work / "repo", exposures)
            # The resume first (the last tenth missing), then the rest, then the no-op.
            part = exposures - exposures // 10
            for label, first, stop in (("last tenth missing", 0, part),
                                       ("all ingested (no-op)", part, exposures)):
                inserts = insert_raws(registry, raw, first, stop)
                seconds, query, mib, status = time_check(work / "repo", year,
                                                         work / "todo.txt")
                raws = exposures * DETECTORS
                print(f"{raws:>9,} {label:<22} {seconds:>9.2f} {query:>9.2f} {mib:>9.0f} "
                      f"{status:>5}   (inserts {inserts:.0f} s)")
            noop.append((raws, query, mib))
            del registry
            subprocess.run(["rm", "-rf", str(work)], check=True)
        print(f"goal at 750k raws: <= {GOAL_SECONDS} s, <= {GOAL_MIB:.0f} MiB (the process "
              "seconds include starting Python and importing daf_butler, the same at every "
              "size; the growth below is that of the queries)")
        if len(noop) >= 2:
            (r0, s0, m0), (r1, s1, m1) = noop[0], noop[-1]
            per_million = (s1 - s0) / (r1 - r0) * 1e6
            mib_per_million = (m1 - m0) / (r1 - r0) * 1e6
            print(f"growth between {r0:,} and {r1:,} raws: {per_million:.2f} s and "
                  f"{mib_per_million:.0f} MiB per million raws; one check over all "
                  f"{DP02_RAWS:,} raws (linear): "
                  f"{s1 + per_million * (DP02_RAWS - r1) / 1e6:.1f} s, "
                  f"{m1 + mib_per_million * (DP02_RAWS - r1) / 1e6:.0f} MiB; the raws step "
                  "checks one year at a time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
