"""Tests of the miniature DP0.2 input tree generator (py/make_mini_inputs.py)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PY_DIR = Path(__file__).resolve().parents[2] / "py"
sys.path.insert(0, str(PY_DIR))

import make_mini_inputs as mmi  # noqa: E402
import mini_camera as cam  # noqa: E402

# Small, non-default settings so that the expected counts below really come
# from the settings: two years of two visits, two sensors on different rafts.
YEARS = 2
VISITS = 2
SENSORS = ["R22_S11", "R01_S00"]
PIXELS = 4
ARGS = ["--years", str(YEARS), "--visits", str(VISITS), "--sensors", " ".join(SENSORS),
        "--pixels", str(PIXELS), "--formatters", "lite"]

# REFERENCE section 6: key -> expected Python type(s) in the header.
REQUIRED_KEYS: dict[str, Any] = {
    "TESTTYPE": str, "RAFTNAME": str, "SENSNAME": str, "OBSID": str, "RUNNUM": int,
    "EXPTIME": float, "DARKTIME": float, "LSST_NUM": str, "RATEL": float, "DECTEL": float,
    "RADESYS": str, "ROTANGLE": float, "AIRMASS": float, "HASTART": float, "FILTER": str,
    "IMGTYPE": str, "MJD-OBS": float, "DATE-OBS": str, "OUTFILE": str, "CHIPID": str,
    "PKG00": str, "VER00": str,
}
RAW_NAME = re.compile(r"\Alsst_a_([0-9]{8})_(R[0-9]{2}_S[0-9]{2})_([ugrizy])\.fits\Z")


def run_generator(out: Path, *extra: str) -> int:
    """Run the generator in this process and return its exit status."""
    return mmi.main(["--out", str(out), *ARGS, *extra])


def read_all_indexes(top: Path) -> dict[Path, dict[str, dict[str, Any]]]:
    """Read every ``_index.json`` under ``top/raw`` with astro_metadata_translator."""
    from astro_metadata_translator import indexing

    result = {}
    for index in sorted((top / "raw").glob("y*-wfd/*/_index.json")):
        result[index.parent] = indexing.read_index(str(index), force_dict=True)
    return result


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A miniature tree made once for the module."""
    out = tmp_path_factory.mktemp("mini") / "dp0.2"
    assert run_generator(out) == 0
    return out


# ---------------------------------------------------------------------------
# mini_camera
# ---------------------------------------------------------------------------


def test_camera_numbering() -> None:
    assert cam.detector_id("R22_S11") == 94
    assert cam.detector_id("R22_S12") == 95
    names = cam.all_sensor_names()
    assert len(names) == 189 == len(set(names))
    assert [cam.detector_id(n) for n in names] == list(range(189))
    assert cam.split_sensor("R22_S11") == ("R22", "S11")
    assert cam.physical_filter("r") == "r_sim_1.4"
    assert len({cam.lsst_num(n) for n in names}) == 189


@pytest.mark.parametrize("bad", ["R22S11", "R00_S11", "R22_S13", "r22_s11", "R5_S11", ""])
def test_camera_rejects_bad_sensor(bad: str) -> None:
    with pytest.raises(ValueError, match="sensor"):
        cam.validate_sensor(bad)


# ---------------------------------------------------------------------------
# Raw files and index files
# ---------------------------------------------------------------------------


def test_layout_and_visit_list(tree: Path) -> None:
    years = sorted(p.name for p in (tree / "raw").iterdir())
    assert years == [f"y{y}-wfd" for y in range(1, YEARS + 1)]
    visit_dirs = sorted((tree / "raw").glob("y*-wfd/*"))
    assert len(visit_dirs) == YEARS * VISITS
    ids = [int(p.name) for p in visit_dirs]
    assert all(re.fullmatch(r"[0-9]{8}", p.name) for p in visit_dirs)
    listed = [int(line) for line in (tree / "visits.txt").read_text().splitlines()]
    assert listed == sorted(set(listed)) == sorted(ids)
    assert all(mmi.VISIT_MIN <= v <= mmi.VISIT_MAX for v in listed)
    # Visit ids increase with the year.
    by_year = [[int(p.name) for p in sorted((tree / "raw" / y).iterdir())] for y in years]
    assert all(max(a) < min(b) for a, b in zip(by_year, by_year[1:]))
    for vdir in visit_dirs:
        names = sorted(p.name for p in vdir.glob("*.fits"))
        assert len(names) == len(SENSORS)
        for name in names:
            match = RAW_NAME.match(name)
            assert match, name
            assert int(match.group(1)) == int(vdir.name)


def test_index_files_hold_reference_keys(tree: Path) -> None:
    from astropy.io import fits
    from astropy.time import Time

    indexes = read_all_indexes(tree)
    assert len(indexes) == YEARS * VISITS
    mjd_by_visit = {}
    for vdir, index in indexes.items():
        files = sorted(p.name for p in vdir.glob("*.fits"))
        assert sorted(index) == files
        for name, header in index.items():
            for key, kind in REQUIRED_KEYS.items():
                assert key in header, f"{vdir}/{name}: {key} missing"
                assert isinstance(header[key], kind), f"{name}: {key}={header[key]!r}"
            _, sensor, band = RAW_NAME.match(name).groups()
            visit = int(vdir.name)
            assert header["TESTTYPE"] == "IMSIM"
            assert header["IMGTYPE"] == "SKYEXP"
            assert int(header["OBSID"]) == visit
            assert header["CHIPID"] == sensor == f"{header['RAFTNAME']}_{header['SENSNAME']}"
            assert header["LSST_NUM"] == cam.lsst_num(sensor)
            assert header["FILTER"] == band
            assert header["PKG00"] == "throughputs" and header["VER00"] == "1.4"
            assert header["OUTFILE"].startswith("lsst")
            assert header["RADESYS"] == "ICRS"
            assert 50.0 <= header["RATEL"] <= 75.0
            assert -45.0 <= header["DECTEL"] <= -27.0
            assert 0.0 <= header["ROTANGLE"] < 360.0
            assert header["EXPTIME"] == 30.0 and header["DARKTIME"] >= header["EXPTIME"]
            assert 1.0 <= header["AIRMASS"] < 3.0
            iso = Time(header["MJD-OBS"], format="mjd", scale="tai").isot
            assert abs(Time(iso, scale="tai") - Time(header["DATE-OBS"], scale="tai")).sec < 0.002
            mjd_by_visit.setdefault(visit, set()).add(header["MJD-OBS"])
            # At night: within 5 hours of local midnight (about 04:43 UT at Cerro Pachon).
            hours = ((header["MJD-OBS"] - 0.1965 + 0.5) % 1.0 - 0.5) * 24.0
            assert abs(hours) < 5.0, f"{name}: {header['DATE-OBS']} is not at night"
            # The index says exactly what the file's primary header says.
            on_disk = fits.getheader(vdir / name)
            for key, value in header.items():
                assert on_disk[key] == value, f"{name}: {key}"
    assert all(len(mjds) == 1 for mjds in mjd_by_visit.values())
    ordered = [min(mjd_by_visit[v]) for v in sorted(mjd_by_visit)]
    assert ordered == sorted(ordered) and len(set(ordered)) == len(ordered)


def test_raw_pixels(tree: Path) -> None:
    from astropy.io import fits

    path = next((tree / "raw").glob("y1-wfd/*/*.fits"))
    with fits.open(path) as hdul:
        assert hdul[0].data.shape == (PIXELS, PIXELS)


def test_header_only_mode(tmp_path: Path) -> None:
    from astropy.io import fits

    out = tmp_path / "header-only"
    status = mmi.main(["--out", str(out), "--years", "1", "--visits", "2", "--sensors",
                       "R22_S11", "--pixels", "0", "--formatters", "lite"])
    assert status == 0
    files = sorted((out / "raw").glob("y1-wfd/*/*.fits"))
    assert len(files) == 2
    for path in files:
        assert path.stat().st_size % 2880 == 0
        with fits.open(path) as hdul:
            assert len(hdul) == 1
            assert hdul[0].header["NAXIS"] == 0
            assert hdul[0].data is None


# ---------------------------------------------------------------------------
# Calibrations
# ---------------------------------------------------------------------------


def _butler_cli() -> str:
    candidate = Path(sys.executable).parent / "butler"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("butler")
    if not found:
        pytest.skip("the butler command is not installed")
    return found


def test_export_is_relative(tree: Path) -> None:
    import yaml

    text = (tree / "calib" / "export.yaml").read_text()
    assert str(tree) not in text
    export = yaml.safe_load(re.sub(r"!\S+", "", text))
    paths = [rec["path"] for item in export["data"] if item["type"] == "dataset"
             for rec in item["records"]]
    assert len(paths) == len(SENSORS) * (2 + len(cam.BANDS))
    for path in paths:
        assert not os.path.isabs(path) and path.startswith("2.2i/calib/gen2/")
        assert (tree / "calib" / path).is_file()
    elements = {item["element"] for item in export["data"] if item["type"] == "dimension"}
    assert {"instrument", "detector", "physical_filter"} <= elements


def test_calib_import_into_lite_repo(tree: Path, tmp_path: Path) -> None:
    from astropy.time import Time
    from lsst.daf.butler import Butler, CollectionType, Timespan

    butler_cmd = _butler_cli()
    repo = tmp_path / "repo"
    subprocess.run([butler_cmd, "create", str(repo)], check=True, capture_output=True)
    butler = Butler(str(repo), writeable=True)
    registry = butler.registry
    fields = butler.dimensions["instrument"].RecordClass.fields.names
    registry.insertDimensionData("instrument", cam.instrument_record(fields))
    registry.insertDimensionData("physical_filter", *cam.physical_filter_records())
    registry.insertDimensionData("detector", *cam.detector_records(SENSORS))
    butler.close() if hasattr(butler, "close") else None

    proc = subprocess.run(
        [butler_cmd, "import", "--skip-dimensions", "instrument,detector,physical_filter,band",
         "--export-file", str(tree / "calib" / "export.yaml"), str(repo), str(tree / "calib")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr

    butler = Butler(str(repo))
    registry = butler.registry
    assert registry.getCollectionType("2.2i/calib") is CollectionType.CHAINED

    def count(kind: str, when: str) -> int:
        begin = Time(when, scale="tai")
        span = Timespan(begin, Time(begin.mjd + 1e-4, format="mjd", scale="tai"))
        found = 0
        for sensor in SENSORS:
            filters = [cam.physical_filter(b) for b in cam.BANDS] if kind == "flat" else [None]
            for physical_filter in filters:
                data_id: dict[str, Any] = {"instrument": cam.INSTRUMENT,
                                           "detector": cam.detector_id(sensor)}
                if physical_filter:
                    data_id["physical_filter"] = physical_filter
                ref = registry.findDataset(kind, data_id, collections="2.2i/calib", timespan=span)
                found += ref is not None
        return found

    # A date inside the validity range: the first visit of the tree.
    first_mjd = min(h["MJD-OBS"] for index in read_all_indexes(tree).values()
                    for h in index.values())
    inside = Time(first_mjd, format="mjd", scale="tai").isot
    expected = {"bias": len(SENSORS), "dark": len(SENSORS), "flat": len(SENSORS) * len(cam.BANDS)}
    assert {kind: count(kind, inside) for kind in expected} == expected
    assert {kind: count(kind, "2021-06-01T00:00:00") for kind in expected} == dict.fromkeys(
        expected, 0)
    # A dataset reads back through daf_butler's own formatter.
    ref = registry.findDataset("bias", instrument=cam.INSTRUMENT,
                               detector=cam.detector_id(SENSORS[0]), collections="2.2i/calib",
                               timespan=Timespan(Time(inside, scale="tai"), None))
    assert len(butler.get(ref)) > 0


# ---------------------------------------------------------------------------
# Reference catalogs
# ---------------------------------------------------------------------------


def _trixels_from_headers(top: Path) -> set[int]:
    """Recompute the htm7 trixels from the raw headers with an astropy TAN WCS."""
    import numpy as np
    from astropy.wcs import WCS
    from lsst import sphgeom

    pixelization = sphgeom.HtmPixelization(7)
    found: set[int] = set()
    for index in read_all_indexes(top).values():
        for header in index.values():
            rot = math.radians(header["ROTANGLE"])
            wcs = WCS(naxis=2)
            wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
            wcs.wcs.crval = [header["RATEL"], header["DECTEL"]]
            wcs.wcs.crpix = [1.0, 1.0]
            # "pixels" are focal-plane arcsec; x towards east, y towards north at rot = 0.
            wcs.wcs.cd = np.array([[math.cos(rot), -math.sin(rot)],
                                   [math.sin(rot), math.cos(rot)]]) / 3600.0
            corners = np.array(cam.sensor_corners_arcsec(header["CHIPID"]))
            ra, dec = wcs.wcs_pix2world(corners[:, 0], corners[:, 1], 0)
            polygon = sphgeom.ConvexPolygon(
                [sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(float(a), float(d)))
                 for a, d in zip(ra, dec)])
            for begin, end in pixelization.envelope(polygon):
                found.update(range(begin, end))
    return found


def test_refcat_files_cover_the_visits(tree: Path) -> None:
    from astropy.table import Table
    from lsst import sphgeom

    names = sorted(p.name for p in (tree / "refcats" / "cal_ref_cat").iterdir())
    on_disk = {int(n[:-5]) for n in names}
    assert names == [f"{t}.fits" for t in sorted(on_disk)]
    assert on_disk == _trixels_from_headers(tree)

    table = Table.read(tree / "refcats" / "refcat.ecsv", format="ascii.ecsv")
    assert table.colnames == ["filename", "htm7"]
    assert str(table["htm7"].dtype) == "int64"
    assert list(table["htm7"]) == sorted(on_disk)
    assert list(table["filename"]) == [f"cal_ref_cat/{t}.fits" for t in sorted(on_disk)]

    pixelization = sphgeom.HtmPixelization(7)
    trixel = min(on_disk)
    cat = Table.read(tree / "refcats" / "cal_ref_cat" / f"{trixel}.fits")
    expected = ["id", "coord_ra", "coord_dec"] + [f"{b}_{c}" for b in cam.BANDS
                                                  for c in ("flux", "fluxErr")]
    assert set(expected) <= set(cat.colnames)
    assert len(cat) > 0
    for ra, dec in zip(cat["coord_ra"], cat["coord_dec"]):
        point = sphgeom.UnitVector3d(sphgeom.LonLat.fromRadians(float(ra), float(dec)))
        assert pixelization.index(point) == trixel


def test_make_refcat_table_agrees(tree: Path) -> None:
    make_refcat_table = pytest.importorskip("make_refcat_table")
    from astropy.table import Table

    rows, skipped = make_refcat_table.scan([tree / "refcats" / "cal_ref_cat"])
    assert not skipped
    table = Table.read(tree / "refcats" / "refcat.ecsv", format="ascii.ecsv")
    assert [r[1] for r in rows] == list(table["htm7"])
    assert [os.path.relpath(r[0], tree / "refcats") for r in rows] == list(table["filename"])


def test_skymap_config(tree: Path) -> None:
    text = (tree / "skymaps" / "DC2.py").read_text()
    for line in ('config.name = "DC2"', 'config.skyMap = "rings"',
                 'config.skyMap["rings"].numRings = 120',
                 'config.skyMap["rings"].projection = "TAN"'):
        assert line in text
    compile(text, "DC2.py", "exec")


# ---------------------------------------------------------------------------
# Determinism, markers and refusals
# ---------------------------------------------------------------------------


def _files(top: Path) -> dict[str, bytes]:
    return {str(p.relative_to(top)): p.read_bytes() for p in sorted(top.rglob("*"))
            if p.is_file()}


def test_deterministic(tree: Path, tmp_path: Path) -> None:
    again = tmp_path / "elsewhere" / "copy"
    assert run_generator(again) == 0
    first, second = _files(tree), _files(again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []
    marker = json.loads((tree / mmi.MARKER).read_text())
    assert marker["settings"]["years"] == YEARS and marker["version"] == mmi.GENERATOR_VERSION


def test_rerun_same_settings_does_nothing(tree: Path, capsys: pytest.CaptureFixture) -> None:
    before = {p: p.stat().st_mtime_ns for p in tree.rglob("*")}
    assert run_generator(tree) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in tree.rglob("*")} == before


def test_refuses_changed_settings(tree: Path, capsys: pytest.CaptureFixture) -> None:
    status = mmi.main(["--out", str(tree), *ARGS, "--years", str(YEARS + 1)])
    assert status == 2
    err = capsys.readouterr().err
    assert str(tree) in err and "other settings" in err and "another --out" in err


def test_refuses_foreign_directory(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    assert run_generator(foreign) == 2
    err = capsys.readouterr().err
    assert str(foreign) in err and mmi.MARKER in err and "choose another --out" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["precious.txt"]


def test_empty_directory_is_used(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert mmi.main(["--out", str(empty), "--years", "1", "--visits", "1", "--sensors",
                     "R22_S11", "--pixels", "0", "--formatters", "lite"]) == 0
    assert (empty / mmi.MARKER).is_file()


@pytest.mark.parametrize("args", [["--sensors", "R00_S00"], ["--years", "0"],
                                  ["--visits", "0"], ["--pixels", "-1"]])
def test_rejects_bad_settings(tmp_path: Path, args: list[str],
                              capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "bad"
    assert mmi.main(["--out", str(out), *args]) == 2
    assert "error" in capsys.readouterr().err
    assert not out.exists()


def test_interrupted_run_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mmi, "write_calibs", fail)
    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        run_generator(out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_entry_point(tmp_path: Path) -> None:
    """The script runs as a command and reports a user error with status 2, no traceback."""
    proc = subprocess.run([sys.executable, str(PY_DIR / "make_mini_inputs.py"), "--out",
                           str(tmp_path / "x"), "--sensors", "R99_S11"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "R99_S11" in proc.stderr


def test_truth_files_cover_the_visits(tree: Path) -> None:
    import numpy as np
    import pandas as pd
    import rings_skymap
    from astropy.wcs import WCS

    _name, skymap = rings_skymap.from_config_text((tree / "skymaps" / "DC2.py").read_text())
    # The tracts of the sensors' corners, recomputed from the raw headers (astropy TAN WCS).
    wanted: set[int] = set()
    for index in read_all_indexes(tree).values():
        for header in index.values():
            rot = math.radians(header["ROTANGLE"])
            wcs = WCS(naxis=2)
            wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
            wcs.wcs.crval = [header["RATEL"], header["DECTEL"]]
            wcs.wcs.crpix = [1.0, 1.0]
            wcs.wcs.cd = np.array([[math.cos(rot), -math.sin(rot)],
                                   [math.sin(rot), math.cos(rot)]]) / 3600.0
            corners = np.array(cam.sensor_corners_arcsec(header["CHIPID"]))
            ra, dec = wcs.wcs_pix2world(corners[:, 0], corners[:, 1], 0)
            wanted.update(skymap.find_tract(float(a), float(d)) for a, d in zip(ra, dec))
    files = sorted((tree / "truth_summary" / "truth_parquet").iterdir())
    tracts = {int(p.name[len("truth_patchint_tract"):-len(".parq")]) for p in files}
    assert [p.name for p in files] == [mmi.truth_file_name(t) for t in sorted(tracts)]
    assert wanted <= tracts and len(tracts) <= len(wanted) + 2  # centroids may add a tract
    frame = pd.read_parquet(files[0])
    assert len(frame) == mmi.TRUTH_ROWS and {"id", "ra", "dec", "flux_r"} <= set(frame.columns)
    lines = (tree / "truth_summary" / "truth_tables.csv").read_text().splitlines()
    assert lines[0] == "file URI,skymap,tract"
    assert lines[1:] == [f"{mmi.TRUTH_ELSEWHERE}/truth_parquet/{mmi.truth_file_name(t)},DC2,{t}"
                         for t in sorted(tracts)]
