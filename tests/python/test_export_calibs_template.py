"""The template override of `make export-calibs` (py/export_calibs.py overlay) on
calibrations stored in place, with the real `butler export-calibs` of each runtime: the
current runtime (.venv) and the v23 runtime (.venv-v23, daf_butler 23.0.0), where the
export fails without the override (DM-32061)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "tests"))

import export_calibs  # noqa: E402
import runtimes  # noqa: E402
from export_yaml import load_export  # noqa: E402


def paths_of(export: Path) -> list[str]:
    doc = load_export(str(export / "export.yaml"))
    return [str(rec["path"]) for item in doc["data"] if item.get("type") == "dataset"
            for rec in item["records"]]


@pytest.mark.parametrize("runtime", runtimes.NAMES)
def test_override_names_files_by_detector_id(runtime: str, tmp_path: Path) -> None:
    venv = runtimes.venv(runtime)
    python, butler = str(venv / "bin" / "python"), str(venv / "bin" / "butler")
    repo = tmp_path / "repo"
    subprocess.run([python, str(ROOT / "tests" / "python" / "_calib_source_repo.py"), str(repo),
                    str(tmp_path / "files")], check=True, capture_output=True)
    overlay = tmp_path / "overlay" / "butler.yaml"
    done = subprocess.run([python, str(ROOT / "py" / "export_calibs.py"), "overlay", "--repo",
                           str(repo), "--out", str(overlay)], capture_output=True, text=True,
                          check=True)
    assert "template default: detector.full_name -> detector" in done.stdout
    assert (repo / "butler.yaml").read_text() != overlay.read_text()

    out = tmp_path / "with-override"
    subprocess.run([butler, "export-calibs", str(overlay), str(out), "2.2i/calib"],
                   check=True, capture_output=True)
    paths = paths_of(out)
    assert len(paths) == 2 and len(set(paths)) == 2
    assert any("_94_" in p for p in paths) and any("_95_" in p for p in paths)
    ok, text = export_calibs.verify_export(str(out))
    assert ok, text

    plain = tmp_path / "without-override"
    result = subprocess.run([butler, "export-calibs", str(repo), str(plain), "2.2i/calib"],
                            capture_output=True, text=True, check=False)
    if runtime == "v23":
        # Data IDs without records: {detector.full_name:?} is dropped, the two detectors'
        # files get one name, and the second cannot be written.
        assert result.returncode != 0 and "already exists" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert any("R22_S11" in p for p in paths_of(plain))


def test_template_overrides_only_change_full_name() -> None:
    templates = {"default": "{run}/{detector.full_name:?}_{visit:?}", "calexp": "{run}/{visit}",
                 "instrument": {"LSSTCam-imSim": {"raw": "{exposure}_{detector.full_name}"}}}
    assert export_calibs.template_overrides(templates) == {
        "default": "{run}/{detector:?}_{visit:?}",
        "instrument": {"LSSTCam-imSim": {"raw": "{exposure}_{detector}"}}}


def test_export_dir_checks(tmp_path: Path) -> None:
    export_calibs.check_export_dir(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    export_calibs.check_export_dir(str(tmp_path / "empty"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(export_calibs.CheckError, match="is not empty"):
        export_calibs.check_export_dir(str(tmp_path / "full"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(export_calibs.CheckError, match="not a directory"):
        export_calibs.check_export_dir(str(tmp_path / "file"))
