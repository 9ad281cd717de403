"""Steps whose work is partly in the registry (stamps lost): refcats ingests only the
missing rows, import-calibs stops and names what is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import Build


def own_tree(mini_tree: Path, tmp_path: Path) -> Path:
    """A copy of the miniature tree: pruning datasets may remove their files."""
    copy = tmp_path / "inputs"
    shutil.copytree(mini_tree, copy, symlinks=True)
    return copy


def remove_datasets(build: Build, dataset_type: str, collection: str, keep: int) -> int:
    """Prune all but ``keep`` datasets of a collection from the repository."""
    code = (
        "import sys\n"
        "from lsst.daf.butler import Butler\n"
        "b = Butler(sys.argv[1], writeable=True)\n"
        "refs = sorted(set(b.registry.queryDatasets(sys.argv[2], collections=[sys.argv[3]])),"
        " key=lambda ref: str(ref.dataId))\n"
        "b.pruneDatasets(refs[int(sys.argv[4]):], disassociate=True, unstore=True, purge=True)\n"
        "print(len(refs) - int(sys.argv[4]))\n"
    )
    result = subprocess.run(
        [build.python, "-c", code, str(build.repo), dataset_type,
         collection, str(keep)],
        env=build.env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_refcats_ingests_only_missing_rows(tmp_path: Path, mini_tree: Path,
                                           runtime: str) -> None:
    mini_tree = own_tree(mini_tree, tmp_path)
    build = Build(tmp_path, mini_tree, runtime=runtime)
    build.make("refcats")
    total = len(list((mini_tree / "refcats" / "cal_ref_cat").glob("*.fits")))
    removed = remove_datasets(build, "cal_ref_cat_2_2", "refcats", keep=total - 2)
    assert removed == 2
    build.make("reset", "STEP=refcats")
    calls = len(build.butler_calls())
    result = build.make("refcats")
    assert "refcats ... done in" in result.stderr
    new_calls = build.butler_calls()[calls:]
    ingests = [c for c in new_calls if " ingest-files " in c]
    assert len(ingests) == 1
    assert ingests[0].endswith("refcat-remaining.ecsv")
    from astropy.table import Table

    remaining = Table.read(build.state / "refcat-remaining.ecsv")
    assert len(remaining) == 2
    log = (build.state / "logs" / "refcats.log").read_text()
    assert f"{total - 2}/{total} in refcats" in log
    # And now everything is there: a third run has nothing to do.
    build.make("reset", "STEP=refcats")
    result = build.make("refcats")
    assert f"already done ({total}/{total} in refcats)" in result.stderr


def test_partial_import_stops_and_names_what_is_missing(tmp_path: Path, mini_tree: Path,
                                                        runtime: str) -> None:
    mini_tree = own_tree(mini_tree, tmp_path)
    build = Build(tmp_path, mini_tree, runtime=runtime)
    build.make("import-calibs")
    run = "2.2i/calib/gen2/20220806T000000Z"
    removed = remove_datasets(build, "flat", run, keep=1)
    build.make("reset", "STEP=import-calibs")
    calls = len(build.butler_calls())
    result = build.make("import-calibs", check=False)
    assert result.returncode != 0
    assert "part of the calibration import" in result.stderr
    assert f"flat in {run}: 1 of {removed + 1}" in result.stderr
    assert "bias" not in result.stderr.split("what is missing")[1].split("A second import")[0]
    assert not (build.state / "stamps" / "import-calibs.done").exists()
    assert not [c for c in build.butler_calls()[calls:] if " import " in c]


def test_raws_refuses_an_exposure_with_more_files_than_raws(tmp_path: Path, mini_tree: Path,
                                                           runtime: str) -> None:
    """A file added to an ingested visit directory: the registry check counts raws per
    exposure (totals first, the detail only on a mismatch) and names the exposure."""
    mini_tree = own_tree(mini_tree, tmp_path)
    build = Build(tmp_path, mini_tree, runtime=runtime)
    build.make("raws-y1-wfd")
    visit = sorted((mini_tree / "raw" / "y1-wfd").iterdir())[0]
    first = sorted(visit.glob("*.fits"))[0]
    shutil.copy(first, visit / f"extra_{first.name}")
    files = len(list(visit.glob("*.fits")))
    build.make("reset", "STEP=raws")
    calls = len(build.butler_calls())
    result = build.make("raws-y1-wfd", check=False)
    assert result.returncode != 0
    assert "not one per file" in result.stderr, result.stderr
    assert f"{visit.name}: {files - 1} raws, {files} files" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [c for c in build.butler_calls()[calls:] if " ingest-raws " in c]
    assert not (build.state / "stamps" / "raws-y1-wfd.done").exists()
