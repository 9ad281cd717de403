"""The lite runtimes the tests run the toolkit on: current (.venv) and v23 (.venv-v23).

``make install`` makes ``.venv`` (daf_butler from PyPI, the current release) and
``make install-v23`` makes ``.venv-v23`` (daf_butler 23.0.0 on Python 3.8, from the
wheelhouse ``V23_WHEELHOUSE``). A missing ``.venv-v23`` skips the v23 tier with one line
saying how to get it, except under ``CI=true`` when the wheelhouse is there: then it fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENVS = {"current": ROOT / ".venv", "v23": ROOT / ".venv-v23"}
NAMES = tuple(VENVS)
# The stand-in plugin files (tests/stack_standins) per runtime: at v23 register-instrument
# was obs_base's, so its stand-in comes with the others; later pipe_base has the real one.
STANDIN_PLUGINS = {"current": ("resources.yaml",),
                   "v23": ("resources.yaml", "resources-v23.yaml")}


def wheelhouse() -> Path:
    """The v23 wheelhouse the toolkit's settings name (V23_WHEELHOUSE)."""
    value = os.environ.get("V23_WHEELHOUSE") or subprocess.run(
        [str(ROOT / "bin" / "config"), "get", "V23_WHEELHOUSE"],
        env={**os.environ, "ENV_FILE": "/nonexistent"}, cwd=str(ROOT),
        capture_output=True, text=True, check=False).stdout.strip()
    return Path(value or ROOT.parent / "shared" / "wheelhouse-v23")


def venv(name: str) -> Path:
    """Return the runtime's venv, or skip (fail under CI=true with a wheelhouse) without it."""
    path = VENVS[name]
    if (path / "bin" / "butler").exists():
        return path
    if name == "current":
        pytest.fail(f"{path} is missing: run 'make install'")
    reason = (f"v23 tier skipped: no {path.name} (run 'make install-v23'; it needs the "
              f"wheelhouse V23_WHEELHOUSE, here {wheelhouse()})")
    if os.environ.get("CI") == "true" and wheelhouse().is_dir():
        pytest.fail(f"{reason}, but under CI=true with the wheelhouse present the v23 tier "
                    "must run")
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover


def python(name: str) -> str:
    """The runtime's Python interpreter."""
    return str(venv(name) / "bin" / "python")
