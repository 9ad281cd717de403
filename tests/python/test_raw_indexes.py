"""py/raw_indexes.py and bin/raw-indexes: list by default, write only the missing index
files with WRITE_INDEXES=yes, refuse clearly without obs_lsst.

The lite runtime has no obs_lsst, so the writing tests name another importable module
with ``--packages`` (the header reading and ``calculate_index`` are the real
astro_metadata_translator code); the shell script always asks for lsst.obs.lsst.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))

import raw_indexes  # noqa: E402

YEARS = "y1-wfd y2-wfd"


def visit_dirs(top: Path) -> list[Path]:
    return sorted(p for p in (top / "raw").glob("y*-wfd/*") if p.is_dir())


def snapshot(top: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in (top / "raw").rglob("*") if p.is_file()}


def test_lists_without_writing(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victims = visit_dirs(tree)[:2]
    for v in victims:
        (v / "_index.json").unlink()
    before = snapshot(tree)
    assert raw_indexes.main(["--raw", str(tree / "raw"), "--raw-years", YEARS]) == 0
    out = capsys.readouterr().out
    assert "2 visit directories have no _index.json; nothing written" in out
    for v in victims:
        assert f"would write {v / '_index.json'}" in out
    assert snapshot(tree) == before


def test_writes_only_the_missing_ones(tree: Path, good_tree: Path) -> None:
    victims = visit_dirs(tree)[1::2]
    for v in victims:
        (v / "_index.json").unlink()
    untouched = {str(p): p.stat().st_mtime_ns for p in (tree / "raw").rglob("_index.json")}
    status = raw_indexes.main(["--raw", str(tree / "raw"), "--raw-years", YEARS, "--write",
                               "--jobs", "2", "--packages", "astro_metadata_translator"])
    assert status == 0
    for v in victims:
        written = v / "_index.json"
        original = good_tree / v.relative_to(tree) / "_index.json"
        # Same content as the generator's (astro_metadata_translator calculate_index).
        assert written.read_bytes() == original.read_bytes()
        mask = os.umask(0)
        os.umask(mask)
        assert written.stat().st_mode & 0o777 == 0o666 & ~mask
    for path, mtime in untouched.items():
        assert Path(path).stat().st_mtime_ns == mtime
    # No temporary file left behind.
    assert not [p for p in (tree / "raw").rglob(".*")]


def test_unreadable_file_gets_no_index(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = visit_dirs(tree)[0]
    (victim / "_index.json").unlink()
    (victim / "lsst_a_broken.fits").write_bytes(b"not a fits file")
    status = raw_indexes.main(["--raw", str(tree / "raw"), "--raw-years", YEARS, "--write",
                               "--packages", "astro_metadata_translator"])
    assert status == 1
    assert not (victim / "_index.json").exists()
    assert "lsst_a_broken.fits" in capsys.readouterr().err


def test_without_obs_lsst_it_stops_clearly(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import lsst.obs.lsst  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - inside the stack
        pytest.skip("obs_lsst is importable here")
    (visit_dirs(tree)[0] / "_index.json").unlink()
    status = raw_indexes.main(["--raw", str(tree / "raw"), "--raw-years", YEARS, "--write"])
    assert status == raw_indexes.EXIT_NO_STACK
    err = capsys.readouterr().err
    assert "obs_lsst" in err and "not on PyPI" in err and "setup lsst_distrib" in err
    assert not (visit_dirs(tree)[0] / "_index.json").exists()


def test_missing_year(tree: Path) -> None:
    assert raw_indexes.main(["--raw", str(tree / "raw"), "--raw-years", "y9-wfd"]) == 2


def _script(tree: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DRY_RUN", "WRITE_INDEXES", "DP02_RAW", "RAW_YEARS", "JOBS")}
    environ.update({"PATH": f"{ROOT / '.venv' / 'bin'}:{environ.get('PATH', '')}",
                    "ENV_FILE": str(tmp_path / "none.env"), "PROFILE": "mini",
                    "DP02_TOP": str(tree), "REPO": str(tmp_path / "repo"), **env})
    return subprocess.run([str(ROOT / "bin" / "raw-indexes")], capture_output=True, text=True,
                          env=environ, cwd=tmp_path, check=False)


def test_script_lists_then_refuses_without_the_stack(tree: Path, tmp_path: Path) -> None:
    victim = visit_dirs(tree)[0]
    (victim / "_index.json").unlink()
    listed = _script(tree, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert f"would write {victim / '_index.json'}" in listed.stdout
    dry = _script(tree, tmp_path, WRITE_INDEXES="yes", DRY_RUN="1")
    assert dry.returncode == 0
    assert "--packages lsst.obs.lsst --write" in dry.stdout
    try:
        import lsst.obs.lsst  # noqa: F401
    except ImportError:
        refused = _script(tree, tmp_path, WRITE_INDEXES="yes")
        assert refused.returncode == 4
        assert "obs_lsst" in refused.stderr and "container" in refused.stderr
        assert not (victim / "_index.json").exists()
    bad = _script(tree, tmp_path, WRITE_INDEXES="maybe")
    assert bad.returncode == 2 and "WRITE_INDEXES=yes" in bad.stderr
    help_ = subprocess.run([str(ROOT / "bin" / "raw-indexes"), "--help"], capture_output=True,
                           text=True, check=False)
    assert help_.returncode == 0 and "Usage:" in help_.stdout
