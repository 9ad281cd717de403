"""Build a miniature DP0.2 repository directly with the daf_butler API (tests only).

Used by ``test_verify.py`` until the toolkit's own steps (``make repo`` with the stack
stand-ins) can build one: it makes, from a miniature input tree, the same collections,
dimension records and datasets the real steps make, so ``verify`` has something true to
check. What stands in for what:

- ``butler import`` of ``export.yaml``           -> ``Butler.import_`` (the real thing, direct);
- ``register-instrument``                       -> the instrument record comes with the import;
- ``write-curated-calibrations``                -> an empty CALIBRATION collection;
- ``register-skymap``                           -> a skymap dimension record;
- ``refcat-table`` + ``ingest-files``           -> the ECSV table, and registry-only datasets
                                                   (``registry.insertDatasets``: no datastore);
- ``ingest-raws`` + ``define-visits``           -> exposure/visit records read from the
                                                   ``_index.json`` files, registry-only raws;
- ``chain``                                     -> ``registerCollection`` + ``setCollectionChain``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

INDEX_SPECIAL_KEYS = ("__COMMON__", "__CONTENT__")

SETTINGS = {
    "INSTRUMENT": "LSSTCam-imSim",
    "CALIB_COLLECTION": "2.2i/calib",
    "CURATED_COLLECTION": "LSSTCam-imSim/calib",
    "RAW_COLLECTION": "LSSTCam-imSim/raw/all",
    "SKYMAP_COLLECTION": "skymaps",
    "REFCAT_COLLECTION": "refcats",
    "DEFAULTS_CHAIN": "2.2i/defaults",
    "DEFAULTS_CHAIN_CHILDREN": "LSSTCam-imSim/raw/all 2.2i/calib skymaps refcats "
                               "2.2i/truth_summary",
    "REFCAT_DATASET_TYPE": "cal_ref_cat_2_2",
    "TRUTH_COLLECTION": "2.2i/truth_summary",
    "TRUTH_DATASET_TYPE": "truth_summary",
}


def _fit(universe: Any, element: str, values: dict[str, Any]) -> dict[str, Any]:
    names = set(universe[element].RecordClass.fields.names)
    return {k: v for k, v in values.items() if k in names}


def _has(universe: Any, element: str) -> bool:
    try:
        universe[element]
    except (KeyError, LookupError):
        return False
    return True


def write_refcat_table(top: Path, path: Path) -> int:
    """Write the refcat table (ECSV: filename, htm7) as the refcat-table step does."""
    directory = top / "refcats" / "cal_ref_cat"
    names = sorted(n for n in os.listdir(directory) if n.endswith(".fits"))
    lines = ["# %ECSV 1.0", "# ---", "# datatype:", "# - {name: filename, datatype: string}",
             "# - {name: htm7, datatype: int64}", "# schema: astropy-2.0", "filename htm7"]
    lines += [f"{directory / n} {n[:6]}" for n in names]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return len(names)


def write_truth_table(top: Path, tracts: list[int], path: Path) -> None:
    """Write the truth table (ECSV: filename, skymap, tract) as the truth-summary step does."""
    directory = top / "truth_summary" / "truth_parquet"
    lines = ["# %ECSV 1.0", "# ---", "# datatype:", "# - {name: filename, datatype: string}",
             "# - {name: skymap, datatype: string}", "# - {name: tract, datatype: int64}",
             "# schema: astropy-2.0", "filename skymap tract"]
    lines += [f"{directory / f'truth_patchint_tract{t}.parq'} DC2 {t}" for t in tracts]
    path.write_text("\n".join(lines) + "\n")


def build_repo(top: Path, repo: Path, state_dir: Path, years: list[str]) -> None:
    """Build the repository ``repo`` from the miniature tree ``top``.

    Parameters
    ----------
    top : `pathlib.Path`
        The miniature input tree (``make_mini_inputs.py`` output).
    repo : `pathlib.Path`
        Where to create the repository.
    state_dir : `pathlib.Path`
        Where the refcat table goes (``refcat.ecsv``).
    years : `list` [`str`]
        Year directories to "ingest".
    """
    from astropy.time import Time
    from lsst.daf.butler import Butler, CollectionType, DatasetType, Timespan

    s = SETTINGS
    Butler.makeRepo(str(repo))
    butler = Butler(str(repo), writeable=True)
    registry = butler.registry
    universe = registry.dimensions
    # import-calibs (brings the instrument, detector and physical_filter records).
    butler.import_(directory=str(top / "calib"), filename=str(top / "calib" / "export.yaml"),
                   transfer="direct")
    instrument = s["INSTRUMENT"]
    detectors = {r.full_name: r.id for r in registry.queryDimensionRecords(
        "detector", instrument=instrument)}
    # curated-calibs.
    registry.registerCollection(s["CURATED_COLLECTION"], CollectionType.CALIBRATION)
    registry.registerRun(s["CURATED_COLLECTION"] + "/unbounded")
    registry.registerDatasetType(DatasetType("camera", ["instrument"], "Camera",
                                             isCalibration=True, universe=universe))
    # register-skymap.
    registry.registerRun(s["SKYMAP_COLLECTION"])
    registry.registerDatasetType(DatasetType("skyMap", ["skymap"], "SkyMap", universe=universe))
    registry.insertDimensionData("skymap", {"name": "DC2", "hash": hashlib.sha1(b"DC2").digest(),
                                            "tract_max": 18938, "patch_nx_max": 7,
                                            "patch_ny_max": 7})
    # refcat-table and refcats.
    write_refcat_table(top, state_dir / "refcat.ecsv")
    refcat_type = DatasetType(s["REFCAT_DATASET_TYPE"], ["htm7"], "SimpleCatalog",
                              universe=universe)
    registry.registerDatasetType(refcat_type)
    registry.registerRun(s["REFCAT_COLLECTION"])
    ids = [int(n[:6]) for n in os.listdir(top / "refcats" / "cal_ref_cat") if n.endswith(".fits")]
    registry.insertDatasets(refcat_type, [{"htm7": i} for i in ids], run=s["REFCAT_COLLECTION"])
    # truth-summary (tract records of the truth files' tracts, as register-skymap makes them).
    from lsst.sphgeom import Box, LonLat

    tracts = sorted(int(p.stem.rsplit("tract", 1)[1])
                    for p in (top / "truth_summary" / "truth_parquet").glob("*.parq"))
    region = Box(LonLat.fromDegrees(50, -45), LonLat.fromDegrees(75, -27))
    registry.insertDimensionData("tract", *[{"skymap": "DC2", "id": t, "region": region}
                                            for t in tracts])
    write_truth_table(top, tracts, state_dir / "truth-summary.ecsv")
    truth_type = DatasetType(s["TRUTH_DATASET_TYPE"], ["skymap", "tract"], "DataFrame",
                             universe=universe)
    registry.registerDatasetType(truth_type)
    registry.registerRun(s["TRUTH_COLLECTION"])
    registry.insertDatasets(truth_type, [{"skymap": "DC2", "tract": t} for t in tracts],
                            run=s["TRUTH_COLLECTION"])
    # raws-<year> and visits, from the index files.
    raw_type = DatasetType("raw", ["instrument", "detector", "exposure"], "Exposure",
                           universe=universe)
    registry.registerDatasetType(raw_type)
    registry.registerRun(s["RAW_COLLECTION"])
    if _has(universe, "visit_system"):  # daf_butler 23: each visit names its visit system
        registry.syncDimensionData("visit_system", {"instrument": instrument, "id": 0,
                                                    "name": "one-to-one"})
    for year in years:
        for visit_dir in sorted((top / "raw" / year).iterdir()):
            index = json.loads((visit_dir / "_index.json").read_text())
            common = index["__COMMON__"]
            files = {k: {**common, **v} for k, v in index.items() if k not in INDEX_SPECIAL_KEYS}
            header = next(iter(files.values()))
            visit = int(visit_dir.name)
            band = header["FILTER"]
            physical_filter = f"{band}_sim_1.4"
            start = Time(header["MJD-OBS"], format="mjd", scale="tai")
            end = Time(header["MJD-OBS"] + 30.0 / 86400, format="mjd", scale="tai")
            timespan = Timespan(start, end)
            day_obs = int(start.strftime("%Y%m%d"))
            if _has(universe, "day_obs"):
                registry.syncDimensionData("day_obs", _fit(universe, "day_obs", {
                    "instrument": instrument, "id": day_obs}))
            if _has(universe, "group"):
                registry.syncDimensionData("group", {"instrument": instrument,
                                                     "name": str(visit)})
            common_fields = {"instrument": instrument, "id": visit, "day_obs": day_obs,
                             "physical_filter": physical_filter, "exposure_time": 30.0,
                             "timespan": timespan, "seq_num": 0}
            registry.insertDimensionData("exposure", _fit(universe, "exposure", {
                **common_fields, "group": str(visit), "group_name": str(visit),
                "group_id": visit, "obs_id": str(visit), "dark_time": 30.0,
                "observation_type": "science", "observation_reason": "science",
                "target_name": "WFD", "science_program": "WFD", "has_simulated": True,
                "can_see_sky": True}))
            registry.insertDimensionData("visit", _fit(universe, "visit", {
                **common_fields, "name": str(visit), "visit_system": 0,
                "target_name": "WFD", "science_program": "WFD", "observation_reason": "science"}))
            data_ids = []
            for name in files:
                sensor = name.split("_")[3] + "_" + name.split("_")[4]
                data_ids.append({"instrument": instrument, "detector": detectors[sensor],
                                 "exposure": visit})
            registry.insertDatasets(raw_type, data_ids, run=s["RAW_COLLECTION"])
    # chain.
    registry.registerCollection(s["DEFAULTS_CHAIN"], CollectionType.CHAINED)
    registry.setCollectionChain(s["DEFAULTS_CHAIN"], s["DEFAULTS_CHAIN_CHILDREN"].split())
