"""Write the missing raw ``_index.json`` files (``make raw-indexes``, opt-in).

The one command of the toolkit that writes into the inputs. For every visit
directory (8-digit name) of ``DP02_RAW/<year>`` for the years of ``RAW_YEARS``
that has no ``_index.json``, it writes one, the way the technote did with::

    astrometadata --packages lsst.obs.lsst write-index --content metadata DIR

through the astro_metadata_translator Python API (``file_helpers.read_file_info``
for each header, then ``indexing.calculate_index(headers, "metadata")``, as
``indexing.index_files`` does; the JSON has sorted keys). Existing index files
are never touched. Without ``--write`` it only lists what it would
write. Directories are processed in parallel (``--jobs`` processes); each index
is written to a temporary file in the visit directory and renamed into place,
so a reader never sees a partial index. A directory in which a file cannot be
read gets no index (an incomplete index would hide that file's failure).

The imSim header corrections and translator live in obs_lsst (the LSST stack,
not on PyPI): ``--packages`` names the modules to import first, as
``astrometadata --packages`` does; when one cannot be imported, writing stops
with exit status 4 and says how to get the stack.

Exit status: 0 done (or listed), 1 some directory failed, 2 bad arguments,
4 the translator package is missing.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import re
import sys
import tempfile
from typing import Any

VISIT_DIR_RE = re.compile(r"^[0-9]{8}$")
DATA_FILE_RE = re.compile(r"\.fit[s]?\b")
"""astrometadata's default ``--regex`` for data files."""
INDEX_NAME = "_index.json"
DEFAULT_PACKAGES = "lsst.obs.lsst"
EXIT_NO_STACK = 4

NO_STACK_MESSAGE = (
    "raw-indexes: error: writing raw index files needs the LSSTCam-imSim metadata translator "
    "and header corrections, which are provided by the LSST stack package obs_lsst "
    "(Python module {module}: {reason}). obs_lsst is not on PyPI, so the lite runtime "
    "(.venv) cannot write them. Run 'make raw-indexes WRITE_INDEXES=yes' in the container "
    "(see README 'Container'), or on a site install of the stack after "
    "'source loadLSST.bash && setup lsst_distrib'."
)


def missing_indexes(raw: str, years: list[str]) -> tuple[list[str], list[str]]:
    """Find the visit directories without an index file.

    Parameters
    ----------
    raw : `str`
        ``DP02_RAW``.
    years : `list` [`str`]
        ``RAW_YEARS``.

    Returns
    -------
    directories : `list` [`str`]
        Visit directories (absolute) that hold no ``_index.json``, sorted.
    missing_years : `list` [`str`]
        Years of ``years`` that are no directory.
    """
    directories: list[str] = []
    missing_years: list[str] = []
    for year in years:
        year_dir = os.path.abspath(os.path.join(raw, year))
        if not os.path.isdir(year_dir):
            missing_years.append(year)
            continue
        with os.scandir(year_dir) as it:
            visits = sorted(e.path for e in it if e.is_dir() and VISIT_DIR_RE.match(e.name))
        directories += [d for d in visits if not os.path.exists(os.path.join(d, INDEX_NAME))]
    return directories, missing_years


def import_packages(packages: list[str]) -> tuple[str, str] | None:
    """Import the translator packages; return ``(module, reason)`` for the first failure."""
    for module in packages:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return module, str(exc)
    return None


def write_index(directory: str) -> tuple[str, str, int, list[str]]:
    """Write the index file of one visit directory (run in a worker process).

    Parameters
    ----------
    directory : `str`
        The visit directory.

    Returns
    -------
    directory : `str`
        The same directory.
    result : `str`
        ``written``, ``exists`` (appeared meanwhile: left alone), ``empty`` (no
        data file) or ``failed``.
    files : `int`
        Number of files indexed.
    failed : `list` [`str`]
        Files whose header could not be read, or the error.
    """
    from astro_metadata_translator.file_helpers import read_file_info
    from astro_metadata_translator.indexing import calculate_index

    target = os.path.join(directory, INDEX_NAME)
    if os.path.exists(target):
        return directory, "exists", 0, []
    with os.scandir(directory) as it:
        files = sorted(e.name for e in it if e.is_file() and DATA_FILE_RE.search(e.name))
    if not files:
        return directory, "empty", 0, []
    headers: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    messages = io.StringIO()
    for name in files:
        try:
            md = read_file_info(os.path.join(directory, name), 0, False, "metadata", "simple",
                                messages)
        except Exception as exc:  # a broken file must not stop the other directories
            md = None
            messages.write(f"{name}: {type(exc).__name__}: {exc}\n")
        if md is None:
            failed.append(name)
            continue
        # A plain dict: an astropy Header (lite runtime) or a PropertyList (stack) as read.
        headers[name] = md.toDict() if hasattr(md, "toDict") else dict(md.items())
    if failed:
        return directory, "failed", len(headers), failed
    output = calculate_index(headers, "metadata")
    fd, tmp = tempfile.mkstemp(prefix="." + INDEX_NAME + ".", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(output, sort_keys=True))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        if os.path.exists(target):
            os.unlink(tmp)
            return directory, "exists", 0, []
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return directory, "written", len(headers), []


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="raw_indexes.py",
        description="Write the missing _index.json files of the raw visit directories.")
    parser.add_argument("--raw", required=True, help="DP02_RAW")
    parser.add_argument("--raw-years", required=True, help="RAW_YEARS (space separated)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument("--write", action="store_true",
                        help="write them (default: only list what would be written)")
    parser.add_argument("--packages", default=DEFAULT_PACKAGES,
                        help="modules to import for the translators, comma separated "
                             f"(default {DEFAULT_PACKAGES}, as astrometadata --packages)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """List or write the missing index files.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0, 1 (some directory failed), 2 (bad arguments) or 4 (no translator package).
    """
    args = build_parser().parse_args(argv)
    if args.jobs < 1:
        print("raw-indexes: error: --jobs must be 1 or more.", file=sys.stderr)
        return 2
    if not os.path.isdir(args.raw):
        print(f"raw-indexes: error: DP02_RAW={args.raw} is not a directory.", file=sys.stderr)
        return 2
    directories, missing_years = missing_indexes(args.raw, args.raw_years.split())
    if missing_years:
        print(f"raw-indexes: error: the years {' '.join(missing_years)} of RAW_YEARS are not "
              f"directories of DP02_RAW={args.raw}. Fix RAW_YEARS or DP02_RAW.", file=sys.stderr)
        return 2
    packages = [p for p in re.split(r"[,\s]+", args.packages) if p]
    if not directories:
        print("raw-indexes: every visit directory already has its index file; nothing to do.")
        return 0
    if not args.write:
        print(f"raw-indexes: {len(directories)} visit directories have no {INDEX_NAME}; "
              "nothing written (WRITE_INDEXES=yes writes them):")
        for directory in directories:
            print(f"  would write {os.path.join(directory, INDEX_NAME)}")
        failure = import_packages(packages)
        if failure:
            print(f"raw-indexes: note: writing needs the LSST stack ({failure[0]} cannot be "
                  "imported here).")
        return 0
    failure = import_packages(packages)
    if failure:
        print(NO_STACK_MESSAGE.format(module=failure[0], reason=failure[1]), file=sys.stderr)
        return EXIT_NO_STACK
    results: list[Any] = []
    if args.jobs == 1 or len(directories) == 1:
        results = [write_index(d) for d in directories]
    else:
        import multiprocessing

        with multiprocessing.Pool(min(args.jobs, len(directories)),
                                  initializer=import_packages, initargs=(packages,)) as pool:
            results = list(pool.imap_unordered(write_index, directories, chunksize=8))
    counts: dict[str, int] = {}
    for directory, result, _n, failed in sorted(results):
        counts[result] = counts.get(result, 0) + 1
        if result == "written":
            print(f"  wrote {os.path.join(directory, INDEX_NAME)}")
        elif result == "failed":
            print(f"raw-indexes: error: {directory}: no index written, these files could not "
                  f"be read: {', '.join(failed)}", file=sys.stderr)
        elif result == "empty":
            print(f"raw-indexes: warning: {directory} holds no FITS file; no index written.",
                  file=sys.stderr)
    print(f"raw-indexes: {counts.get('written', 0)} index files written, "
          f"{counts.get('failed', 0)} directories failed, {counts.get('empty', 0)} empty, "
          f"{counts.get('exists', 0)} appeared meanwhile (left alone).")
    return 1 if counts.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
