"""Check input files themselves, not only their names (used by ``check_inputs.py``).

Two levels:

- `stat_problem` / `entry_problem`: one ``stat`` and one ``access`` per file. The file must
  be a regular file (a symbolic link to one is fine; a dangling link or a directory is
  not), readable by the user running the build, not empty and, for FITS, at least one
  2880-byte block and a whole number of them.
- `fits_problem`: astropy opens the file, reads every HDU header and checks that the
  data of every HDU lies within the file (``HDUList.fileinfo``: where each HDU's data
  starts and how long it is). A file cut short on a block boundary, which the size test
  cannot see, fails here; so does a file that is not FITS at all.

Opening a FITS file with astropy costs about 1 ms for a one-HDU file and 15 ms for a
17-HDU imSim raw, so at 3.75 million DP0.2 raws it cannot be done for every file. Which
files astropy opens is chosen by `astropy_candidates`: in each group of files that
share a layout (the raws of one visit directory, the calibrations of one dataset type
and run), every file whose size is suspicious (not the size most of its group has, or,
when sizes vary, less than 3/4 of the group's median), plus a sample spread over the
tree (`sample_picks`). A truncated file is smaller than its siblings, so it is among the
suspicious ones. The work is spread over ``jobs`` processes.
"""

from __future__ import annotations

import math
import os
import stat
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

FITS_BLOCK = 2880
"""The FITS block: headers and data are padded to whole blocks of 2880 bytes."""

FITS_SUFFIXES = (".fits", ".fit", ".fits.fz", ".fz", ".fits.gz")
"""Names of files checked as FITS."""

SUSPICIOUS_FRACTION = 0.75
"""In a group whose sizes vary, a file below this fraction of the median is suspicious."""


def is_fits_name(name: str) -> bool:
    """Tell whether a file name says FITS."""
    return name.lower().endswith(FITS_SUFFIXES)


def _size_problem(size: int, fits: bool) -> str | None:
    """Return why a file of ``size`` bytes cannot be complete, or `None`."""
    if size == 0:
        return "empty, 0 bytes"
    if fits and size < FITS_BLOCK:
        return f"{size} bytes, less than one FITS block of {FITS_BLOCK} bytes"
    if fits and size % FITS_BLOCK:
        return (f"{size} bytes, not a whole number of {FITS_BLOCK}-byte FITS blocks "
                "(truncated, or not a FITS file)")
    return None


def _mode_problem(st: os.stat_result, path: str) -> str | None:
    """Return why a stat result is not a readable regular file, or `None`."""
    if stat.S_ISDIR(st.st_mode):
        return "a directory, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return f"not readable by this user (uid {os.getuid()})"
    return None


def stat_problem(path: str, fits: bool | None = None) -> tuple[str | None, int]:
    """Check one file by its ``stat``: regular, readable, plausible size.

    Parameters
    ----------
    path : `str`
        The file (a symbolic link is followed).
    fits : `bool`, optional
        Check the FITS block size; default: when the name says FITS.

    Returns
    -------
    problem : `str` or `None`
        Why it is not a usable file, or `None`.
    size : `int`
        Its size in bytes (0 when it has none).
    """
    if fits is None:
        fits = is_fits_name(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"a dangling symbolic link (to {os.readlink(path)})", 0
        return "missing", 0
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})", 0
    problem = _mode_problem(st, path) or _size_problem(st.st_size, fits)
    return problem, st.st_size


def entry_problem(entry: os.DirEntry, fits: bool) -> tuple[str | None, int]:
    """`stat_problem` for a directory entry (its ``stat`` is one system call, or none).

    Parameters
    ----------
    entry : `os.DirEntry`
        From `os.scandir`.
    fits : `bool`
        Check the FITS block size.

    Returns
    -------
    problem : `str` or `None`
    size : `int`
    """
    try:
        st = entry.stat()
    except FileNotFoundError:
        if entry.is_symlink():
            return f"a dangling symbolic link (to {os.readlink(entry.path)})", 0
        return "missing", 0
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})", 0
    problem = _mode_problem(st, entry.path) or _size_problem(st.st_size, fits)
    return problem, st.st_size


_FITS_READS = True
"""False when astropy cannot be imported (`astropy_problem`): FITS files are then only
checked by their size."""


def astropy_problem() -> str | None:
    """Import astropy.io.fits; return why it fails (and stop FITS reads), or `None`."""
    global _FITS_READS
    try:
        from astropy.io import fits  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError, or its config dir unwritable
        _FITS_READS = False
        return f"{type(exc).__name__}: {exc}"
    _FITS_READS = True
    return None


def fits_problem(path: str) -> str | None:
    """Open a FITS file with astropy: every header, and every HDU's data within the file.

    Parameters
    ----------
    path : `str`
        The file.

    Returns
    -------
    problem : `str` or `None`
        Why astropy does not read it as a complete FITS file, or `None`.
    """
    if not _FITS_READS:
        return None
    import warnings

    from astropy.io import fits

    try:
        size = os.path.getsize(path)
        with warnings.catch_warnings():
            # astropy warns about truncation too; the end of the data is checked below.
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False, lazy_load_hdus=True) as hdus:
                count = len(hdus)  # reads every header
                ends = []
                for index in range(count):
                    info = hdus.fileinfo(index)
                    ends.append(int(info["datLoc"]) + int(info["datSpan"]))
    except Exception as exc:  # noqa: BLE001 - OSError, ValueError, ...: not readable FITS
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"astropy cannot read it as FITS ({text.split('. ')[0].rstrip('.')})"
    for index, end in enumerate(ends):
        if end > size:
            return (f"truncated: astropy finds HDU {index} of {count} ending at byte {end}, "
                    f"and the file has {size} bytes")
    return None


def suspicious(sizes: Sequence[int]) -> list[int]:
    """Return the indices of the sizes that stand out in a group of same-layout files.

    When most files of the group share one size (uncompressed images of one layout), every
    other size is suspicious; when sizes vary (compressed files), those below
    `SUSPICIOUS_FRACTION` of the median are.

    Parameters
    ----------
    sizes : `list` [`int`]
        File sizes of one group.

    Returns
    -------
    indices : `list` [`int`]
    """
    if len(sizes) < 2:
        return []
    mode, count = Counter(sizes).most_common(1)[0]
    if 2 * count > len(sizes):
        return [i for i, s in enumerate(sizes) if s != mode]
    ordered = sorted(sizes)
    limit = SUSPICIOUS_FRACTION * ordered[len(ordered) // 2]
    return [i for i, s in enumerate(sizes) if s < limit]


def sample_step(groups: int, sample: int | None) -> int:
    """Return every how many groups one file joins the sample (`None`: every file: 0).

    Parameters
    ----------
    groups : `int`
        Number of groups (visit directories).
    sample : `int` or `None`
        Wanted sample size; `None` means every file.

    Returns
    -------
    step : `int`
        0 when every file is read, a huge step for a sample of 0, else >= 1.
    """
    if sample is None:
        return 0
    if sample <= 0:
        return groups + 1
    return max(1, math.ceil(groups / sample))


def sample_pick(group_index: int, step: int, count: int) -> int | None:
    """Which file (index in name order) of group ``group_index`` joins the sample, if any.

    Every ``step``-th group gives one file, rotating over the positions so that the sample
    covers every sensor, not only the first.

    Parameters
    ----------
    group_index : `int`
        The group's position in the sorted list of all groups.
    step : `int`
        From `sample_step` (> 0).
    count : `int`
        Files in the group.

    Returns
    -------
    index : `int` or `None`
    """
    if count == 0 or group_index % step:
        return None
    return (group_index // step) % count


def run_parallel(func: Callable[[Any], Any], items: Sequence[Any], jobs: int,
                 min_items: int = 64) -> list[Any]:
    """Map ``func`` over ``items`` in ``jobs`` processes (in order), or here when few.

    Parameters
    ----------
    func : `callable`
        A module-level function (it is pickled by name).
    items : `list`
        Its arguments.
    jobs : `int`
        Processes to use.
    min_items : `int`
        Below this many items, no process is started.

    Returns
    -------
    results : `list`
    """
    if jobs <= 1 or len(items) < min_items:
        return [func(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(jobs, len(items))
    chunk = max(1, len(items) // (workers * 8))
    # fork: the workers inherit what is imported (astropy) instead of importing it again.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(func, items, chunksize=chunk))


def fits_problems(paths: Iterable[str], jobs: int) -> dict[str, str]:
    """Run `fits_problem` on files, in ``jobs`` processes; return the problems by path."""
    paths = list(paths)
    if not _FITS_READS:
        return {}
    if paths:
        from astropy.io import fits  # noqa: F401 - imported once, before the workers fork
    results = run_parallel(fits_problem, paths, jobs, min_items=32)
    return {p: r for p, r in zip(paths, results) if r}
