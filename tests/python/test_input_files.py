"""py/input_files.py: the per-file checks of check-inputs (stat, astropy, which to open)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))

import input_files  # noqa: E402


@pytest.fixture
def fits_file(tmp_path: Path) -> Path:
    """A one-HDU FITS file of two blocks (header, 8x8 float data)."""
    import numpy as np
    from astropy.io import fits

    path = tmp_path / "raw.fits"
    fits.PrimaryHDU(np.zeros((8, 8), dtype=">f4")).writeto(path)
    assert path.stat().st_size == 2 * 2880
    return path


def test_sound_file(fits_file: Path) -> None:
    assert input_files.stat_problem(str(fits_file)) == (None, 5760)
    assert input_files.fits_problem(str(fits_file)) is None


@pytest.mark.parametrize("size,words", [(0, "empty, 0 bytes"),
                                        (100, "100 bytes, less than one FITS block"),
                                        (4000, "not a whole number of 2880-byte FITS blocks")])
def test_sizes(fits_file: Path, size: int, words: str) -> None:
    fits_file.write_bytes(fits_file.read_bytes()[:size])
    problem, found = input_files.stat_problem(str(fits_file))
    assert words in problem and found == size
    # Not FITS by its name: only emptiness counts.
    other = fits_file.with_suffix(".json")
    fits_file.rename(other)
    assert (input_files.stat_problem(str(other))[0] is None) == (size > 0)


def test_cut_on_a_block_boundary_is_seen_by_astropy(fits_file: Path) -> None:
    fits_file.write_bytes(fits_file.read_bytes()[:2880])
    assert input_files.stat_problem(str(fits_file)) == (None, 2880)
    assert input_files.fits_problem(str(fits_file)) == (
        "truncated: astropy finds HDU 0 of 1 ending at byte 5760, and the file has 2880 bytes")


def test_not_fits(tmp_path: Path) -> None:
    path = tmp_path / "page.fits"
    path.write_bytes(b"<html>".ljust(2880))
    assert input_files.stat_problem(str(path))[0] is None
    assert input_files.fits_problem(str(path)).startswith("astropy cannot read it as FITS (")


def test_links_directories_permissions(tmp_path: Path, fits_file: Path) -> None:
    dangling = tmp_path / "dangling.fits"
    dangling.symlink_to(tmp_path / "nowhere.fits")
    assert input_files.stat_problem(str(dangling))[0].startswith("a dangling symbolic link (to ")
    link = tmp_path / "link.fits"
    link.symlink_to(fits_file)
    assert input_files.stat_problem(str(link)) == (None, 5760)
    directory = tmp_path / "dir.fits"
    directory.mkdir()
    assert input_files.stat_problem(str(directory))[0] == "a directory, not a file"
    assert input_files.stat_problem(str(tmp_path / "absent.fits"))[0] == "missing"
    with os.scandir(tmp_path) as it:
        entries = {e.name: e for e in it}
    assert input_files.entry_problem(entries["dangling.fits"], fits=True)[0].startswith(
        "a dangling symbolic link")
    assert input_files.entry_problem(entries["dir.fits"], fits=True)[0] == \
        "a directory, not a file"
    assert input_files.entry_problem(entries["raw.fits"], fits=True) == (None, 5760)


@pytest.mark.parametrize("sizes,expected", [
    ([5760] * 10, []),                       # one layout: nothing stands out
    ([5760] * 9 + [2880], [9]),              # uncompressed, one cut: the odd size
    ([5760] * 9 + [8640], [9]),              # ... or a bigger one
    ([5760, 2880], [1]),                     # two files: below 3/4 of the larger
    ([100, 90, 110, 95, 40], [4]),           # sizes vary (compressed): below 3/4 of the median
    ([100], []), ([], []),
])
def test_suspicious(sizes: list[int], expected: list[int]) -> None:
    assert input_files.suspicious(sizes) == expected


def test_sample_spreads_over_groups_and_positions() -> None:
    assert input_files.sample_step(19855, None) == 0
    assert input_files.sample_step(19855, 0) > 19855
    step = input_files.sample_step(19855, 200)
    assert step == 100
    picks = [(g, input_files.sample_pick(g, step, 189)) for g in range(19855)]
    chosen = [(g, p) for g, p in picks if p is not None]
    assert len(chosen) == 199
    assert len({p for _g, p in chosen}) == 189  # every sensor position is sampled
    assert input_files.sample_pick(0, step, 0) is None


def test_fits_problems_in_processes(tmp_path: Path, fits_file: Path) -> None:
    paths = []
    for i in range(40):
        path = tmp_path / f"f{i:02d}.fits"
        data = fits_file.read_bytes()
        path.write_bytes(data[:2880] if i == 7 else data)
        paths.append(str(path))
    problems = input_files.fits_problems(paths, jobs=2)
    assert list(problems) == [paths[7]]
    assert input_files.fits_problems(paths, jobs=1) == problems
