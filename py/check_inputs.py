"""Preflight of the DP0.2 inputs (step ``check-inputs``, first step of ``make repo``).

Reads the four input trees and the places the build will write to, never
writes into the inputs, and reports every problem at once:

- every ``DP02_*`` tree exists and is readable;
- raws: each year of ``RAW_YEARS`` is present; visit directories are named with
  8 digits and each holds at least one ``lsst_a_*.fits`` file and an
  ``_index.json`` (a missing index is a warning: ingest is slower, and
  ``make raw-indexes`` writes them); every raw file is a regular file readable by
  this user, of whole 2880-byte FITS blocks, and astropy reads completely (every
  header, every HDU's data within the file) those whose size stands out in their
  visit directory and a sample of ``FITS_SAMPLE`` (`input_files`); with
  ``VISIT_LIST``, the visits missing from the tree and the extra ones; with
  ``EXPECTED_VISITS``, the count;
- calibrations: ``export.yaml`` parses, is complete (at least one dataset, every
  record whole, every calibration dataset certified: a file cut short loses its end)
  and its format version is one the stack reads; every file it names exists, is
  readable and complete (FITS: as the raws), and no other file lies in the tree;
- refcats: every file of ``cal_ref_cat/`` is named ``<htm7 id>.fits`` (other
  names are skipped by the refcat table and listed) and is a complete FITS file
  astropy reads (a dangling link or a directory of that name is no refcat file);
  with ``EXPECTED_REFCATS``, the count of those complete files;
- truth summary (``--truth-dir``, with ``TRUTH_SUMMARY=yes``): ``truth_parquet/`` holds
  ``truth_patchint_tract<N>.parq`` files, each readable and a Parquet file whose footer
  pyarrow reads (a file cut short loses its footer);
- the sky map config exists and sets ``config.name``;
- ``REPO`` and ``STATE_DIR`` can be written and have free space;
- with a PostgreSQL registry, ``bin/db-check`` passes.

Output: a table on stdout (and in ``--table``), and a JSON report (``--report``),
both written atomically. Exit status 1 when any check has an error, 0 otherwise
(warnings included), 2 for bad arguments.

Speed matters (the full DP0.2 layout has 19,852 visit directories and 3.75 million
raws): directories are listed with `os.scandir`, each raw costs one ``stat`` and one
``access``, index files are only looked up, never parsed, astropy opens only the raws
whose size stands out and a sample, and from 200 visit directories on the work is
spread over ``JOBS`` processes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from typing import Any

import input_files
from atomic_write import write_text
from export_yaml import load_export

REPORT_VERSION = 1

VISIT_DIR_RE = re.compile(r"^[0-9]{8}$")
RAW_FILE_RE = re.compile(r"^lsst_a_.*\.fits$")
REFCAT_NAME_RE = re.compile(r"^([0-9]{6})\.fits$")
TRUTH_NAME_RE = re.compile(r"^truth_patchint_tract([0-9]+)\.parq$")
SKYMAP_NAME_RE = re.compile(r"""^\s*config\.name\s*=\s*(['"])(.+?)\1""", re.MULTILINE)

HTM7_MIN = 8 * 4**7
"""Smallest HTM level-7 trixel id (131072): ids of level L are in [8*4^L, 16*4^L)."""
HTM7_MAX = 16 * 4**7
"""One past the largest HTM level-7 trixel id (262144)."""

FALLBACK_EXPORT_VERSION = (1, 0, 2)
"""daf_butler's ``EXPORT_FORMAT_VERSION`` when the installed one cannot be read.

The YAML import backend of daf_butler (``transfers/_yaml.py``) reads a file whose
``version`` has the same major number as its own ``EXPORT_FORMAT_VERSION`` and a
minor number not above its own; the patch number is free, and the legacy
integer ``version: 0`` is read as 1.0.0. v23 wrote 1.0.1 (23.0.0) and 1.0.2;
daf_butler 30 writes and reads 1.0.2, so every 1.0.x export reads on both.
"""

MAX_LISTED = 20
"""How many names a message lists before saying "and N more"."""

DEFAULT_FITS_SAMPLE = 200
"""Raws (and FITS calibrations) astropy opens besides the suspicious ones (``FITS_SAMPLE``)."""

PARALLEL_VISITS = 200
"""From this many visit directories on, the raw files are checked in ``JOBS`` processes."""

ERROR = "error"
WARNING = "warning"
OK = "ok"
SKIPPED = "skipped"


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


class Report:
    """Collects the result of each check.

    Each check is a dict with keys ``check`` (a dotted name), ``status``
    (``ok``, ``warning``, ``error`` or ``skipped``), ``summary`` (one line) and
    ``details`` (a JSON-able dict).
    """

    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []
        self.figures: dict[str, Any] = {}

    def add(self, check: str, status: str, summary: str, **details: Any) -> None:
        """Record one check result.

        Parameters
        ----------
        check : `str`
            Name of the check, e.g. ``raw.index-files``.
        status : `str`
            ``ok``, ``warning``, ``error`` or ``skipped``.
        summary : `str`
            One-line explanation, naming the input and the fix when not ok.
        **details
            Extra JSON-able values for the report.
        """
        self.checks.append({"check": check, "status": status, "summary": summary,
                            "details": details})

    def count(self, status: str) -> int:
        """Return how many checks have the given status."""
        return sum(1 for c in self.checks if c["status"] == status)


def listed(names: list[Any], limit: int = MAX_LISTED) -> str:
    """Return a short comma-separated list of names, truncated after ``limit``.

    Parameters
    ----------
    names : `list`
        Names or ids to list (already sorted).
    limit : `int`
        How many to show.

    Returns
    -------
    text : `str`
        E.g. ``"a, b, c and 12 more"``.
    """
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


def file_fix(bad: list[str]) -> str:
    """Return what to do about files named with their problem (``"path (why)"``).

    Parameters
    ----------
    bad : `list` [`str`]
        Entries as the checks list them.

    Returns
    -------
    fix : `str`
        One or two sentences, for the kinds of problem present.
    """
    text = " ".join(bad)
    fixes = []
    if "not readable by this user" in text:
        fixes.append("Make the unreadable ones readable by the user who runs the build "
                     "(chmod a+r, or fix their owner or group).")
    if any(word in text for word in ("bytes", "truncated", "astropy", "empty")):
        fixes.append("Copy the truncated or damaged ones again from the source (an "
                     "interrupted copy or a full disk leaves such files), then run "
                     "'make check-inputs' again.")
    if any(word in text for word in ("dangling", "directory", "regular", "missing",
                                     "examined")):
        fixes.append("Replace the links, directories and special files by the files they "
                     "stand for, or remove them.")
    return " ".join(fixes)


# ---------------------------------------------------------------------------
# Trees
# ---------------------------------------------------------------------------


def readable_dir(path: str) -> str | None:
    """Return why ``path`` is not a readable directory, or `None` if it is."""
    if not path:
        return "is not set"
    if not os.path.exists(path):
        return "does not exist"
    if not os.path.isdir(path):
        return "is not a directory"
    if not os.access(path, os.R_OK | os.X_OK):
        return "is not readable by this user"
    return None


def check_trees(report: Report, trees: dict[str, str]) -> dict[str, bool]:
    """Check that each input tree exists and is readable.

    Parameters
    ----------
    report : `Report`
        Where results go.
    trees : `dict` [`str`, `str`]
        Setting name to directory.

    Returns
    -------
    usable : `dict` [`str`, `bool`]
        Whether each tree can be checked further.
    """
    usable = {}
    for name, path in trees.items():
        problem = readable_dir(path)
        usable[name] = problem is None
        if problem is None:
            report.add(f"tree.{name}", OK, f"{name}={path} is a readable directory", path=path)
        else:
            report.add(f"tree.{name}", ERROR,
                       f"{name}={path} {problem}. Point {name} at the right directory in "
                       "your .env (or 'make mini-inputs' for the miniature tree).", path=path)
    return usable


# ---------------------------------------------------------------------------
# Raws
# ---------------------------------------------------------------------------


def scan_year(year_dir: str) -> dict[str, Any]:
    """List one year directory of raws (its entries only, not the visit directories).

    Parameters
    ----------
    year_dir : `str`
        E.g. ``$DP02_RAW/y1-wfd``.

    Returns
    -------
    scan : `dict`
        ``visits`` (8-digit directory names), ``bad_dirs`` (other directories),
        ``other_files`` (plain files), sorted.
    """
    visits: list[str] = []
    bad_dirs: list[str] = []
    other_files: list[str] = []
    with os.scandir(year_dir) as it:
        entries = [(e.name, e.is_dir()) for e in it]
    for name, is_dir in entries:
        if not is_dir:
            other_files.append(name)
        elif VISIT_DIR_RE.match(name):
            visits.append(name)
        else:
            bad_dirs.append(name)
    for items in (visits, bad_dirs, other_files):
        items.sort()
    return {"visits": visits, "bad_dirs": bad_dirs, "other_files": other_files}


def scan_visit(task: tuple[str, int, int]) -> dict[str, Any]:
    """Check one visit directory: its index file and every raw file in it.

    Every ``lsst_a_*.fits`` file gets `input_files.entry_problem` (regular, readable,
    whole FITS blocks); astropy then opens the files whose size stands out in the visit
    (`input_files.suspicious`) and the one the sample picks, if any. Module-level, so
    that a process pool can run it.

    Parameters
    ----------
    task : `tuple` [`str`, `int`, `int`]
        The visit directory, its position among all visit directories (sorted), and the
        sample step (`input_files.sample_step`; 0: astropy opens every raw).

    Returns
    -------
    scan : `dict`
        ``unreadable`` (the directory cannot be listed), ``has_index``, ``index_problem``,
        ``raws`` (count), ``problems`` (``[name, why]`` pairs) and ``opened`` (files
        astropy opened).
    """
    path, position, step = task
    result: dict[str, Any] = {"unreadable": False, "has_index": False, "index_problem": None,
                              "raws": 0, "problems": [], "opened": 0}
    good: list[tuple[str, int]] = []
    problems: list[list[str]] = result["problems"]
    # The common case (a sound raw) costs one stat and one access; the loop is kept lean
    # because DP0.2 has 3.75 million raws. Anything else gets entry_problem's diagnosis.
    is_regular, access, readable, block = stat.S_ISREG, os.access, os.R_OK, input_files.FITS_BLOCK
    raws = 0
    try:
        with os.scandir(path) as it:
            for entry in it:
                name = entry.name
                if name == "_index.json":
                    result["has_index"] = True
                    result["index_problem"] = input_files.entry_problem(entry, fits=False)[0]
                elif name.startswith("lsst_a_") and name.endswith(".fits"):
                    raws += 1
                    try:
                        st = entry.stat()
                        size = st.st_size
                        sound = (is_regular(st.st_mode) and size and not size % block
                                 and access(entry.path, readable))
                    except OSError:
                        sound = False
                    if sound:
                        good.append((name, size))
                    else:
                        problems.append([name, input_files.entry_problem(entry, fits=True)[0]
                                         or "unreadable"])
    except OSError:
        result["unreadable"] = True
        return result
    result["raws"] = raws
    good.sort()
    chosen = set(range(len(good))) if step == 0 else set(
        input_files.suspicious([size for _name, size in good]))
    if step:
        pick = input_files.sample_pick(position, step, len(good))
        if pick is not None:
            chosen.add(pick)
    for index in sorted(chosen):
        name = good[index][0]
        problem = input_files.fits_problem(os.path.join(path, name))
        result["opened"] += 1
        if problem:
            result["problems"].append([name, problem])
    result["problems"].sort()
    return result


def read_visit_list(path: str) -> list[int]:
    """Read a visit list: one integer per line; blank lines and ``#`` comments skipped.

    Parameters
    ----------
    path : `str`
        The file.

    Returns
    -------
    visits : `list` [`int`]

    Raises
    ------
    ValueError
        A line is not an integer (the message names the line).
    """
    visits = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                visits.append(int(text))
            except ValueError:
                raise ValueError(f"line {number} is not a visit id: {line.strip()!r}") from None
    return visits


def check_raws(report: Report, raw: str, years: list[str], visit_list: str,
               expected_visits: int | None, jobs: int = 1,
               fits_sample: int | None = DEFAULT_FITS_SAMPLE) -> None:
    """Run the raw checks (years, visit directories, raw and index files, list, count).

    Parameters
    ----------
    report : `Report`
        Where results go.
    raw : `str`
        ``DP02_RAW``.
    years : `list` [`str`]
        ``RAW_YEARS``.
    visit_list : `str`
        ``VISIT_LIST`` (empty: not checked).
    expected_visits : `int` or `None`
        ``EXPECTED_VISITS``.
    jobs : `int`
        Processes for the file checks (``JOBS``).
    fits_sample : `int` or `None`
        How many raws astropy opens besides the suspicious ones (``FITS_SAMPLE``);
        `None`: every raw.
    """
    if not years:
        report.add("raw.years", ERROR, "RAW_YEARS is empty: set it to the year directories "
                   "of DP02_RAW to ingest (y1-wfd .. y5-wfd for DP0.2).")
        return
    bad_years = [y for y in years if "/" in y or y in (".", "..")]
    if bad_years:
        report.add("raw.years", ERROR, f"RAW_YEARS names {listed(bad_years)}, which are not "
                   "directory names (no '/', '.' or '..'): set it to the year directories "
                   "of DP02_RAW (y1-wfd .. y5-wfd for DP0.2).", bad=bad_years)
        return
    missing_years = [y for y in years if readable_dir(os.path.join(raw, y)) is not None]
    present = [y for y in years if y not in missing_years]
    if missing_years:
        report.add("raw.years", ERROR,
                   f"year directories of RAW_YEARS missing or unreadable under DP02_RAW={raw}: "
                   f"{listed(missing_years)}. Fix RAW_YEARS or DP02_RAW.",
                   missing=missing_years, present=present)
    else:
        report.add("raw.years", OK, f"{len(years)} year directories present: {' '.join(years)}",
                   present=present)

    per_year: dict[str, Any] = {}
    all_visits: dict[str, list[str]] = {}
    bad_dirs: list[str] = []
    other_files: list[str] = []
    visit_paths: list[str] = []
    for year in present:
        scan = scan_year(os.path.join(raw, year))
        per_year[year] = len(scan["visits"])
        for v in scan["visits"]:
            all_visits.setdefault(v, []).append(year)
            visit_paths.append(f"{year}/{v}")
        bad_dirs += [f"{year}/{n}" for n in scan["bad_dirs"]]
        other_files += [f"{year}/{n}" for n in scan["other_files"]]
    n_visits = sum(per_year.values())
    report.figures["visit_dirs"] = n_visits
    report.figures["visit_dirs_per_year"] = per_year

    # Every raw file of every visit directory, JOBS processes at a time.
    step = input_files.sample_step(n_visits, fits_sample)
    if n_visits >= PARALLEL_VISITS and input_files.astropy_problem() is None:
        from astropy.io import fits  # noqa: F401 - imported once, before the workers fork
    scans = input_files.run_parallel(
        scan_visit, [(os.path.join(raw, v), i, step) for i, v in enumerate(visit_paths)],
        jobs, min_items=PARALLEL_VISITS)
    no_index: list[str] = []
    no_raw: list[str] = []
    unreadable: list[str] = []
    bad_files: list[str] = []
    bad_indexes: list[str] = []
    n_raws = opened = 0
    for visit, scan in zip(visit_paths, scans):
        if scan["unreadable"]:
            unreadable.append(visit)
            continue
        n_raws += scan["raws"]
        opened += scan["opened"]
        if not scan["has_index"]:
            no_index.append(visit)
        elif scan["index_problem"]:
            bad_indexes.append(f"{visit}/_index.json ({scan['index_problem']})")
        if not scan["raws"]:
            no_raw.append(visit)
        bad_files += [f"{visit}/{name} ({why})" for name, why in scan["problems"]]
    report.figures["raw_files"] = n_raws
    report.figures["raw_files_opened_by_astropy"] = opened
    sampled = ("every raw file" if fits_sample is None else
               f"the raws whose size stands out in their visit directory and a sample of "
               f"{min(fits_sample, n_raws)}")
    if bad_files:
        report.add("raw.files", ERROR,
                   f"{len(bad_files)} of the {n_raws} raw files under DP02_RAW={raw} are not "
                   f"complete, readable FITS files: {listed(bad_files, 10)}. "
                   f"{file_fix(bad_files)}",
                   bad=bad_files, files=n_raws, opened_by_astropy=opened)
    else:
        report.add("raw.files", OK,
                   f"all {n_raws} raw files are regular, readable files of whole FITS blocks; "
                   f"astropy read {opened} of them completely ({sampled})",
                   files=n_raws, opened_by_astropy=opened)
    if bad_indexes:
        report.add("raw.index-readable", ERROR,
                   f"{len(bad_indexes)} index files are not readable files: "
                   f"{listed(bad_indexes, 10)}. {file_fix(bad_indexes)} ('make raw-indexes "
                   "WRITE_INDEXES=yes' rewrites missing ones: remove a broken one first.)",
                   bad=bad_indexes)

    if bad_dirs or unreadable:
        report.add("raw.visit-dirs", ERROR,
                   f"directories not named as an 8-digit visit id ({len(bad_dirs)}: "
                   f"{listed(bad_dirs)}) or unreadable ({len(unreadable)}: {listed(unreadable)}) "
                   f"under DP02_RAW={raw}. Rename or move them: ingest-raws would read them too.",
                   bad_names=bad_dirs, unreadable=unreadable)
    else:
        report.add("raw.visit-dirs", OK, f"{n_visits} visit directories, all named with 8 digits",
                   per_year=per_year)
    if other_files:
        report.add("raw.other-files", WARNING,
                   f"{len(other_files)} files lie directly in year directories (not in a visit "
                   f"directory): {listed(other_files)}.", files=other_files)
    duplicated = sorted(v for v, ys in all_visits.items() if len(ys) > 1)
    if duplicated:
        where = [v + " (" + " ".join(all_visits[v]) + ")" for v in duplicated]
        report.add("raw.duplicate-visits", ERROR,
                   f"{len(duplicated)} visits appear in more than one year: {listed(where)}. "
                   "Each visit must be in one year directory.", visits=duplicated)
    if no_raw:
        # Index files without images: the published index archive was unpacked (make
        # fetch-inputs) but the images, which are not published as an archive, are missing.
        indexed = [v for v in no_raw if v not in no_index]
        hint = ""
        if indexed:
            hint = (f" {len(indexed)} of them have an _index.json but no image: the raw images "
                    "are not published as an archive (make fetch-inputs brings only the index "
                    "files), so copy the images into DP02_RAW from the source site.")
        report.add("raw.raw-files", ERROR,
                   f"{len(no_raw)} visit directories hold no raw file (lsst_a_*.fits): "
                   f"{listed(no_raw)}. Complete or remove them.{hint}", visit_dirs=no_raw,
                   indexed_without_images=len(indexed))
    else:
        report.add("raw.raw-files", OK, "every visit directory holds raw files")
    if no_index:
        report.add("raw.index-files", WARNING,
                   f"{len(no_index)} visit directories have no _index.json: {listed(no_index)}. "
                   "Ingest still works but opens every FITS file (slower). "
                   "'make raw-indexes WRITE_INDEXES=yes' writes the missing ones.",
                   visit_dirs=no_index)
    else:
        report.add("raw.index-files", OK, "every visit directory has an _index.json")

    found_ids = {int(v) for v in all_visits}
    if visit_list:
        if not os.path.isfile(visit_list):
            report.add("raw.visit-list", ERROR,
                       f"VISIT_LIST={visit_list} does not exist. Point VISIT_LIST at the visit "
                       "list (one id a line), or leave it empty to skip this check.")
        else:
            try:
                wanted = set(read_visit_list(visit_list))
            except (OSError, ValueError) as exc:
                report.add("raw.visit-list", ERROR, f"VISIT_LIST={visit_list} cannot be read: "
                           f"{exc}. Fix the file (one visit id a line).")
            else:
                missing = sorted(wanted - found_ids)
                extra = sorted(found_ids - wanted)
                if missing or extra:
                    report.add("raw.visit-list", ERROR,
                               f"the raw tree (RAW_YEARS={' '.join(years)}) does not match "
                               f"VISIT_LIST={visit_list}: {len(missing)} listed visits missing "
                               f"from the tree ({listed(missing)}), {len(extra)} visits in the "
                               f"tree not in the list ({listed(extra)}).",
                               missing=missing, extra=extra, listed=len(wanted))
                else:
                    report.add("raw.visit-list", OK,
                               f"the {len(wanted)} visits of VISIT_LIST are all in the tree, "
                               "and no other", listed=len(wanted))
    else:
        report.add("raw.visit-list", SKIPPED, "VISIT_LIST is empty")
    if expected_visits is not None:
        if n_visits != expected_visits:
            report.add("raw.visit-count", ERROR,
                       f"{n_visits} visit directories found in RAW_YEARS, EXPECTED_VISITS="
                       f"{expected_visits}.", expected=expected_visits, found=n_visits)
        else:
            report.add("raw.visit-count", OK, f"{n_visits} visit directories = EXPECTED_VISITS",
                       expected=expected_visits, found=n_visits)
    else:
        report.add("raw.visit-count", SKIPPED, "EXPECTED_VISITS is empty", found=n_visits)


# ---------------------------------------------------------------------------
# Calibrations
# ---------------------------------------------------------------------------


def reader_export_version() -> tuple[tuple[int, int, int], str]:
    """Return the export format version the installed daf_butler writes and reads.

    Read from the source of ``lsst.daf.butler.transfers._yaml`` without importing
    daf_butler (which takes seconds).

    Returns
    -------
    version : `tuple` [`int`, `int`, `int`]
        ``EXPORT_FORMAT_VERSION``.
    origin : `str`
        Where it came from.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("lsst.daf.butler")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            source = os.path.join(location, "transfers", "_yaml.py")
            try:
                with open(source, encoding="utf-8") as stream:
                    text = stream.read()
            except OSError:
                continue
            match = re.search(r"EXPORT_FORMAT_VERSION\s*=\s*VersionTuple\(\s*(\d+)\s*,\s*(\d+)"
                              r"\s*,\s*(\d+)\s*\)", text)
            if match:
                version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
                return version, "installed daf_butler"
    return FALLBACK_EXPORT_VERSION, "daf_butler not found, assumed"


def version_readable(value: Any, reader: tuple[int, int, int]) -> tuple[bool, str]:
    """Tell whether daf_butler's YAML import reads an export of this ``version``.

    Parameters
    ----------
    value : `typing.Any`
        The ``version`` field of the export.
    reader : `tuple` [`int`, `int`, `int`]
        The reader's ``EXPORT_FORMAT_VERSION``.

    Returns
    -------
    ok : `bool`
    text : `str`
        The version as text, or why it is not a version.
    """
    if value == 0:
        return True, "0 (read as 1.0.0)"
    text = str(value)
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)$", text)
    if not match:
        return False, f"{text!r} (not MAJOR.MINOR.PATCH)"
    major, minor = int(match.group(1)), int(match.group(2))
    return (major == reader[0] and minor <= reader[1]), text


def export_files(doc: dict[str, Any]) -> tuple[list[str], dict[str, int]]:
    """List the files an export names, and count its datasets by dataset type.

    Parameters
    ----------
    doc : `dict`
        The parsed export.

    Returns
    -------
    paths : `list` [`str`]
        Unique file paths, in order of appearance.
    counts : `dict` [`str`, `int`]
        Dataset type name to number of dataset records.
    """
    paths: dict[str, None] = {}
    counts: dict[str, int] = {}
    for item in doc["data"]:
        if not isinstance(item, dict) or item.get("type") != "dataset":
            continue
        name = str(item.get("dataset_type"))
        for record in item.get("records") or []:
            if not isinstance(record, dict):
                continue
            ids = record.get("dataset_id")
            counts[name] = counts.get(name, 0) + (len(ids) if isinstance(ids, list) else 1)
            path = record.get("path")
            if path:
                paths[str(path)] = None
    return list(paths), counts


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def export_inconsistencies(doc: dict[str, Any]) -> list[str]:
    """Find what a complete ``butler export-calibs`` output cannot lack.

    A YAML file cut at a line boundary still parses; what it loses is its end. So:
    every dataset record has a ``dataset_id``, a ``data_id`` and a ``path``; the
    dataset types and runs the datasets name are defined in the export; and every
    dataset of a calibration dataset type is certified in a CALIBRATION collection of
    the export (``export-calibs`` exports only certified datasets, and their
    ``associations`` come last).

    Parameters
    ----------
    doc : `dict`
        The parsed export.

    Returns
    -------
    problems : `list` [`str`]
        One phrase per problem (empty when consistent).
    """
    types: dict[str, bool] = {}
    runs: set[str] = set()
    certified: set[str] = set()
    datasets: list[tuple[str, str, str]] = []
    incomplete = 0
    for item in doc["data"]:
        if not isinstance(item, dict):
            incomplete += 1
            continue
        kind = item.get("type")
        if kind == "dataset_type":
            types[str(item.get("name"))] = bool(item.get("is_calibration"))
        elif kind == "collection" and item.get("collection_type") == "RUN":
            runs.add(str(item.get("name")))
        elif kind == "associations" and item.get("collection_type") == "CALIBRATION":
            for validity in _as_list(item.get("validity_ranges")):
                if isinstance(validity, dict):
                    certified.update(str(i) for i in _as_list(validity.get("dataset_ids")))
        elif kind == "dataset":
            records = item.get("records")
            if not isinstance(records, list) or not records:
                incomplete += 1
                continue
            for record in records:
                if not (isinstance(record, dict) and record.get("dataset_id")
                        and record.get("data_id") and record.get("path")):
                    incomplete += 1
                    continue
                for dataset_id in _as_list(record.get("dataset_id")):
                    datasets.append((str(item.get("dataset_type")), str(item.get("run")),
                                     str(dataset_id)))
    problems = []
    if incomplete:
        problems.append(f"{incomplete} dataset entries lack their dataset_id, data_id or path")
    unknown_types = sorted({t for t, _r, _i in datasets if t not in types})
    if unknown_types:
        problems.append(f"datasets of types it does not define ({listed(unknown_types)})")
    unknown_runs = sorted({r for _t, r, _i in datasets if r not in runs})
    if unknown_runs:
        problems.append(f"datasets in runs it does not define ({listed(unknown_runs)})")
    uncertified = [i for t, _r, i in datasets if types.get(t) and i not in certified]
    if uncertified:
        problems.append(f"{len(uncertified)} of its {len(datasets)} calibration datasets are "
                        "certified in no CALIBRATION collection of it (its 'associations' "
                        "entries, written last, are missing)")
    return problems


def tree_files(top: str, skip: set[str]) -> list[str]:
    """List every file under ``top`` (relative paths), but ``skip`` and hidden names."""
    found = []
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            relative = os.path.relpath(os.path.join(directory, name), top)
            if relative not in skip:
                found.append(relative)
    return sorted(found)


def check_calib_files(report: Report, calib: str, paths: list[str], jobs: int,
                      fits_sample: int | None) -> None:
    """Check the files an export names: present, readable, complete; and no others.

    Parameters
    ----------
    report : `Report`
        Where results go.
    calib : `str`
        ``DP02_CALIB``.
    paths : `list` [`str`]
        The files ``export.yaml`` names (relative to ``calib``).
    jobs : `int`
        Processes for astropy.
    fits_sample : `int` or `None`
        FITS files astropy opens besides the suspicious ones (`None`: all).
    """
    missing: list[str] = []
    bad: list[str] = []
    groups: dict[str, list[tuple[str, int]]] = {}
    for path in paths:
        full = os.path.join(calib, path)
        problem, size = input_files.stat_problem(full)
        if problem == "missing":
            missing.append(path)
        elif problem:
            bad.append(f"{path} ({problem})")
        elif input_files.is_fits_name(path):
            groups.setdefault(os.path.dirname(path), []).append((path, size))
    chosen: list[str] = []
    step = input_files.sample_step(len(groups), fits_sample)
    for position, (_group, files) in enumerate(sorted(groups.items())):
        picks = set(range(len(files))) if step == 0 else set(
            input_files.suspicious([size for _p, size in files]))
        if step:
            pick = input_files.sample_pick(position, step, len(files))
            if pick is not None:
                picks.add(pick)
        chosen += [files[i][0] for i in sorted(picks)]
    damaged = input_files.fits_problems([os.path.join(calib, p) for p in chosen], jobs)
    bad += [f"{p} ({damaged[os.path.join(calib, p)]})" for p in chosen
            if os.path.join(calib, p) in damaged]
    named = set(paths)
    unnamed = [p for p in tree_files(calib, {"export.yaml"}) if p not in named]
    if missing:
        report.add("calib.files", ERROR,
                   f"{len(missing)} of the {len(paths)} files named by export.yaml are missing "
                   f"under DP02_CALIB={calib}: {listed(missing, 10)}. Copy them, or point "
                   "DP02_CALIB at the complete calibration tree.",
                   missing=missing, named=len(paths))
    elif bad:
        report.add("calib.files", ERROR,
                   f"{len(bad)} of the {len(paths)} files named by export.yaml under "
                   f"DP02_CALIB={calib} are not complete, readable files: {listed(bad, 10)}. "
                   f"{file_fix(bad)}", bad=bad, named=len(paths))
    else:
        report.add("calib.files", OK,
                   f"all {len(paths)} files named by export.yaml exist and are readable; "
                   f"astropy read {len(chosen)} FITS files completely", named=len(paths),
                   opened_by_astropy=len(chosen))
    if unnamed:
        report.add("calib.unnamed-files", ERROR,
                   f"{len(unnamed)} files under DP02_CALIB={calib} are not named by its "
                   f"export.yaml: {listed(unnamed, 10)}. An export.yaml cut short names fewer "
                   "files than the export wrote: use the complete export.yaml (export the "
                   "calibrations again, or fetch them again); files that are not calibrations "
                   "do not belong in DP02_CALIB.", unnamed=unnamed)


def check_calibs(report: Report, calib: str, jobs: int = 1,
                 fits_sample: int | None = DEFAULT_FITS_SAMPLE) -> None:
    """Run the calibration checks (export complete and readable, files complete).

    Parameters
    ----------
    report : `Report`
        Where results go.
    calib : `str`
        ``DP02_CALIB``.
    jobs : `int`
        Processes for astropy.
    fits_sample : `int` or `None`
        FITS calibrations astropy opens besides the suspicious ones (`None`: all).
    """
    export = os.path.join(calib, "export.yaml")
    problem, _size = input_files.stat_problem(export, fits=False)
    if problem:
        report.add("calib.export", ERROR, f"{export} is {problem}: DP02_CALIB must hold the "
                   "export.yaml written by 'butler export-calibs' and the files it names.")
        return
    try:
        doc = load_export(export)
    except Exception as exc:  # yaml.YAMLError, OSError, ValueError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        report.add("calib.export", ERROR, f"{export} does not parse: {first}. "
                   "Use the export.yaml that 'butler export-calibs' wrote.")
        return
    paths, counts = export_files(doc)
    total = sum(counts.values())
    report.figures["calib_datasets"] = counts
    problems = export_inconsistencies(doc)
    if not total:
        report.add("calib.export", ERROR,
                   f"{export} parses but names no dataset (0 datasets): it is cut short or is "
                   "not a calibration export, and importing it would import nothing. Use the "
                   "complete export.yaml that 'butler export-calibs' wrote.", datasets=counts)
    elif problems:
        report.add("calib.export", ERROR,
                   f"{export} parses ({total} datasets) but is incomplete: "
                   f"{'; '.join(problems)}. It looks cut short: use the complete export.yaml "
                   "that 'butler export-calibs' wrote.", datasets=counts, problems=problems)
    else:
        report.add("calib.export", OK, f"export.yaml parses, complete: {total} datasets "
                   f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}) in "
                   f"{len(paths)} files", datasets=counts)
    reader, origin = reader_export_version()
    reader_text = ".".join(str(n) for n in reader)
    ok, text = version_readable(doc.get("version"), reader)
    accepted = f"{reader[0]}.0.x .. {reader[0]}.{reader[1]}.x"
    if ok:
        report.add("calib.export-version", OK, f"export version {text} is read by daf_butler "
                   f"(export format {reader_text}, {origin}: reads {accepted})",
                   version=str(doc.get("version")), reader=reader_text)
    else:
        report.add("calib.export-version", ERROR,
                   f"export.yaml has version {text}, which daf_butler (export format "
                   f"{reader_text}, {origin}) cannot import: it reads {accepted} (v23 wrote "
                   "1.0.1 or 1.0.2). Export the calibrations again with a compatible stack.",
                   version=str(doc.get("version")), reader=reader_text)
    check_calib_files(report, calib, paths, jobs, fits_sample)


# ---------------------------------------------------------------------------
# Refcats
# ---------------------------------------------------------------------------


def classify_refcat_names(names: list[str]) -> tuple[list[int], list[str], list[str]]:
    """Split refcat directory entries into trixel ids, out-of-range and other names.

    Parameters
    ----------
    names : `list` [`str`]
        File names in ``cal_ref_cat/``.

    Returns
    -------
    trixels : `list` [`int`]
        Valid htm7 ids (``NNNNNN.fits`` with 131072 <= NNNNNN < 262144).
    out_of_range : `list` [`str`]
        Names of six digits + ``.fits`` that are no htm7 id.
    others : `list` [`str`]
        Every other name (skipped by the refcat table).
    """
    trixels: list[int] = []
    out_of_range: list[str] = []
    others: list[str] = []
    for name in sorted(names):
        match = REFCAT_NAME_RE.match(name)
        if not match:
            others.append(name)
        elif HTM7_MIN <= int(match.group(1)) < HTM7_MAX:
            trixels.append(int(match.group(1)))
        else:
            out_of_range.append(name)
    return trixels, out_of_range, others


def check_refcats(report: Report, refcats: str, expected: int | None, jobs: int = 1) -> None:
    """Run the refcat checks (names are htm7 trixels, each a complete FITS file, count).

    Parameters
    ----------
    report : `Report`
        Where results go.
    refcats : `str`
        ``DP02_REFCATS``.
    expected : `int` or `None`
        ``EXPECTED_REFCATS``.
    jobs : `int`
        Processes for astropy (it opens every refcat file: 1,213 for DP0.2).
    """
    directory = os.path.join(refcats, "cal_ref_cat")
    problem = readable_dir(directory)
    if problem is not None:
        report.add("refcat.names", ERROR, f"{directory} {problem}: DP02_REFCATS must hold "
                   "cal_ref_cat/<htm7>.fits.")
        return
    with os.scandir(directory) as it:
        entries = {e.name: e for e in it}
    trixels, out_of_range, others = classify_refcat_names(list(entries))
    # A name is not enough: a dangling link, a directory or a damaged file named
    # <htm7>.fits is no refcat file (the refcat table would skip or ingest it).
    bad: list[str] = []
    sound: dict[str, int] = {}
    for trixel in trixels:
        name = f"{trixel}.fits"
        why, _size = input_files.entry_problem(entries[name], fits=True)
        if why:
            bad.append(f"{name} ({why})")
        else:
            sound[entries[name].path] = trixel
    damaged = input_files.fits_problems(sorted(sound), jobs)
    for path in sorted(damaged):
        bad.append(f"{os.path.basename(path)} ({damaged[path]})")
        del sound[path]
    bad.sort()
    good = len(sound)
    report.figures["refcat_files"] = good
    if out_of_range:
        report.add("refcat.names", ERROR,
                   f"{len(out_of_range)} files of {directory} have a 6-digit name that is no "
                   f"HTM level-7 trixel id (valid ids are {HTM7_MIN}..{HTM7_MAX - 1}): "
                   f"{listed(out_of_range)}. Remove or rename them.",
                   out_of_range=out_of_range, skipped=others)
    elif others:
        report.add("refcat.names", WARNING,
                   f"{len(others)} files of {directory} are not named <htm7>.fits and are "
                   f"skipped by the refcat table: {listed(others)}.", skipped=others)
    else:
        report.add("refcat.names", OK, f"{len(trixels)} refcat files, all named <htm7>.fits")
    if bad:
        report.add("refcat.files", ERROR,
                   f"{len(bad)} entries of {directory} named <htm7>.fits are not complete, "
                   f"readable FITS files, and do not count as refcat files: {listed(bad, 10)}. "
                   f"{file_fix(bad)}", bad=bad, good=good)
    else:
        report.add("refcat.files", OK, f"all {good} refcat files are regular, readable, "
                   "complete FITS files (astropy read each)", good=good)
    if expected is not None:
        if good != expected:
            report.add("refcat.count", ERROR,
                       f"{good} refcat files (complete <htm7>.fits) in {directory}, "
                       f"EXPECTED_REFCATS={expected}.", expected=expected, found=good)
        else:
            report.add("refcat.count", OK, f"{good} refcat files = EXPECTED_REFCATS",
                       expected=expected, found=good)
    else:
        report.add("refcat.count", SKIPPED, "EXPECTED_REFCATS is empty", found=good)


# ---------------------------------------------------------------------------
# Truth summary
# ---------------------------------------------------------------------------


def parquet_problem(path: str) -> str | None:
    """Read a Parquet file's footer with pyarrow; return why it cannot, or `None`."""
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - ArrowInvalid, OSError: not a complete file
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"pyarrow cannot read it as Parquet ({text})"
    return None


def check_truth(report: Report, truth_dir: str) -> None:
    """Check the truth summary tree (``TRUTH_SUMMARY=yes``): its Parquet files, complete.

    Parameters
    ----------
    report : `Report`
        Where results go.
    truth_dir : `str`
        ``DP02_TRUTH_SUMMARY``.
    """
    problem = readable_dir(truth_dir)
    if problem is not None:
        report.add("truth.files", ERROR,
                   f"DP02_TRUTH_SUMMARY={truth_dir} {problem}. Point it at the truth summary "
                   "(truth_parquet/truth_patchint_tract<N>.parq), or set TRUTH_SUMMARY=no to "
                   "build without it.", path=truth_dir)
        return
    directory = os.path.join(truth_dir, "truth_parquet")
    try:
        names = sorted(n for n in os.listdir(directory) if TRUTH_NAME_RE.match(n))
    except OSError as exc:
        names = []
        problem = exc.strerror
    if not names:
        report.add("truth.files", ERROR,
                   f"{directory} holds no truth_patchint_tract<N>.parq file"
                   f"{f' ({problem})' if problem else ''}. Point DP02_TRUTH_SUMMARY at the "
                   "truth summary, or set TRUTH_SUMMARY=no to build without it.")
        return
    bad: list[str] = []
    sound: list[str] = []
    for name in names:
        why, _size = input_files.stat_problem(os.path.join(directory, name), fits=False)
        if why:
            bad.append(f"{name} ({why})")
        else:
            sound.append(name)
    try:
        import pyarrow.parquet  # noqa: F401
    except Exception:  # noqa: BLE001 - no pyarrow: the files are checked by their stat only
        opened = 0
    else:
        opened = len(sound)
        for name in sound:
            why = parquet_problem(os.path.join(directory, name))
            if why:
                bad.append(f"{name} ({why})")
    csv_path = os.path.join(truth_dir, "truth_tables.csv")
    if os.path.lexists(csv_path):
        why, _size = input_files.stat_problem(csv_path, fits=False)
        if why:
            bad.append(f"truth_tables.csv ({why})")
    report.figures["truth_files"] = len(names)
    if bad:
        report.add("truth.files", ERROR,
                   f"{len(bad)} truth summary files under DP02_TRUTH_SUMMARY={truth_dir} are "
                   f"not complete, readable files: {listed(sorted(bad), 10)}. {file_fix(bad)}",
                   bad=sorted(bad), files=len(names))
    else:
        report.add("truth.files", OK, f"all {len(names)} truth files are readable, complete "
                   f"Parquet files (pyarrow read {opened} footers)", files=len(names))


# ---------------------------------------------------------------------------
# Sky map, output places, database
# ---------------------------------------------------------------------------


def skymap_name(path: str) -> str | None:
    """Return the sky map name a pex_config override file sets (``config.name = "..."``)."""
    with open(path, encoding="utf-8") as stream:
        match = SKYMAP_NAME_RE.search(stream.read())
    return match.group(2) if match else None


def check_skymap(report: Report, config: str) -> None:
    """Check that the sky map config exists and sets ``config.name``.

    Parameters
    ----------
    report : `Report`
        Where results go.
    config : `str`
        ``SKYMAP_CONFIG``.
    """
    if not config or not os.path.isfile(config):
        report.add("skymap.config", ERROR, f"SKYMAP_CONFIG={config} does not exist. Point it "
                   "at the DC2.py sky map override (in DP02_SKYMAP).")
        return
    try:
        name = skymap_name(config)
    except (OSError, UnicodeDecodeError) as exc:
        report.add("skymap.config", ERROR, f"SKYMAP_CONFIG={config} cannot be read: {exc}.")
        return
    if not name:
        report.add("skymap.config", ERROR, f"SKYMAP_CONFIG={config} does not set the sky map "
                   "name: add a line config.name = \"DC2\".")
        return
    report.figures["skymap_name"] = name
    report.add("skymap.config", OK, f"sky map config sets name {name!r}", name=name)


def writable_place(path: str) -> tuple[str | None, str]:
    """Find where ``path`` will be created and whether this user can write there.

    Parameters
    ----------
    path : `str`
        A directory that may not exist yet.

    Returns
    -------
    problem : `str` or `None`
        Why it cannot be written, or `None`.
    existing : `str`
        The directory itself or its nearest existing ancestor.
    """
    current = os.path.abspath(path)
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if not os.path.isdir(current):
        return f"{current} exists and is not a directory", current
    if not os.access(current, os.W_OK | os.X_OK):
        return f"{current} is not writable by this user", current
    return None, current


def check_outputs(report: Report, places: dict[str, str], min_free_gb: float) -> None:
    """Check that REPO and STATE_DIR can be written and have free space.

    Parameters
    ----------
    report : `Report`
        Where results go.
    places : `dict` [`str`, `str`]
        Setting name to directory.
    min_free_gb : `float`
        Below this many GB free, a warning.
    """
    for name, path in places.items():
        if not path:
            report.add(f"output.{name}", ERROR, f"{name} is empty: set it in your .env.")
            continue
        problem, existing = writable_place(path)
        if problem:
            report.add(f"output.{name}", ERROR, f"{name}={path} cannot be created or written: "
                       f"{problem}. Point {name} elsewhere or fix the permissions.", path=path)
            continue
        free_gb = shutil.disk_usage(existing).free / 1e9
        details = {"path": path, "checked": existing, "free_gb": round(free_gb, 2)}
        if free_gb < 0.01:
            report.add(f"output.{name}", ERROR, f"{name}={path}: the file system of {existing} "
                       f"is full ({free_gb:.2f} GB free). Free space or point {name} elsewhere.",
                       **details)
        elif free_gb < min_free_gb:
            report.add(f"output.{name}", WARNING, f"{name}={path} is writable but only "
                       f"{free_gb:.2f} GB are free on {existing} (less than {min_free_gb} GB).",
                       **details)
        else:
            report.add(f"output.{name}", OK, f"{name} writable, {free_gb:.1f} GB free "
                       f"(at {existing})", **details)


def check_database(report: Report, registry_db: str, db_check: str) -> None:
    """Run ``bin/db-check`` when the registry is PostgreSQL.

    Parameters
    ----------
    report : `Report`
        Where results go.
    registry_db : `str`
        ``REGISTRY_DB`` (empty: SQLite, nothing to check). Used only to decide.
    db_check : `str`
        Path of the ``db-check`` script.
    """
    if not registry_db:
        report.add("registry.db-check", SKIPPED, "REGISTRY_DB is empty (SQLite registry)")
        return
    if not db_check or not os.access(db_check, os.X_OK):
        report.add("registry.db-check", WARNING, f"REGISTRY_DB is set but {db_check or 'db-check'}"
                   " is not available, so the database was not checked; run 'make db-check'.")
        return
    try:
        proc = subprocess.run([db_check], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        report.add("registry.db-check", ERROR, f"{db_check} could not run: {exc}.")
        return
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode == 0:
        report.add("registry.db-check", OK, "db-check passed", output=lines[-20:])
    else:
        tail = " | ".join(lines[-3:])
        report.add("registry.db-check", ERROR, f"db-check failed (exit {proc.returncode}): "
                   f"{tail}. Run 'make db-check' for the details.", output=lines[-20:],
                   exit=proc.returncode)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def format_table(report: Report) -> str:
    """Format the checks as a text table, then the full messages of problems.

    Parameters
    ----------
    report : `Report`
        The results.

    Returns
    -------
    text : `str`
    """
    width = max([len(c["check"]) for c in report.checks] + [5])
    lines = [f"{'check':<{width}}  {'status':<8}  summary", f"{'-' * width}  {'-' * 8}  {'-' * 40}"]
    for c in report.checks:
        summary = c["summary"]
        if len(summary) > 90:
            summary = summary[:87] + "..."
        lines.append(f"{c['check']:<{width}}  {c['status']:<8}  {summary}")
    errors, warnings = report.count(ERROR), report.count(WARNING)
    lines.append(f"check-inputs: {errors} error(s), {warnings} warning(s)")
    for status in (WARNING, ERROR):
        for c in report.checks:
            if c["status"] == status:
                lines.append(f"{status}: {c['check']}: {c['summary']}")
    return "\n".join(lines) + "\n"


def optional_int(text: str) -> int | None:
    """Parse an optional non-negative integer setting (empty: `None`)."""
    if text is None or text == "":
        return None
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def parse_fits_sample(text: str) -> int | None:
    """Parse ``FITS_SAMPLE``: a whole number, or ``all`` (`None`: every file).

    Raises
    ------
    ValueError
        Neither.
    """
    if text.strip().lower() == "all":
        return None
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="check_inputs.py",
        description="Check the DP0.2 input trees before building the repository.")
    parser.add_argument("--raw", required=True, help="DP02_RAW")
    parser.add_argument("--calib", required=True, help="DP02_CALIB")
    parser.add_argument("--refcats", required=True, help="DP02_REFCATS")
    parser.add_argument("--skymap-dir", required=True, help="DP02_SKYMAP")
    parser.add_argument("--skymap-config", required=True, help="SKYMAP_CONFIG")
    parser.add_argument("--raw-years", required=True, help="RAW_YEARS (space separated)")
    parser.add_argument("--visit-list", default="", help="VISIT_LIST (empty: not checked)")
    parser.add_argument("--expected-visits", default="", help="EXPECTED_VISITS (may be empty)")
    parser.add_argument("--expected-refcats", default="", help="EXPECTED_REFCATS (may be empty)")
    parser.add_argument("--truth-dir", default="",
                        help="DP02_TRUTH_SUMMARY, with TRUTH_SUMMARY=yes (empty: not checked)")
    parser.add_argument("--repo", required=True, help="REPO")
    parser.add_argument("--state-dir", required=True, help="STATE_DIR")
    parser.add_argument("--registry-db", default="", help="REGISTRY_DB (non-empty: run db-check)")
    parser.add_argument("--db-check", default="", help="path of bin/db-check")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes for the file checks (JOBS, default 1)")
    parser.add_argument("--fits-sample", default=str(DEFAULT_FITS_SAMPLE),
                        help="raws and FITS calibrations astropy opens besides those whose "
                        f"size stands out (FITS_SAMPLE, default {DEFAULT_FITS_SAMPLE}); "
                        "'all': every one")
    parser.add_argument("--min-free-gb", type=float, default=1.0,
                        help="warn below this many GB free (default 1)")
    parser.add_argument("--report", required=True, help="JSON report to write")
    parser.add_argument("--table", default="", help="also write the table to this file")
    parser.add_argument("--quiet", action="store_true",
                        help="print a one-line summary instead of the table")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run every check, write the report and the table.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0 without errors, 1 with errors, 2 for bad arguments.
    """
    args = build_parser().parse_args(argv)
    try:
        expected_visits = optional_int(args.expected_visits)
        expected_refcats = optional_int(args.expected_refcats)
    except ValueError:
        print("check_inputs.py: error: EXPECTED_VISITS and EXPECTED_REFCATS must be empty or "
              "whole numbers.", file=sys.stderr)
        return 2
    try:
        fits_sample = parse_fits_sample(args.fits_sample)
    except ValueError:
        print(f"check_inputs.py: error: FITS_SAMPLE={args.fits_sample} is neither a whole "
              "number nor 'all'.", file=sys.stderr)
        return 2
    jobs = max(1, args.jobs)
    t0 = time.time()
    report = Report()
    astropy = input_files.astropy_problem()
    if astropy:
        report.add("runtime.astropy", ERROR,
                   f"astropy cannot be imported by {sys.executable} ({astropy}), and "
                   "check-inputs reads the FITS files with it (their sizes were checked, not "
                   "their contents). Run the build with the runtime's Python ('make install' "
                   "for .venv, or the stack set up), with a HOME it can write to.")
    usable = check_trees(report, {"DP02_RAW": args.raw, "DP02_CALIB": args.calib,
                                  "DP02_REFCATS": args.refcats, "DP02_SKYMAP": args.skymap_dir})
    if usable["DP02_RAW"]:
        check_raws(report, args.raw, args.raw_years.split(), args.visit_list, expected_visits,
                   jobs, fits_sample)
    if usable["DP02_CALIB"]:
        check_calibs(report, args.calib, jobs, fits_sample)
    if usable["DP02_REFCATS"]:
        check_refcats(report, args.refcats, expected_refcats, jobs)
    if args.truth_dir:
        check_truth(report, args.truth_dir)
    check_skymap(report, args.skymap_config)
    check_outputs(report, {"REPO": args.repo, "STATE_DIR": args.state_dir}, args.min_free_gb)
    check_database(report, args.registry_db, args.db_check)

    errors, warnings = report.count(ERROR), report.count(WARNING)
    doc = {
        "report": "check-inputs",
        "version": REPORT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": round(time.time() - t0, 3),
        "ok": errors == 0,
        "errors": errors,
        "warnings": warnings,
        "inputs": {"DP02_RAW": args.raw, "DP02_CALIB": args.calib,
                   "DP02_REFCATS": args.refcats, "DP02_SKYMAP": args.skymap_dir,
                   "SKYMAP_CONFIG": args.skymap_config, "RAW_YEARS": args.raw_years.split(),
                   "VISIT_LIST": args.visit_list, "EXPECTED_VISITS": expected_visits,
                   "EXPECTED_REFCATS": expected_refcats, "JOBS": jobs,
                   "FITS_SAMPLE": "all" if fits_sample is None else fits_sample,
                   "REPO": args.repo,
                   "STATE_DIR": args.state_dir, "REGISTRY_DB": bool(args.registry_db)},
        "figures": report.figures,
        "checks": report.checks,
    }
    write_text(args.report, json.dumps(doc, indent=2, sort_keys=False) + "\n")
    table = format_table(report)
    if args.table:
        write_text(args.table, table)
    if args.quiet:
        print(f"check-inputs: {errors} error(s), {warnings} warning(s); table "
              f"{args.table or '(not written)'}, report {args.report}")
    else:
        sys.stdout.write(table)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
