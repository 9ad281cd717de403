"""A miniature build on a lite runtime with the stack's commands played by the stand-ins.

This is test tooling (``make demo``, ``make bench`` and the end-to-end tests use it), not
part of the toolkit: production code never imports it. The four stack-only commands
(ingest-raws, define-visits, write-curated-calibrations, register-skymap; at v23 also
register-instrument) come from the stand-ins under tests/stack_standins, behind the real
command-line parsers of obs_base and pipe_tasks; every daf_butler step runs for real.

``standin_env`` is the one place that says which settings make such a build; ``main`` is
``make demo``: the miniature tree, ``make repo``, ``make status``, in its own directories.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import runtimes  # noqa: E402

#: The miniature tree of the tests and the demo: years, visits per year, sensors.
YEARS = 2
VISITS = 3
SENSORS = ("R22_S11", "R22_S12")
#: What the stamps and the console say about the stack of such a build.
STANDIN_NOTE = "stand-in, not the LSST stack"
#: The file that marks a directory as make demo's: clean-demo removes nothing else.
MARKER = ".dp02-demo"
#: The environment prefixes a stand-in build clears from the caller's environment first.
SCRUBBED = ("DP02_", "MINI_", "REFCAT_", "RAW_", "STANDIN_")


def standin_env(runtime: str, inputs: Path, repo: Path, state: Path,
                base: dict[str, str] | None = None,
                butler_log: Path | None = None) -> dict[str, str]:
    """Return the environment of a stand-in miniature build.

    Parameters
    ----------
    runtime : str
        ``current`` (.venv) or ``v23`` (.venv-v23).
    inputs : Path
        The miniature input tree (DP02_TOP, MINI_DIR).
    repo, state : Path
        REPO and STATE_DIR of the build.
    base : dict, optional
        The environment to start from (default: this process's).
    butler_log : Path, optional
        When given, every butler call goes through the recording double
        tests/doubles/butler, one line per call in this file.

    Returns
    -------
    env : dict
        The environment for ``make -C ROOT VENV=/nonexistent ...``.
    """
    venv = runtimes.VENVS[runtime]
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith(SCRUBBED)}
    path = f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    if butler_log is not None:
        path = f"{ROOT / 'tests' / 'doubles'}:{path}"
        env.update({"BUTLER_DOUBLE_REAL": str(venv / "bin" / "butler"),
                    "BUTLER_DOUBLE_LOG": str(butler_log)})
    env.update({
        "PATH": path,
        "DAF_BUTLER_PLUGINS": ":".join(str(ROOT / "tests" / "stack_standins" / name)
                                       for name in runtimes.STANDIN_PLUGINS[runtime]),
        "PYTHONPATH": f"{ROOT}:{ROOT / 'py'}",
        "DP02_STACK_NOTE": STANDIN_NOTE,
        # The demo's own settings, whatever the operator's .env says.
        "ENV_FILE": "/nonexistent",
        "PROFILE": "mini",
        "RUNTIME": "host",
        "DP02_TOP": str(inputs),
        "MINI_DIR": str(inputs),
        "REPO": str(repo),
        "STATE_DIR": str(state),
        "RAW_YEARS": " ".join(f"y{i}-wfd" for i in range(1, YEARS + 1)),
        "INSTRUMENT_CLASS": "tests.stack_standins.instrument.MiniLsstCamImSim",
        "REFCAT_FORMATTER": "lsst.daf.butler.formatters.astropyTable.AstropyTableFormatter",
        "REGISTRY_DB": "",
        "REGISTRY_NAMESPACE": "",
    })
    return env


def skymap_tracts(inputs: Path) -> str:
    """The tracts of the tree's truth files: the register-skymap stand-in inserts only
    those (the real command inserts all 18938), enough for truth-summary."""
    truth = inputs / "truth_summary" / "truth_parquet"
    tracts = sorted(int(p.stem.rsplit("tract", 1)[1]) for p in truth.glob("*.parq"))
    return ",".join(str(t) for t in tracts)


#: make in the toolkit, as a stand-in build runs it (the runtime's venv is on PATH already).
MAKE = ("make", "--no-print-directory", "-C", str(ROOT), "VENV=/nonexistent")


def demo_env(runtime: str, top: Path) -> dict[str, str]:
    """The environment of ``make demo``'s build under ``top`` (inputs/dp0.2, repo, state):
    ``standin_env`` with the tree's tracts for the register-skymap stand-in, and without
    the caller's make command line (``make demo DEMO_DIR=...`` is not the build's)."""
    inputs = top / "inputs" / "dp0.2"
    env = standin_env(runtime, inputs, top / "repo", top / "state")
    env["STANDIN_SKYMAP_TRACTS"] = skymap_tracts(inputs)
    for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(key, None)
    return env


def make_tree(runtime: str, out: Path) -> None:
    """Write the miniature input tree with the runtime's Python (lite formatters)."""
    subprocess.run(
        [str(runtimes.VENVS[runtime] / "bin" / "python"), str(ROOT / "py" / "make_mini_inputs.py"),
         "--out", str(out), "--years", str(YEARS), "--visits", str(VISITS),
         "--sensors", " ".join(SENSORS), "--formatters", "lite"],
        check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    """``make demo``: the miniature repository built with the stand-ins, then its status."""
    parser = argparse.ArgumentParser(
        prog="make demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=ROOT / "demo",
                        help="directory of the demo's inputs, repo and state (DEMO_DIR)")
    parser.add_argument("--runtime", choices=runtimes.NAMES, default="current",
                        help="lite runtime: current (.venv) or v23 (.venv-v23)")
    parser.add_argument("--clean", action="store_true",
                        help="remove DEMO_DIR if make demo made it (make clean-demo)")
    args = parser.parse_args(argv)
    top = args.dir.resolve()
    if args.clean:
        return clean(top)
    venv = runtimes.VENVS[args.runtime]
    if not (venv / "bin" / "butler").exists():
        print(f"demo: no {venv.name}: run 'make install{'-v23' if args.runtime == 'v23' else ''}'"
              " first", file=sys.stderr)
        return 2
    inputs = top / "inputs" / "dp0.2"
    if top.exists() and any(top.iterdir()) and not (top / MARKER).is_file():
        print(f"demo: DEMO_DIR {top} exists, is not empty and was not made by make demo "
              f"(no {MARKER} in it): the demo writes its inputs, repository and state there "
              "and clean-demo removes it. Point DEMO_DIR at a new directory.", file=sys.stderr)
        return 2
    top.mkdir(parents=True, exist_ok=True)
    (top / MARKER).write_text("made by make demo (dp02-repo): inputs/, repo/, state/\n")
    print(f"demo: a miniature DP0.2 repository on the lite runtime {venv.name}; the stack "
          f"commands are played by tests/stack_standins ({STANDIN_NOTE})", flush=True)
    if not inputs.is_dir():
        print(f"demo: writing the miniature input tree under {inputs}", flush=True)
        make_tree(args.runtime, inputs)
    env = demo_env(args.runtime, top)
    status = subprocess.run([*MAKE, "repo"], env=env, check=False).returncode
    subprocess.run([*MAKE, "status"], env=env, check=False)
    print(f"demo: REPO={top / 'repo'} STATE_DIR={top / 'state'} "
          f"(make clean-demo removes {top})", flush=True)
    return status


def clean(top: Path) -> int:
    """Remove ``top`` if make demo made it (its marker is there), else say why not."""
    if not top.exists():
        return 0
    if not (top / MARKER).is_file():
        print(f"demo: not removing {top}: it has no {MARKER}, so make demo did not make it. "
              "Remove it yourself if it is yours to remove.", file=sys.stderr)
        return 2
    shutil.rmtree(top)
    print(f"demo: removed {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
