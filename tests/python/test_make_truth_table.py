"""py/make_truth_table.py: re-rooting, listing, refusals; py/rings_skymap.py against the
register-skymap stand-in's ring layout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
import make_truth_table as mtt  # noqa: E402
import rings_skymap  # noqa: E402

CONFIG = 'config.name = "DC2"\nconfig.skyMap = "rings"\nconfig.skyMap["rings"].numRings = 120\n'
TRACTS = {3830, 3831, 3832}


def tree(tmp_path: Path, tracts: list[int], csv_rows: list[str] | None = None) -> Path:
    top = tmp_path / "truth_summary"
    (top / "truth_parquet").mkdir(parents=True)
    for t in tracts:
        (top / "truth_parquet" / f"truth_patchint_tract{t}.parq").write_bytes(b"PAR1")
    if csv_rows is not None:
        (top / "truth_tables.csv").write_text("\n".join(["file URI,skymap,tract", *csv_rows])
                                              + "\n")
    (tmp_path / "DC2.py").write_text(CONFIG)
    return top


def build(tmp_path: Path, top: Path) -> list[list[str]]:
    out = tmp_path / "state" / "truth.ecsv"
    mtt.make_table(top, tmp_path / "DC2.py", "unused", out, tracts=TRACTS)
    from astropy.table import Table

    table = Table.read(out, format="ascii.ecsv")
    assert table.colnames == ["filename", "skymap", "tract"]
    return [[str(r["filename"]), str(r["skymap"]), int(r["tract"])] for r in table]


def test_csv_paths_are_rerooted(tmp_path: Path) -> None:
    top = tree(tmp_path, [3831, 3830], [
        "/sps/lsst/dp02/truth_parquet/truth_patchint_tract3831.parq,DC2,3831",
        "/other/site/truth_patchint_tract3830.parq,DC2,3830",
    ])
    rows = build(tmp_path, top)
    local = top.absolute() / "truth_parquet"
    assert rows == [[str(local / "truth_patchint_tract3830.parq"), "DC2", 3830],
                    [str(local / "truth_patchint_tract3831.parq"), "DC2", 3831]]


def test_listing_without_csv(tmp_path: Path) -> None:
    top = tree(tmp_path, [3832, 3830])
    (top / "truth_parquet" / "truth_patchint_tract3831.parq.bak").write_bytes(b"x")
    assert [r[2] for r in build(tmp_path, top)] == [3830, 3832]


@pytest.mark.parametrize("rows, words", [
    (["/x/truth_parquet/truth_patchint_tract3832.parq,DC2,3832"], ["does not exist"]),
    (["/x/truth_parquet/truth_patchint_tract3830.parq,DC2,9999"],
     ["tract 9999 is not a tract of the sky map DC2"]),
    (["/x/truth_parquet/truth_patchint_tract3830.parq,DC2,3830",
      "/y/truth_parquet/truth_patchint_tract3831.parq,DC2,3830"],
     ["line 3: tract 3830 repeats line 2"]),
    (["/x/truth_parquet/truth_patchint_tract3830.parq,HSC,3830"], ["sky map 'HSC'"]),
])
def test_refusals(tmp_path: Path, rows: list[str], words: list[str]) -> None:
    top = tree(tmp_path, [3830, 3831], rows)
    with pytest.raises(mtt.TruthTableError) as err:
        build(tmp_path, top)
    for word in words:
        assert word in str(err.value)
    assert "nothing was written" in str(err.value)
    assert not (tmp_path / "state" / "truth.ecsv").exists()


def test_bad_header(tmp_path: Path) -> None:
    top = tree(tmp_path, [3830])
    (top / "truth_tables.csv").write_text("path,tract\nx,3830\n")
    with pytest.raises(mtt.TruthTableError, match="without the column"):
        build(tmp_path, top)


def test_rings_layout_matches_the_standin() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.stack_standins.skymap import RingsSkyMapConfig, StandinSkyMap

    name, sky = rings_skymap.from_config_text(CONFIG)
    config = RingsSkyMapConfig()
    config.numRings = 120
    standin = StandinSkyMap("rings", config)
    assert name == "DC2" and len(sky) == len(standin.tracts) == 18938
    for tract in standin.tracts[1:-1:97]:
        assert sky.find_tract(tract["ra"], tract["dec"]) == tract["id"]
    assert sky.find_tract(0.0, -89.9) == 0 and sky.find_tract(0.0, 89.9) == len(sky) - 1
