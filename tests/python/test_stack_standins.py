"""Tests of the LSST stack stand-ins (``tests/stack_standins``).

The stand-ins replace, for tests only, the stack commands that the lite
runtime lacks (write-curated-calibrations, register-skymap, ingest-raws,
define-visits) and obs_lsst's instrument class.  These tests build a small
miniature tree, create a real SQLite repository and drive the real
``butler`` command with the plugin enabled, then check the repository with
daf_butler's Python API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY_DIR = ROOT / "py"
PLUGIN = ROOT / "tests" / "stack_standins" / "resources.yaml"
INSTRUMENT_CLASS = "tests.stack_standins.instrument.MiniLsstCamImSim"
INSTRUMENT = "LSSTCam-imSim"
RAW_RUN = "LSSTCam-imSim/raw/all"
CALIB = "LSSTCam-imSim/calib"
V23_FAILURE = "RuntimeError: Some failures encountered during ingestion"
STANDIN_COMMANDS = ("write-curated-calibrations", "register-skymap", "ingest-raws", "define-visits")

if str(PY_DIR) not in sys.path:
    sys.path.insert(0, str(PY_DIR))

butler_mod = pytest.importorskip("lsst.daf.butler")


def butler_exe() -> str:
    local = ROOT / ".venv" / "bin" / "butler"
    if local.exists():
        return str(local)
    found = shutil.which("butler")
    if found is None:
        pytest.skip("no butler command")
    return found


def plugin_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DAF_BUTLER_PLUGINS"] = str(PLUGIN)
    parts = [str(ROOT), str(PY_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.pop("STANDIN_INGEST_DELAY", None)
    env.pop("STANDIN_INGEST_V23_SPLIT", None)
    return env


def run_butler(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [butler_exe(), *args],
        env=plugin_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_fallback_tree(top: Path) -> None:
    """Two years of 2 visits x 2 sensors: index files and header-only FITS files."""
    import mini_camera as cam
    from astropy.io import fits

    sensors = ["R22_S11", "R22_S12"]
    for year, visits in ((1, (35834, 463523)), (2, (635284, 1016594))):
        for n, visit in enumerate(visits):
            band = cam.BANDS[(visit + n) % len(cam.BANDS)]
            vdir = top / "raw" / f"y{year}-wfd" / f"{visit:08d}"
            vdir.mkdir(parents=True)
            common = {
                "TESTTYPE": "IMSIM",
                "IMGTYPE": "SKYEXP",
                "OBSID": str(visit),
                "RUNNUM": visit,
                "MJD-OBS": 59853.3 + 200 * (year - 1) + n,
                "EXPTIME": 30.0,
                "DARKTIME": 30.0,
                "FILTER": band,
                "RADESYS": "ICRS",
                "RATEL": 60.0 + n,
                "DECTEL": -35.0,
                "ROTANGLE": 10.0,
                "AIRMASS": 1.1,
                "PKG00": "throughputs",
                "VER00": cam.THROUGHPUTS_VERSION,
                "RAFTNAME": "R22",
            }
            index: dict[str, Any] = {"__COMMON__": common, "__CONTENT__": "metadata"}
            for sensor in sensors:
                name = f"lsst_a_{visit:08d}_{sensor}_{band}.fits"
                extra = {
                    "SENSNAME": sensor[4:],
                    "CHIPID": sensor,
                    "LSST_NUM": cam.lsst_num(sensor),
                    "OUTFILE": name,
                }
                index[name] = extra
                header = fits.Header()
                for key, value in {**common, **extra}.items():
                    header[key] = value
                fits.PrimaryHDU(header=header).writeto(vdir / name)
            (vdir / "_index.json").write_text(json.dumps(index))
    sky = top / "skymaps"
    sky.mkdir()
    (sky / "DC2.py").write_text(
        'config.name = "DC2"\nconfig.skyMap = "rings"\nconfig.skyMap["rings"].numRings = 120\n'
        'config.skyMap["rings"].projection = "TAN"\n'
        'config.skyMap["rings"].tractOverlap = 1.0 / 60\n'
        'config.skyMap["rings"].pixelScale = 0.2\n'
    )


def make_tree(top: Path) -> None:
    generator = PY_DIR / "make_mini_inputs.py"
    if generator.exists():
        subprocess.run(
            [
                sys.executable,
                str(generator),
                "--out",
                str(top),
                "--years",
                "2",
                "--visits",
                "3",
                "--formatters",
                "lite",
                "--pixels",
                "4",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    else:
        write_fallback_tree(top)


def index_counts(year_dir: Path) -> dict[int, int]:
    """Raw files per exposure id, from the ``_index.json`` files of a year."""
    counts = {}
    for index in sorted(year_dir.glob("*/_index.json")):
        content = json.loads(index.read_text())
        files = [k for k in content if not k.startswith("__")]
        counts[int(index.parent.name)] = len(files)
    return counts


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build a repository with the stand-ins, keeping every command's result."""
    base = tmp_path_factory.mktemp("standins")
    top = base / "mini"
    make_tree(top)
    years = sorted(p for p in (top / "raw").iterdir() if p.is_dir())
    assert len(years) >= 2
    expected = {}
    for year in years[:2]:
        expected.update(index_counts(year))
    repo = base / "repo"
    r: dict[str, Any] = {"top": top, "repo": repo, "expected": expected}
    assert run_butler("create", str(repo)).returncode == 0
    # The --help checks do not touch the repository: run them side by side.
    helps = [(cmd, "--help") for cmd in (*STANDIN_COMMANDS, "register-instrument")] + [("--help",)]
    with ThreadPoolExecutor(max_workers=len(helps)) as pool:
        results = list(pool.map(lambda args: run_butler(*args), helps))
    r["help"] = {args[0]: result for args, result in zip(helps[:-1], results[:-1])}
    r["main_help"] = results[-1]
    r["instrument"] = [
        run_butler("register-instrument", str(repo), INSTRUMENT_CLASS) for _ in range(2)
    ]
    r["curated"] = [
        run_butler("write-curated-calibrations", str(repo), INSTRUMENT, "--collection", CALIB)
        for _ in range(2)
    ]
    dc2 = top / "skymaps" / "DC2.py"
    other = base / "other_skymap.py"
    other.write_text(dc2.read_text() + 'config.skyMap["rings"].numRings = 100\n')
    r["skymap"] = [run_butler("register-skymap", str(repo), "-C", str(dc2)) for _ in range(2)]
    r["skymap_conflict"] = run_butler("register-skymap", str(repo), "-C", str(other))

    y1_dirs = sorted(p for p in years[0].iterdir() if p.is_dir())
    y2_dirs = sorted(p for p in years[1].iterdir() if p.is_dir())
    # Year 1: a partial ingest, then only the remaining visit directories,
    # then the whole year again (every exposure already there: v23 failure).
    r["y1_first"] = run_butler("ingest-raws", "-t", "direct", str(repo), str(y1_dirs[0]))
    r["y1_rest"] = run_butler(
        "ingest-raws", "-t", "direct", "-j", "2", str(repo), *[str(d) for d in y1_dirs[1:]]
    )
    r["y1_again"] = run_butler("ingest-raws", "-t", "direct", str(repo), str(years[0]))
    # Year 2: the first visit read from FITS headers (its index removed),
    # then the whole year: the first exposure fails, the others get in.
    (y2_dirs[0] / "_index.json").unlink()
    r["y2_first"] = run_butler("ingest-raws", "-t", "copy", str(repo), str(y2_dirs[0]))
    r["y2_whole"] = run_butler("ingest-raws", "-t", "direct", str(repo), str(years[1]))
    r["visits"] = [run_butler("define-visits", str(repo), INSTRUMENT) for _ in range(2)]
    r["query_datasets"] = run_butler("query-datasets", str(repo), "raw", "--collections", RAW_RUN)
    return r


def open_butler(repo: Path) -> Any:
    return butler_mod.Butler.from_config(str(repo))


def test_plugin_commands_have_help(built: dict[str, Any]) -> None:
    for cmd, result in built["help"].items():
        assert result.returncode == 0, (cmd, result.stderr)
        assert "No such command" not in result.stderr
    assert built["main_help"].returncode == 0, built["main_help"].stderr
    assert "Duplicate commands" not in built["main_help"].stdout + built["main_help"].stderr
    for cmd in STANDIN_COMMANDS:
        assert cmd in built["main_help"].stdout


def test_register_instrument_is_rerunnable(built: dict[str, Any]) -> None:
    for result in built["instrument"]:
        assert result.returncode == 0, result.stderr
    import mini_camera as cam

    with open_butler(built["repo"]) as butler:
        detectors = {
            rec.id: rec.full_name
            for rec in butler.registry.queryDimensionRecords("detector", instrument=INSTRUMENT)
        }
        filters = {
            rec.name: rec.band
            for rec in butler.registry.queryDimensionRecords(
                "physical_filter", instrument=INSTRUMENT
            )
        }
    assert detectors[94] == "R22_S11" and detectors[95] == "R22_S12"
    assert len(detectors) == len(cam.all_sensor_names())
    assert filters == {cam.physical_filter(b): b for b in cam.BANDS}


def test_write_curated_calibrations(built: dict[str, Any]) -> None:
    first, second = built["curated"]
    assert first.returncode == 0, first.stderr
    assert second.returncode != 0
    assert "LSSTCam-imSim/calib/unbounded" in second.stderr
    from lsst.daf.butler import CollectionType

    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        assert reg.getCollectionType(CALIB) is CollectionType.CALIBRATION
        assert reg.getCollectionType(CALIB + "/unbounded") is CollectionType.RUN
        certified = list(reg.queryDatasets("camera", collections=CALIB, findFirst=False))
        assert len(certified) == 1


def test_register_skymap(built: dict[str, Any]) -> None:
    first, second = built["skymap"]
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    conflict = built["skymap_conflict"]
    assert conflict.returncode != 0
    assert "ConflictingDefinitionError" in conflict.stderr
    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        skymaps = list(reg.queryDimensionRecords("skymap"))
        assert [rec.name for rec in skymaps] == ["DC2"]
        assert skymaps[0].tract_max == 18938
        assert (skymaps[0].patch_nx_max, skymaps[0].patch_ny_max) == (7, 7)
        tracts = list(reg.queryDimensionRecords("tract", skymap="DC2"))
        assert tracts
        assert len(list(reg.queryDimensionRecords("patch", skymap="DC2"))) == 49 * len(tracts)
        assert len(list(reg.queryDatasets("skyMap", collections="skymaps"))) == 1


def test_ingest_raws(built: dict[str, Any]) -> None:
    for key in ("y1_first", "y1_rest", "y2_first"):
        assert built[key].returncode == 0, (key, built[key].stderr)
    for key in ("y1_again", "y2_whole"):
        assert built[key].returncode != 0, key
        assert V23_FAILURE in built[key].stderr, key
    expected = built["expected"]
    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        exposures = {
            rec.id: rec for rec in reg.queryDimensionRecords("exposure", instrument=INSTRUMENT)
        }
        raws = list(reg.queryDatasets("raw", collections=RAW_RUN))
        per_exposure: dict[int, int] = {}
        for ref in raws:
            per_exposure[ref.dataId["exposure"]] = per_exposure.get(ref.dataId["exposure"], 0) + 1
        uri = butler.getURI(raws[0])
    assert sorted(exposures) == sorted(expected)
    assert per_exposure == expected
    assert all(rec.observation_type == "science" for rec in exposures.values())
    assert all(rec.physical_filter.endswith("_sim_1.4") for rec in exposures.values())
    assert uri.exists()
    assert built["query_datasets"].returncode == 0, built["query_datasets"].stderr


def test_define_visits(built: dict[str, Any]) -> None:
    for result in built["visits"]:
        assert result.returncode == 0, result.stderr
    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        exposures = {rec.id for rec in reg.queryDimensionRecords("exposure", instrument=INSTRUMENT)}
        visits = list(reg.queryDimensionRecords("visit", instrument=INSTRUMENT))
        definitions = {
            (rec.exposure, rec.visit)
            for rec in reg.queryDimensionRecords("visit_definition", instrument=INSTRUMENT)
        }
        regions = list(reg.queryDimensionRecords("visit_detector_region", instrument=INSTRUMENT))
    assert {rec.id for rec in visits} == exposures
    assert definitions == {(e, e) for e in exposures}
    assert len(regions) == sum(built["expected"].values())
    assert all(rec.region is not None for rec in visits)
    assert "0 new visit" in built["visits"][1].stderr
