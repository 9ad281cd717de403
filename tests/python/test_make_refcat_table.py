"""py/make_refcat_table.py on hostile directories; the ECSV read back by astropy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "py" / "make_refcat_table.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def hostile(tmp_path: Path) -> Path:
    d = tmp_path / "cal_ref_cat"
    d.mkdir()
    for name in ("141440.fits", "131072.fits", "262143.fits"):
        (d / name).write_bytes(b"SIMPLE")
    for name in ("141440.fits.bak", "141440xfits", "12345.fits", "1414400.fits", "README",
                 "100000.fits"):  # 100000 is six digits but no level-7 HTM id
        (d / name).write_bytes(b"x")
    (d / "141441.fits").mkdir()  # a subdirectory with a refcat-like name
    os.symlink(tmp_path / "nowhere.fits", d / "141442.fits")  # dangling symlink
    return d


def test_hostile_directory(tmp_path: Path) -> None:
    from astropy.table import Table

    d = hostile(tmp_path)
    out = tmp_path / "state" / "refcat.ecsv"
    result = run(str(d), "-o", str(out))
    assert result.returncode == 0, result.stderr
    table = Table.read(out)  # as the technote read it: format guessed from .ecsv
    assert table.colnames == ["filename", "htm7"]
    assert list(table["htm7"]) == [131072, 141440, 262143]
    assert table["htm7"].dtype.kind == "i" and table["htm7"].dtype.itemsize == 8
    assert list(table["filename"]) == [str(d / f"{i}.fits") for i in (131072, 141440, 262143)]
    assert all(os.path.isabs(f) for f in table["filename"])
    for skipped in ("141440.fits.bak", "141440xfits", "12345.fits", "1414400.fits", "README",
                    "100000.fits", "141441.fits", "141442.fits"):
        assert skipped in result.stderr
    assert "skipped 8 entries" in result.stderr


def test_empty_directory_is_refused_and_nothing_written(tmp_path: Path) -> None:
    d = tmp_path / "cal_ref_cat"
    d.mkdir()
    out = tmp_path / "refcat.ecsv"
    result = run(str(d), "-o", str(out))
    assert result.returncode == 2
    assert "no refcat file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [d]


def test_missing_directory(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope"), "-o", str(tmp_path / "t.ecsv"))
    assert result.returncode == 2
    assert "is not a directory" in result.stderr


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "141440.fits").write_bytes(b"SIMPLE")
    out = tmp_path / "t.ecsv"
    result = run(str(a), str(b), "-o", str(out))
    assert result.returncode == 2
    assert "141440 appears twice" in result.stderr
    assert not out.exists()


def test_existing_table_is_replaced_whole(tmp_path: Path) -> None:
    from astropy.table import Table

    d = hostile(tmp_path)
    out = tmp_path / "t.ecsv"
    out.write_text("old content\n")
    assert run(str(d), "-o", str(out)).returncode == 0
    assert len(Table.read(out)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal_ref_cat", "t.ecsv"]  # no temp file


@pytest.mark.parametrize("name", ["141440.fits.bak", "141440xfits", "x141440.fits"])
def test_technote_regex_would_have_taken_these(name: str) -> None:
    """The anchored pattern rejects what RTN-029's unanchored re.match let through."""
    import re

    sys.path.insert(0, str(ROOT / "py"))
    from make_refcat_table import REFCAT_NAME

    assert REFCAT_NAME.match(name) is None
    if not name.startswith("x"):
        assert re.match(r"[0-9]{6}.fits", name)
