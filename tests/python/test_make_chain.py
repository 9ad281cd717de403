"""py/make_chain.py against a real daf_butler SQLite repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "py" / "make_chain.py"
CHILDREN = ["LSSTCam-imSim/raw/all", "2.2i/calib", "skymaps", "refcats"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def repo(tmp_path: Path) -> str:
    from lsst.daf.butler import Butler, CollectionType

    root = str(tmp_path / "repo")
    Butler.makeRepo(root)
    registry = Butler(root, writeable=True).registry
    for name in CHILDREN:
        registry.registerCollection(name, CollectionType.RUN)
    return root


def chain(repo: str, name: str) -> list[str]:
    from lsst.daf.butler import Butler

    return list(Butler(repo).registry.getCollectionChain(name))


def test_create_then_rerun_is_a_noop(repo: str) -> None:
    result = run(repo, "2.2i/defaults", *CHILDREN)
    assert result.returncode == 0, result.stderr
    assert "(created)" in result.stderr
    assert chain(repo, "2.2i/defaults") == CHILDREN
    again = run(repo, "2.2i/defaults", *CHILDREN)
    assert again.returncode == 0
    assert "(unchanged)" in again.stderr
    assert chain(repo, "2.2i/defaults") == CHILDREN


def test_redefine_with_other_order(repo: str) -> None:
    assert run(repo, "2.2i/defaults", *CHILDREN).returncode == 0
    result = run(repo, "2.2i/defaults", *reversed(CHILDREN))
    assert result.returncode == 0
    assert "(redefined)" in result.stderr
    assert chain(repo, "2.2i/defaults") == list(reversed(CHILDREN))


def test_wrong_type_is_refused_before_any_change(repo: str) -> None:
    from lsst.daf.butler import Butler, CollectionType

    Butler(repo, writeable=True).registry.registerCollection("2.2i/defaults", CollectionType.RUN)
    result = run(repo, "2.2i/defaults", *CHILDREN)
    assert result.returncode == 2
    assert "as a RUN collection, not CHAINED" in result.stderr
    assert Butler(repo).registry.getCollectionType("2.2i/defaults") == CollectionType.RUN


def test_missing_child_is_refused_and_parent_not_created(repo: str) -> None:
    from lsst.daf.butler import Butler

    result = run(repo, "2.2i/defaults", *CHILDREN, "no/such/run")
    assert result.returncode == 2
    assert "no/such/run" in result.stderr
    assert "Traceback" not in result.stderr
    assert "2.2i/defaults" not in set(Butler(repo).registry.queryCollections())
