"""py/repo_state.py: the registry checks, asked of real SQLite repositories, and --new-repo
(the first attempt on a repository the build created: the registry is not asked, the
inputs still are)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "py" / "repo_state.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          check=False)


@pytest.fixture
def year(tmp_path: Path) -> Path:
    """A year directory of three visit directories of two raw files each."""
    top = tmp_path / "y1-wfd"
    for visit in ("00000101", "00000102", "00000103"):
        (top / visit).mkdir(parents=True)
        for det in ("R22_S11", "R22_S12"):
            (top / visit / f"lsst_a_{int(visit)}_{det}_i.fits").write_bytes(b"")
    return top


@pytest.fixture
def repo(tmp_path: Path) -> str:
    from lsst.daf.butler import Butler, CollectionType

    root = str(tmp_path / "repo")
    Butler.makeRepo(root)
    Butler(root, writeable=True).registry.registerCollection("calib/curated",
                                                             CollectionType.RUN)
    return root


def test_collection_asks_the_registry(repo: str) -> None:
    done = run("collection", repo, "calib/curated")
    assert (done.returncode, done.stdout.strip()) == (0, "collection calib/curated exists")
    todo = run("collection", repo, "calib/other")
    assert todo.returncode == 10 and "does not exist" in todo.stdout


def test_new_repo_opens_no_butler(tmp_path: Path, year: Path) -> None:
    # No repository at all: without --new-repo the check fails opening it; with it, the
    # answer is "nothing there" and the whole year is to do.
    missing = str(tmp_path / "no-repo")
    out = tmp_path / "todo.txt"
    assert run("raws", missing, "LSSTCam-imSim", "raw/all", str(year), "-o", str(out)
               ).returncode not in (0, 10)
    result = run("--new-repo", "raws", missing, "LSSTCam-imSim", "raw/all", str(year),
                 "-o", str(out))
    assert result.returncode == 10, result.stderr
    assert result.stdout.strip() == "0/3 exposures ingested (new repository: registry not asked)"
    assert out.read_text().split() == [str(year / v) for v in ("00000101", "00000102",
                                                               "00000103")]
    col = run("--new-repo", "collection", missing, "calib/curated")
    assert col.returncode == 10 and "registry not asked" in col.stdout


def test_new_repo_still_checks_the_inputs(tmp_path: Path) -> None:
    # An export that names no dataset is refused with or without --new-repo: the flag
    # skips the registry, not the inputs.
    export = tmp_path / "export.yaml"
    export.write_text("description: Butler Data Repository Export\nversion: 1.0.2\ndata: []\n")
    result = run("--new-repo", "import", str(tmp_path / "no-repo"), str(export), "2.2i/calib")
    assert result.returncode == 11 and "names no dataset" in result.stderr, result.stderr
    empty = tmp_path / "y9"
    empty.mkdir()
    result = run("--new-repo", "raws", str(tmp_path / "no-repo"), "LSSTCam-imSim", "raw/all",
                 str(empty), "-o", str(tmp_path / "t"))
    assert result.returncode == 11 and "no visit directory" in result.stderr
