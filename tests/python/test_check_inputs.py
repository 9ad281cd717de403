"""py/check_inputs.py: every check passes on a good miniature tree and fails, with the
right message, on a deliberately broken copy of it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))

import check_inputs  # noqa: E402


def run(top: Path, tmp_path: Path, **overrides: str) -> tuple[int, dict[str, Any], str]:
    """Run the checks on ``top``; return exit status, report and table."""
    settings = {
        "raw": str(top / "raw"), "calib": str(top / "calib"), "refcats": str(top / "refcats"),
        "skymap-dir": str(top / "skymaps"), "skymap-config": str(top / "skymaps" / "DC2.py"),
        "raw-years": "y1-wfd y2-wfd", "visit-list": str(top / "visits.txt"),
        "expected-visits": "", "expected-refcats": "", "repo": str(tmp_path / "repo"),
        "state-dir": str(tmp_path / "repo-state"),
        "report": str(tmp_path / "repo-state" / "reports" / "check-inputs.json"),
        "table": str(tmp_path / "repo-state" / "reports" / "check-inputs.txt"),
    }
    settings.update({k.replace("_", "-"): v for k, v in overrides.items()})
    argv = [a for k, v in settings.items() for a in (f"--{k}", v)] + ["--quiet"]
    status = check_inputs.main(argv)
    report = json.loads(Path(settings["report"]).read_text())
    return status, report, Path(settings["table"]).read_text()


def by_name(report: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [c for c in report["checks"] if c["check"] == name]
    assert matches, f"no check {name} in {[c['check'] for c in report['checks']]}"
    return matches[0]


def visit_dirs(top: Path) -> list[Path]:
    return sorted(p for p in (top / "raw").glob("y*-wfd/*") if p.is_dir())


def test_good_tree_passes(good_tree: Path, tmp_path: Path) -> None:
    status, report, table = run(good_tree, tmp_path, expected_visits="6",
                                expected_refcats=str(len(list(
                                    (good_tree / "refcats" / "cal_ref_cat").iterdir()))))
    assert status == 0, table
    assert report["ok"] is True and report["errors"] == 0 and report["warnings"] == 0
    assert set(report) == {"report", "version", "created", "duration_s", "ok", "errors",
                           "warnings", "inputs", "figures", "checks"}
    assert report["report"] == "check-inputs" and report["version"] == 1
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert set(statuses.values()) <= {"ok", "skipped"}
    for name in ("tree.DP02_RAW", "tree.DP02_CALIB", "tree.DP02_REFCATS", "tree.DP02_SKYMAP",
                 "raw.years", "raw.visit-dirs", "raw.raw-files", "raw.index-files",
                 "raw.visit-list", "raw.visit-count", "calib.export", "calib.export-version",
                 "calib.files", "refcat.names", "refcat.count", "skymap.config", "output.REPO",
                 "output.STATE_DIR"):
        assert statuses[name] == "ok", name
    assert statuses["registry.db-check"] == "skipped"
    assert report["figures"]["visit_dirs"] == 6
    assert report["figures"]["skymap_name"] == "DC2"
    assert report["figures"]["calib_datasets"] == {"bias": 2, "dark": 2, "flat": 12}
    assert "free_gb" in by_name(report, "output.REPO")["details"]
    assert "0 error(s), 0 warning(s)" in table
    # Written atomically: no temporary file is left next to the report.
    assert sorted(p.name for p in (tmp_path / "repo-state" / "reports").iterdir()) == [
        "check-inputs.json", "check-inputs.txt"]


def test_missing_index_is_a_warning_pointing_at_raw_indexes(tree: Path, tmp_path: Path) -> None:
    victim = visit_dirs(tree)[1]
    (victim / "_index.json").unlink()
    status, report, table = run(tree, tmp_path)
    assert status == 0
    check = by_name(report, "raw.index-files")
    assert check["status"] == "warning"
    assert f"{victim.parent.name}/{victim.name}" in check["summary"]
    assert "make raw-indexes" in check["summary"]
    assert check["details"]["visit_dirs"] == [f"{victim.parent.name}/{victim.name}"]
    assert report["warnings"] == 1 and report["errors"] == 0
    assert "warning: raw.index-files" in table


def test_visit_dir_without_raws(tree: Path, tmp_path: Path) -> None:
    victim = visit_dirs(tree)[0]
    for fits in victim.glob("*.fits"):
        fits.unlink()
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "raw.raw-files")
    assert check["status"] == "error" and victim.name in check["summary"]


def test_index_files_without_images(tree: Path, tmp_path: Path) -> None:
    # What make fetch-inputs leaves when the raw images were not copied: index files only.
    for fits in (tree / "raw").glob("y*-wfd/*/*.fits"):
        fits.unlink()
    status, report, table = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "raw.raw-files")
    assert check["status"] == "error"
    assert "not published as an archive" in check["summary"]
    assert check["details"]["indexed_without_images"] == len(visit_dirs(tree))
    assert "not published as an archive" in table


def test_bad_visit_dir_name_and_stray_file(tree: Path, tmp_path: Path) -> None:
    (tree / "raw" / "y1-wfd" / "1472").mkdir()
    (tree / "raw" / "y1-wfd" / "notes.txt").write_text("x")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    assert by_name(report, "raw.visit-dirs")["status"] == "error"
    assert "y1-wfd/1472" in by_name(report, "raw.visit-dirs")["summary"]
    assert by_name(report, "raw.other-files")["status"] == "warning"


def test_missing_year(tree: Path, tmp_path: Path) -> None:
    status, report, _ = run(tree, tmp_path, raw_years="y1-wfd y2-wfd y3-wfd")
    assert status == 1
    check = by_name(report, "raw.years")
    assert check["status"] == "error" and "y3-wfd" in check["summary"]


def test_duplicate_visit_across_years(tree: Path, tmp_path: Path) -> None:
    victim = visit_dirs(tree)[0]
    shutil.copytree(victim, tree / "raw" / "y2-wfd" / victim.name)
    status, report, _ = run(tree, tmp_path, visit_list="")
    assert status == 1
    assert by_name(report, "raw.duplicate-visits")["details"]["visits"] == [victim.name]


def test_visit_missing_from_the_list(tree: Path, tmp_path: Path) -> None:
    visits = (tree / "visits.txt").read_text().split()
    # One visit in the list but not in the tree, one in the tree but not in the list.
    (tree / "visits.txt").write_text("\n".join(visits[1:] + ["1235077"]) + "\n")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "raw.visit-list")
    assert check["status"] == "error"
    assert check["details"]["missing"] == [1235077]
    assert check["details"]["extra"] == [int(visits[0])]
    assert "1235077" in check["summary"] and visits[0] in check["summary"]


def test_visit_list_set_but_missing(tree: Path, tmp_path: Path) -> None:
    status, report, _ = run(tree, tmp_path, visit_list=str(tree / "nope.txt"))
    assert status == 1
    assert "does not exist" in by_name(report, "raw.visit-list")["summary"]


def test_expected_visits_mismatch(tree: Path, tmp_path: Path) -> None:
    status, report, _ = run(tree, tmp_path, expected_visits="19852")
    assert status == 1
    check = by_name(report, "raw.visit-count")
    assert check["details"] == {"expected": 19852, "found": 6}


def test_calibration_file_missing(tree: Path, tmp_path: Path) -> None:
    victim = sorted((tree / "calib").rglob("flat_*"))[0]
    victim.unlink()
    status, report, table = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "calib.files")
    assert check["status"] == "error"
    relative = str(victim.relative_to(tree / "calib"))
    assert check["details"]["missing"] == [relative]
    assert relative in check["summary"]
    assert "error: calib.files" in table


@pytest.mark.parametrize("version,ok", [("1.0.2", True), ("1.0.1", True), ("1.0.0", True),
                                        ("0", True), ("1.1.0", False), ("2.0.0", False),
                                        ("'one'", False)])
def test_export_version(tree: Path, tmp_path: Path, version: str, ok: bool) -> None:
    export = tree / "calib" / "export.yaml"
    export.write_text(export.read_text().replace("version: 1.0.2", f"version: {version}", 1))
    status, report, _ = run(tree, tmp_path)
    check = by_name(report, "calib.export-version")
    assert check["status"] == ("ok" if ok else "error"), check
    assert status == (0 if ok else 1)
    if not ok:
        assert "1.0.1 or 1.0.2" in check["summary"]


def test_export_does_not_parse(tree: Path, tmp_path: Path) -> None:
    (tree / "calib" / "export.yaml").write_text("data: [unclosed\n")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    assert "does not parse" in by_name(report, "calib.export")["summary"]


def test_extra_refcat(tree: Path, tmp_path: Path) -> None:
    refcats = tree / "refcats" / "cal_ref_cat"
    count = len(list(refcats.iterdir()))
    shutil.copy(sorted(refcats.iterdir())[0], refcats / "131072.fits")
    status, report, _ = run(tree, tmp_path, expected_refcats=str(count))
    assert status == 1
    check = by_name(report, "refcat.count")
    assert check["details"] == {"expected": count, "found": count + 1}
    assert f"EXPECTED_REFCATS={count}" in check["summary"]


def test_empty_refcat_is_bad_and_not_counted(tree: Path, tmp_path: Path) -> None:
    refcats = tree / "refcats" / "cal_ref_cat"
    count = len(list(refcats.iterdir()))
    (refcats / "131072.fits").write_bytes(b"")
    status, report, _ = run(tree, tmp_path, expected_refcats=str(count))
    assert status == 1
    assert by_name(report, "refcat.count")["status"] == "ok"
    check = by_name(report, "refcat.files")
    assert check["details"]["bad"] == ["131072.fits (empty, 0 bytes)"]


def test_refcat_names(tree: Path, tmp_path: Path) -> None:
    refcats = tree / "refcats" / "cal_ref_cat"
    (refcats / "141440.fits.bak").write_bytes(b"")
    (refcats / "141440xfits").write_bytes(b"")
    status, report, _ = run(tree, tmp_path)
    assert status == 0
    check = by_name(report, "refcat.names")
    assert check["status"] == "warning"
    assert check["details"]["skipped"] == ["141440.fits.bak", "141440xfits"]
    (refcats / "999999.fits").write_bytes(b"")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    assert by_name(report, "refcat.names")["details"]["out_of_range"] == ["999999.fits"]


def test_htm7_range() -> None:
    trixels, out, others = check_inputs.classify_refcat_names(
        ["131071.fits", "131072.fits", "262143.fits", "262144.fits", "14144.fits", "a.fits"])
    assert trixels == [131072, 262143]
    assert out == ["131071.fits", "262144.fits"]
    assert others == ["14144.fits", "a.fits"]


def test_skymap_config_without_name(tree: Path, tmp_path: Path) -> None:
    config = tree / "skymaps" / "DC2.py"
    config.write_text(config.read_text().replace('config.name = "DC2"', "# no name"))
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    assert "config.name" in by_name(report, "skymap.config")["summary"]


def test_missing_tree(tree: Path, tmp_path: Path) -> None:
    shutil.rmtree(tree / "refcats")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    assert "does not exist" in by_name(report, "tree.DP02_REFCATS")["summary"]


def test_repo_place_not_writable(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status, report, _ = run(tree, tmp_path, repo=str(blocker / "repo"))
    assert status == 1
    assert "not a directory" in by_name(report, "output.REPO")["summary"]


def test_db_check(tree: Path, tmp_path: Path) -> None:
    status, report, _ = run(tree, tmp_path, registry_db="postgresql",
                            db_check=str(tmp_path / "absent"))
    assert status == 0
    assert by_name(report, "registry.db-check")["status"] == "warning"
    script = tmp_path / "db-check"
    script.write_text("#!/bin/sh\necho 'db-check: error: btree_gist is missing'\nexit 2\n")
    script.chmod(0o755)
    status, report, _ = run(tree, tmp_path, registry_db="postgresql", db_check=str(script))
    assert status == 1
    check = by_name(report, "registry.db-check")
    assert check["status"] == "error" and "btree_gist" in check["summary"]
    script.write_text("#!/bin/sh\necho ok\n")
    status, report, _ = run(tree, tmp_path, registry_db="postgresql", db_check=str(script))
    assert status == 0 and by_name(report, "registry.db-check")["status"] == "ok"


def test_bad_expected_count(tree: Path, tmp_path: Path) -> None:
    assert check_inputs.main(["--raw", "x", "--calib", "x", "--refcats", "x", "--skymap-dir",
                              "x", "--skymap-config", "x", "--raw-years", "y1", "--repo", "x",
                              "--state-dir", "x", "--report", str(tmp_path / "r.json"),
                              "--expected-visits", "many"]) == 2


def test_bench_script_help() -> None:
    result = subprocess.run([str(ROOT / "bench" / "check_inputs_full_scale.sh"), "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "Usage:" in result.stdout


def cut_export(tree: Path, before: str) -> None:
    """Cut export.yaml just before the first line starting with ``before``."""
    export = tree / "calib" / "export.yaml"
    lines = export.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(before))
    export.write_text("".join(lines[:first]))


def test_export_cut_before_its_datasets(tree: Path, tmp_path: Path) -> None:
    cut_export(tree, "- type: dataset_type")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "calib.export")
    assert check["status"] == "error" and "names no dataset (0 datasets)" in check["summary"]
    unnamed = by_name(report, "calib.unnamed-files")
    assert len(unnamed["details"]["unnamed"]) == 16


def test_export_cut_before_its_associations(tree: Path, tmp_path: Path) -> None:
    cut_export(tree, "- type: associations")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "calib.export")
    assert "16 of its 16 calibration datasets are certified in no CALIBRATION" in \
        check["summary"]
    assert by_name(report, "calib.files")["status"] == "ok"


def test_export_cut_inside_a_record(tree: Path, tmp_path: Path) -> None:
    export = tree / "calib" / "export.yaml"
    lines = export.read_text().splitlines(keepends=True)
    last_path = max(i for i, line in enumerate(lines) if line.strip().startswith("path:"))
    export.write_text("".join(lines[:last_path]))
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    summary = by_name(report, "calib.export")["summary"]
    assert "1 dataset entries lack their dataset_id, data_id or path" in summary
    assert by_name(report, "calib.unnamed-files")["details"]["unnamed"][0].endswith(".ecsv")


def test_calibration_file_damaged_and_stray_file(tree: Path, tmp_path: Path) -> None:
    victim = sorted((tree / "calib").rglob("dark_*"))[0]
    victim.write_bytes(b"")
    (tree / "calib" / "notes.txt").write_text("not a calibration\n")
    status, report, _ = run(tree, tmp_path)
    assert status == 1
    bad = by_name(report, "calib.files")["details"]["bad"]
    assert bad == [f"{victim.relative_to(tree / 'calib')} (empty, 0 bytes)"]
    assert by_name(report, "calib.unnamed-files")["details"]["unnamed"] == ["notes.txt"]


def test_raw_problems_are_named(tree: Path, tmp_path: Path) -> None:
    first, second = visit_dirs(tree)[:2]
    empty = sorted(first.glob("lsst_a_*.fits"))[0]
    empty.write_bytes(b"")
    link = sorted(second.glob("lsst_a_*.fits"))[0]
    link.unlink()
    link.symlink_to(tmp_path / "nowhere.fits")
    status, report, table = run(tree, tmp_path)
    assert status == 1
    check = by_name(report, "raw.files")
    assert check["details"]["bad"] == [
        f"{empty.relative_to(tree / 'raw')} (empty, 0 bytes)",
        f"{link.relative_to(tree / 'raw')} (a dangling symbolic link (to {tmp_path}/nowhere.fits))"]
    assert "Copy the truncated or damaged ones again" in check["summary"]
    assert "error: raw.files" in table


def test_raws_checked_in_processes(tree: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """From PARALLEL_VISITS visit directories on, JOBS processes: the same findings. A file
    of the right size that is no FITS is found by astropy: with FITS_SAMPLE=all, or when the
    sample picks it (not with FITS_SAMPLE=0, its size standing out in nothing)."""
    empty = sorted(visit_dirs(tree)[1].glob("lsst_a_*.fits"))[0]
    empty.write_bytes(b"")
    page = sorted(visit_dirs(tree)[4].glob("lsst_a_*.fits"))[1]
    page.write_bytes(b"<html>".ljust(page.stat().st_size))
    serial = run(tree, tmp_path, fits_sample="0")
    monkeypatch.setattr(check_inputs, "PARALLEL_VISITS", 2)
    parallel = run(tree, tmp_path, jobs="2", fits_sample="0")
    assert serial[0] == parallel[0] == 1
    assert by_name(serial[1], "raw.files")["details"] == \
        by_name(parallel[1], "raw.files")["details"]
    assert by_name(parallel[1], "raw.files")["details"]["bad"] == [
        f"{empty.relative_to(tree / 'raw')} (empty, 0 bytes)"]
    for jobs in ("1", "2"):
        status, report, _ = run(tree, tmp_path, jobs=jobs, fits_sample="all")
        check = by_name(report, "raw.files")
        assert check["details"]["opened_by_astropy"] == 11
        assert f"{page.relative_to(tree / 'raw')} (astropy cannot read it as FITS" in \
            check["summary"]


def test_truth_summary_files(tree: Path, tmp_path: Path) -> None:
    truth = tree / "truth_summary"
    status, report, _ = run(tree, tmp_path, truth_dir=str(truth))
    assert status == 0
    assert by_name(report, "truth.files")["status"] == "ok"
    files = sorted((truth / "truth_parquet").glob("*.parq"))
    files[0].write_bytes(files[0].read_bytes()[:100])
    files[1].write_bytes(b"")
    status, report, _ = run(tree, tmp_path, truth_dir=str(truth))
    assert status == 1
    bad = by_name(report, "truth.files")["details"]["bad"]
    assert bad[0].startswith(f"{files[0].name} (pyarrow cannot read it as Parquet (")
    assert bad[1] == f"{files[1].name} (empty, 0 bytes)"
    status, report, _ = run(tree, tmp_path, truth_dir=str(tmp_path / "elsewhere"))
    assert "set TRUTH_SUMMARY=no" in by_name(report, "truth.files")["summary"]
