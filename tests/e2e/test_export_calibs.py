"""`make export-calibs` for real (daf_butler's own command, not a stand-in): the calibrations
of a toolkit-built miniature repository (built up to curated-calibs: the source site has
calibrations, the rest does not matter to the export) -> export -> a fresh `make repo` with
the export as DP02_CALIB -> verify passes, with the same calibration datasets (types, data
IDs, validity ranges)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import Build

CALIBS = r"""
import json, sys
from lsst.daf.butler import Butler, CollectionType
b = Butler(sys.argv[1])
r = b.registry
out = []
types = [t for t in r.queryDatasetTypes() if t.isCalibration()]
for t in types:
    for a in r.queryDatasetAssociations(t, collections=[sys.argv[2]], flattenChains=True,
                                        collectionTypes={CollectionType.CALIBRATION}):
        span = a.timespan
        out.append([t.name, str(t.dimensions), sorted((k, str(v)) for k, v in
                    a.ref.dataId.mapping.items()) if hasattr(a.ref.dataId, "mapping") else
                    sorted((str(k), str(v)) for k, v in a.ref.dataId.items()),
                    a.collection,
                    None if span is None or span.begin is None else span.begin.isot,
                    None if span is None or span.end is None else span.end.isot])
print(json.dumps(sorted(out)))
"""


def calibrations(build: Build, collection: str = "2.2i/calib") -> list:
    """Every certified calibration of ``collection``: type, dimensions, data ID, validity."""
    result = subprocess.run([build.python, "-c", CALIBS,
                             str(build.repo), collection], env=build.env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path, runtime: str) -> Build:
    build = Build(tmp_path_factory.mktemp(f"source-{runtime}"), mini_tree, runtime=runtime)
    build.make("curated-calibs")
    return build


def a_run_collection(build: Build) -> str:
    """One RUN collection of the repository (the export refuses RUN collections)."""
    code = ("import sys\nfrom lsst.daf.butler import Butler, CollectionType\n"
            "r = Butler(sys.argv[1]).registry\n"
            "print(sorted(r.queryCollections(collectionTypes={CollectionType.RUN}))[0])\n")
    result = subprocess.run([build.python, "-c", code, str(build.repo)], env=build.env,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_round_trip(source: Build, tmp_path: Path, mini_tree: Path) -> None:
    export = tmp_path / "export"
    result = source.make("export-calibs", env={"SOURCE_REPO": str(source.repo),
                                               "EXPORT_DIR": str(export)})
    assert "exported into" in result.stderr, result.stderr
    assert (export / "export.yaml").is_file()
    assert not list(tmp_path.glob(".export-calibs.*"))  # the work directory is gone
    calls = [c for c in source.butler_calls() if " export-calibs " in f" {c} "]
    calls = [c for c in calls if not c.endswith("--help")]
    assert len(calls) == 1 and calls[0].endswith("/export 2.2i/calib"), calls

    rebuilt = Build(tmp_path / "rebuilt", mini_tree, extra_env={"DP02_CALIB": str(export)},
                    runtime=source.runtime)
    out = rebuilt.make("repo")
    assert "verify ... done" in out.stderr
    before, after = calibrations(source), calibrations(rebuilt)
    assert before, "the source repository has no certified calibrations"
    assert after == before


def test_refusals(source: Build, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "old.txt").write_text("x")
    result = source.make("export-calibs", check=False,
                         env={"SOURCE_REPO": str(source.repo), "EXPORT_DIR": str(busy)})
    assert result.returncode != 0 and "is not empty (old.txt)" in result.stderr
    for collection, words in (("no/such", "does not exist"),
                              (a_run_collection(source), "is a RUN collection")):
        result = source.make("export-calibs", check=False, env={
            "SOURCE_REPO": str(source.repo), "EXPORT_DIR": str(tmp_path / "new"),
            "EXPORT_CALIB_COLLECTION": collection})
        assert result.returncode != 0 and words in result.stderr, result.stderr
        assert not (tmp_path / "new").exists()
    assert (busy / "old.txt").read_text() == "x"
