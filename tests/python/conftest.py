"""Fixtures shared by the pytest modules of tests/python."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def good_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A miniature input tree (2 years x 3 visits, 2 sensors, header-only raws), made once
    for the session; tests must not change it (use ``tree`` for a copy to break)."""
    top = tmp_path_factory.mktemp("mini") / "dp0.2"
    subprocess.run([sys.executable, str(ROOT / "py" / "make_mini_inputs.py"), "--out", str(top),
                    "--years", "2", "--visits", "3", "--pixels", "0"], check=True,
                   capture_output=True)
    return top


@pytest.fixture
def tree(good_tree: Path, tmp_path: Path) -> Path:
    """A private copy of the good tree, to break."""
    top = tmp_path / "dp0.2"
    shutil.copytree(good_tree, top)
    return top
