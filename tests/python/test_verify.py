"""py/verify_repo.py against a real daf_butler SQLite repository.

The repository is built once per module from the miniature input tree by
``_verify_fixture.build_repo``, directly with the daf_butler API (the real
``Butler.import_`` of the calibration export; registry-only stand-ins for the
stack steps: see that module's docstring for which is which). Each test that
breaks something works on its own copy of the repository (or of the inputs).
"""

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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _verify_fixture  # noqa: E402
import verify_repo  # noqa: E402

S = _verify_fixture.SETTINGS
YEARS = ["y1-wfd", "y2-wfd"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The miniature inputs and a good repository built from them, made once."""
    base = tmp_path_factory.mktemp("verify")
    top = base / "dp0.2"
    subprocess.run([sys.executable, str(ROOT / "py" / "make_mini_inputs.py"), "--out", str(top),
                    "--years", "2", "--visits", "3", "--pixels", "0"], check=True,
                   capture_output=True)
    _verify_fixture.build_repo(top, base / "repo", base / "repo-state", YEARS)
    return {"top": top, "repo": base / "repo", "state": base / "repo-state"}


@pytest.fixture
def work(built: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    """A private copy of the repository and its state directory (inputs shared)."""
    repo = tmp_path / "repo"
    state = tmp_path / "repo-state"
    shutil.copytree(built["repo"], repo)
    shutil.copytree(built["state"], state)
    return {"top": built["top"], "repo": repo, "state": state}


def run(work: dict[str, Path], **overrides: str) -> tuple[int, dict[str, Any], str]:
    """Run verify_repo.main on ``work``; return exit status, report and table."""
    top, state = work["top"], work["state"]
    settings = {
        "repo": str(work["repo"]), "instrument": S["INSTRUMENT"], "calib": str(top / "calib"),
        "calib-collection": S["CALIB_COLLECTION"],
        "curated-collection": S["CURATED_COLLECTION"],
        "skymap-config": str(top / "skymaps" / "DC2.py"),
        "refcat-collection": S["REFCAT_COLLECTION"],
        "refcat-dataset-type": S["REFCAT_DATASET_TYPE"],
        "refcat-table": str(state / "refcat.ecsv"), "refcats": str(top / "refcats"),
        "truth-dir": str(top / "truth_summary"),
        "truth-table": str(state / "truth-summary.ecsv"), "raw": str(top / "raw"),
        "raw-years": " ".join(YEARS), "raw-collection": S["RAW_COLLECTION"],
        "defaults-chain": S["DEFAULTS_CHAIN"],
        "defaults-chain-children": S["DEFAULTS_CHAIN_CHILDREN"],
        "tree": str(ROOT / "etc" / "tree-mini.yaml"),
        "report": str(state / "reports" / "verify.json"),
        "table": str(state / "reports" / "verify.txt"),
    }
    settings.update({k.replace("_", "-"): v for k, v in overrides.items()})
    argv = [a for k, v in settings.items() for a in (f"--{k}", v)] + ["--quiet"]
    status = verify_repo.main(argv)
    report = json.loads(Path(settings["report"]).read_text())
    return status, report, Path(settings["table"]).read_text()


def row(report: dict[str, Any], name: str) -> dict[str, Any]:
    rows = [r for r in report["checks"] if r["check"] == name]
    assert rows, f"no row {name}: {[r['check'] for r in report['checks']]}"
    return rows[0]


def writeable(repo: Path) -> Any:
    from lsst.daf.butler import Butler

    return Butler(str(repo), writeable=True)


def test_good_repository_passes(work: dict[str, Path]) -> None:
    status, report, table = run(work)
    assert status == 0, table
    assert set(report) == {"report", "version", "created", "duration_s", "repo", "ok",
                           "mismatches", "checks"}
    assert report["ok"] is True and report["mismatches"] == []
    assert [r["check"] for r in report["checks"]] == [
        "instrument", "calib:bias", "calib:dark", "calib:flat", "curated-collection", "skymap",
        "refcats", "refcats:listing", "exposures", "raws", "raws:listing", "visits",
        "truth-summary", "truth-summary:listing", "defaults-chain", "tree:collections",
        "tree:dataset-types", "tree:physical-filters", "tree:instrument"]
    assert all(set(r) == {"check", "expected", "found", "ok", "detail"} for r in report["checks"])
    assert row(report, "calib:flat")["expected"] == 12 and row(report, "calib:flat")["found"] == 12
    assert row(report, "exposures")["found"] == 6
    assert row(report, "raws")["expected"] == 12 and row(report, "raws")["found"] == 12
    assert row(report, "visits")["found"] == 6
    assert "verify: 19 of 19 checks match" in table
    assert row(report, "raws:listing")["expected"] == 12
    assert row(report, "refcats:listing")["found"] == row(report, "refcats")["found"]
    assert sorted(p.name for p in (work["state"] / "reports").iterdir()) == [
        "verify.json", "verify.txt"]


def test_chain_child_removed(work: dict[str, Path]) -> None:
    children = S["DEFAULTS_CHAIN_CHILDREN"].split()
    writeable(work["repo"]).registry.setCollectionChain(S["DEFAULTS_CHAIN"], children[:-1])
    status, report, table = run(work)
    assert status == 1
    assert report["mismatches"] == ["defaults-chain", "tree:collections"]
    assert row(report, "tree:collections")["found"] == \
        f"collection {children[-1]} missing from chain {S['DEFAULTS_CHAIN']}"
    r = row(report, "defaults-chain")
    assert r["found"] == " ".join(children[:-1])
    assert f"missing: {children[-1]}" in r["detail"]
    assert "mismatch: defaults-chain" in table


def test_chain_in_another_order(work: dict[str, Path]) -> None:
    children = S["DEFAULTS_CHAIN_CHILDREN"].split()
    writeable(work["repo"]).registry.setCollectionChain(S["DEFAULTS_CHAIN"], children[::-1])
    status, report, _ = run(work)
    assert status == 1 and "another order" in row(report, "defaults-chain")["detail"]


def test_refcat_removed_from_registry(work: dict[str, Path]) -> None:
    registry = writeable(work["repo"]).registry
    refs = sorted(registry.queryDatasets(S["REFCAT_DATASET_TYPE"],
                                         collections=S["REFCAT_COLLECTION"]),
                  key=lambda ref: ref.dataId["htm7"])
    registry.removeDatasets(refs[:1])
    status, report, _ = run(work)
    assert status == 1
    assert report["mismatches"] == ["refcats", "refcats:listing"]
    r = row(report, "refcats")
    assert (r["expected"], r["found"]) == (len(refs), len(refs) - 1)
    assert f"missing from the registry: {refs[0].dataId['htm7']}" in r["detail"]


def test_calibration_decertified(work: dict[str, Path]) -> None:
    from lsst.daf.butler import Timespan

    registry = writeable(work["repo"]).registry
    registry.decertify("2.2i/calib/gen2", "flat", Timespan(None, None),
                       dataIds=[{"instrument": S["INSTRUMENT"], "detector": 94,
                                 "physical_filter": "g_sim_1.4"}])
    status, report, _ = run(work)
    assert status == 1
    assert report["mismatches"] == ["calib:flat"]
    assert (row(report, "calib:flat")["expected"], row(report, "calib:flat")["found"]) == (12, 11)


def test_curated_collection_missing(work: dict[str, Path]) -> None:
    status, report, _ = run(work, curated_collection="LSSTCam-imSim/calib/nope")
    assert status == 1 and report["mismatches"] == ["curated-collection"]
    assert row(report, "curated-collection")["found"] == "missing"


def test_skymap_not_registered(work: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "Other.py"
    config.write_text('config.name = "Other"\n')
    status, report, _ = run(work, skymap_config=str(config))
    assert status == 1 and report["mismatches"] == ["skymap"]
    assert "DC2" in row(report, "skymap")["detail"]


def test_instrument_not_registered(work: dict[str, Path]) -> None:
    status, report, _ = run(work, instrument="LSSTCam")
    assert status == 1
    assert "instrument" in report["mismatches"] and "exposures" in report["mismatches"]


def test_exposures_and_raws_against_the_inputs(work: dict[str, Path], tmp_path: Path) -> None:
    # An extra visit directory (not ingested) and an extra file listed in an index.
    top = tmp_path / "inputs"
    shutil.copytree(work["top"], top)
    first = sorted((top / "raw" / "y1-wfd").iterdir())[0]
    extra = top / "raw" / "y1-wfd" / "01235077"
    shutil.copytree(first, extra)
    status, report, _ = run({**work, "top": top})
    assert status == 1
    assert report["mismatches"] == ["exposures", "raws", "raws:listing"]
    assert row(report, "exposures")["expected"] == 7
    assert "1235077" in row(report, "exposures")["detail"]
    assert (row(report, "raws")["expected"], row(report, "raws")["found"]) == (14, 12)


def test_raw_counted_from_files_without_index(work: dict[str, Path], tmp_path: Path) -> None:
    top = tmp_path / "inputs"
    shutil.copytree(work["top"], top)
    (sorted((top / "raw" / "y2-wfd").iterdir())[0] / "_index.json").unlink()
    status, report, _ = run({**work, "top": top})
    assert status == 0
    assert "1 visit directories without index" in row(report, "raws")["detail"]


def test_missing_refcat_table(work: dict[str, Path]) -> None:
    (work["state"] / "refcat.ecsv").unlink()
    status, report, _ = run(work)
    assert status == 1 and report["mismatches"] == ["refcats"]
    assert "make refcat-table" in row(report, "refcats")["detail"]


def test_expected_calibs_from_the_export(built: dict[str, Path]) -> None:
    export = str(built["top"] / "calib" / "export.yaml")
    counts, how = verify_repo.expected_calibs(export, "2.2i/calib")
    assert counts == {"bias": 2, "dark": 2, "flat": 12}
    assert "2.2i/calib/gen2" in how
    counts, how = verify_repo.expected_calibs(export, "not/in/export")
    assert counts == {"bias": 2, "dark": 2, "flat": 12} and "not defined" in how


def test_refcat_table_reader(tmp_path: Path) -> None:
    table = tmp_path / "t.ecsv"
    table.write_text('# %ECSV 1.0\n# ---\n# delimiter: ","\nfilename,htm7\n"/a b/1.fits",141440\n'
                     "/c/2.fits,141441\n")
    assert verify_repo.read_refcat_table(str(table)) == [141440, 141441]


def test_not_a_repository(tmp_path: Path) -> None:
    args = ["--repo", str(tmp_path)] + [a for opt in (
        "instrument", "calib", "calib-collection", "curated-collection", "skymap-config",
        "refcat-collection", "refcat-dataset-type", "refcat-table", "raw", "raw-years",
        "raw-collection", "defaults-chain", "defaults-chain-children", "report")
        for a in (f"--{opt}", "x")]
    assert verify_repo.main(args) == 2


def remove_truth(repo: Path, collection: bool) -> None:
    """Remove the truth_summary datasets and dataset type, and maybe their collection."""
    butler = writeable(repo)
    registry = butler.registry
    refs = list(registry.queryDatasets(S["TRUTH_DATASET_TYPE"],
                                       collections=[S["TRUTH_COLLECTION"]]))
    registry.removeDatasets(refs)
    registry.removeDatasetType(S["TRUTH_DATASET_TYPE"])
    if collection:
        children = [c for c in S["DEFAULTS_CHAIN_CHILDREN"].split()
                    if c != S["TRUTH_COLLECTION"]]
        registry.setCollectionChain(S["DEFAULTS_CHAIN"], children)
        registry.removeCollection(S["TRUTH_COLLECTION"])


def test_tree_names_a_removed_dataset_type(work: dict[str, Path]) -> None:
    remove_truth(work["repo"], collection=False)
    status, report, table = run(work)
    assert status == 1
    assert report["mismatches"] == ["truth-summary", "truth-summary:listing",
                                    "tree:dataset-types"]
    assert row(report, "tree:dataset-types")["found"] == "dataset type truth_summary missing"


def test_tree_names_a_removed_collection(work: dict[str, Path]) -> None:
    remove_truth(work["repo"], collection=True)
    status, report, table = run(work)
    assert status == 1
    assert report["mismatches"] == ["truth-summary", "truth-summary:listing", "defaults-chain",
                                    "tree:collections", "tree:dataset-types"]
    found = row(report, "tree:collections")["found"]
    assert found == ("collection 2.2i/truth_summary missing; "
                     "collection 2.2i/truth_summary missing from chain 2.2i/defaults")
    assert "mismatch: tree:collections" in table


def test_tree_without_truth_summary(work: dict[str, Path]) -> None:
    remove_truth(work["repo"], collection=True)
    children = " ".join(c for c in S["DEFAULTS_CHAIN_CHILDREN"].split()
                        if c != S["TRUTH_COLLECTION"])
    status, report, _table = run(work, truth_summary="no", defaults_chain_children=children)
    assert status == 0, report["mismatches"]


def test_tree_names_a_chain_in_another_order(work: dict[str, Path]) -> None:
    children = S["DEFAULTS_CHAIN_CHILDREN"].split()
    writeable(work["repo"]).registry.setCollectionChain(S["DEFAULTS_CHAIN"], children[::-1])
    status, report, _table = run(work)
    assert "tree:collections" in report["mismatches"]
    assert "chain 2.2i/defaults has its children in another order" in \
        row(report, "tree:collections")["found"]


def test_refcat_skipped_by_the_table_is_named(work: dict[str, Path], tmp_path: Path) -> None:
    """A dangling link named <htm7>.fits: the table skipped it, the listing names it."""
    top = tmp_path / "inputs"
    shutil.copytree(work["top"], top, symlinks=True)
    (top / "refcats" / "cal_ref_cat" / "131072.fits").symlink_to(tmp_path / "gone.fits")
    status, report, table = run({**work, "top": top})
    assert status == 1
    assert report["mismatches"] == ["refcats:listing"]
    r = row(report, "refcats:listing")
    assert r["expected"] == r["found"] + 1
    assert "131072 (a dangling symbolic link" in r["detail"]
    assert "mismatch: refcats:listing" in table


def test_raw_not_in_its_index_is_named(work: dict[str, Path], tmp_path: Path) -> None:
    top = tmp_path / "inputs"
    shutil.copytree(work["top"], top)
    visit = sorted((top / "raw" / "y2-wfd").iterdir())[0]
    source = sorted(visit.glob("lsst_a_*.fits"))[0]
    shutil.copy(source, visit / source.name.replace("R22_S11", "R22_S10"))
    status, report, _ = run({**work, "top": top})
    assert status == 1
    assert report["mismatches"] == ["raws:listing"]
    r = row(report, "raws:listing")
    assert (r["expected"], r["found"]) == (13, 12)
    assert f"y2-wfd/{visit.name} (not in its index: lsst_a_" in r["detail"]


def test_truth_file_not_ingested_is_named(work: dict[str, Path], tmp_path: Path) -> None:
    top = tmp_path / "inputs"
    shutil.copytree(work["top"], top)
    parquet = top / "truth_summary" / "truth_parquet"
    shutil.copy(sorted(parquet.iterdir())[0], parquet / "truth_patchint_tract9999.parq")
    status, report, _ = run({**work, "top": top})
    assert status == 1
    assert report["mismatches"] == ["truth-summary:listing"]
    assert "tract in the directory but not in the registry: 9999" in \
        row(report, "truth-summary:listing")["detail"]


def test_truth_row_missing_from_the_registry(work: dict[str, Path]) -> None:
    registry = writeable(work["repo"]).registry
    refs = sorted(registry.queryDatasets(S["TRUTH_DATASET_TYPE"],
                                         collections=S["TRUTH_COLLECTION"]),
                  key=lambda ref: ref.dataId["tract"])
    registry.removeDatasets(refs[:1])
    status, report, _ = run(work)
    assert status == 1
    assert report["mismatches"] == ["truth-summary", "truth-summary:listing"]
    assert f"tracts missing from the registry: {refs[0].dataId['tract']}" in \
        row(report, "truth-summary")["detail"]


def test_tree_names_an_instrument_record_field(work: dict[str, Path], tmp_path: Path) -> None:
    """An instrument record that differs from the expected tree's is named, field by field."""
    tree = tmp_path / "tree.yaml"
    text = (ROOT / "etc" / "tree-mini.yaml").read_text()
    assert "detector_max: 1000}" in text
    tree.write_text(text.replace("detector_max: 1000}", "detector_max: 189}"))
    status, report, _table = run(work, tree=str(tree))
    assert status == 1
    assert report["mismatches"] == ["tree:instrument"]
    assert row(report, "tree:instrument")["found"] == \
        f"instrument {S['INSTRUMENT']} detector_max is 1000, expected 189"


def test_tree_names_what_is_not_expected(work: dict[str, Path]) -> None:
    """A collection or a dataset type that the published end state does not have is named."""
    from lsst.daf.butler import DatasetType

    butler = writeable(work["repo"])
    butler.registry.registerRun("u/someone/scratch")
    butler.registry.registerDatasetType(DatasetType(
        "scratch_table", ["instrument"], "DataFrame", universe=butler.registry.dimensions))
    status, report, _table = run(work)
    assert status == 1
    assert report["mismatches"] == ["tree:collections", "tree:dataset-types"]
    assert row(report, "tree:collections")["found"] == \
        "collection u/someone/scratch (RUN) not expected"
    assert row(report, "tree:dataset-types")["found"] == "dataset type scratch_table not expected"
