"""Write the truth-summary ingest table: one row per tract's Parquet truth file.

The table is what ``butler ingest-files`` reads for the ``truth_summary`` dataset type
(RTN-029): the file, then the data ID columns ``skymap`` and ``tract``. It is written as
ECSV into ``STATE_DIR``, never into the inputs, from one of two sources:

- ``truth_tables.csv`` in the truth directory, when it is there (the published header
  ``file URI,skymap,tract``, rows ``<absolute path>,DC2,<tract>``): its paths come from the
  site that made it, so each is re-rooted onto the truth directory: the part after its
  last ``truth_parquet/`` (or its file name) is looked up in ``<truth dir>/truth_parquet``;
- otherwise the listing of ``<truth dir>/truth_parquet``: every regular file named
  ``truth_patchint_tract<N>.parq`` gives a row for tract ``N`` of the sky map that
  ``SKYMAP_CONFIG`` names.

Rows whose file is missing, whose sky map is not that one, whose tract is not a tract of the
sky map (no tract record in the registry) or that repeat a tract are refused, all of them
listed in one message; nothing is written then.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from pathlib import Path
from typing import Any

from atomic_write import write_with

TRUTH_NAME = re.compile(r"\Atruth_patchint_tract([0-9]+)\.parq\Z")
CONFIG_NAME = re.compile(r"""^\s*config\.name\s*=\s*(['"])(.+?)\1""", re.MULTILINE)
CSV_NAME = "truth_tables.csv"
CSV_COLUMNS = ("file URI", "skymap", "tract")
MAX_LISTED = 10


class TruthTableError(Exception):
    """The inputs do not give a usable truth-summary table."""


def skymap_name(config: Path) -> str:
    """Return ``config.name`` of a ``register-skymap`` config override file.

    Parameters
    ----------
    config : `pathlib.Path`
        ``SKYMAP_CONFIG``.

    Returns
    -------
    name : `str`
        The sky map's name.
    """
    try:
        match = CONFIG_NAME.search(config.read_text())
    except OSError as exc:
        raise TruthTableError(f"SKYMAP_CONFIG={config} cannot be read: {exc}.") from None
    if not match:
        raise TruthTableError(f"SKYMAP_CONFIG={config} does not set config.name.")
    return match.group(2)


def registry_tracts(repo: str, skymap: str) -> set[int]:
    """Return the ids of the tract records of a sky map in a repository (read-only).

    Parameters
    ----------
    repo : `str`
        ``REPO``.
    skymap : `str`
        Sky map name.

    Returns
    -------
    tracts : `set` [`int`]
        Tract ids.
    """
    from lsst.daf.butler import Butler

    registry = Butler(repo, writeable=False).registry
    if not any(r.name == skymap for r in registry.queryDimensionRecords("skymap")):
        raise TruthTableError(
            f"the sky map {skymap} is not registered in {repo}. Run 'make register-skymap' "
            "first (the truth files are ingested per tract of it)."
        )
    return {int(r.id) for r in registry.queryDimensionRecords("tract") if r.skymap == skymap}


def reroot(path: str, truth_dir: Path) -> Path:
    """Map a path of another site onto ``<truth_dir>/truth_parquet``.

    Parameters
    ----------
    path : `str`
        The path written in ``truth_tables.csv``.
    truth_dir : `pathlib.Path`
        ``DP02_TRUTH_SUMMARY``.

    Returns
    -------
    local : `pathlib.Path`
        ``<truth_dir>/truth_parquet/<the part after the last truth_parquet/>``, or
        ``<truth_dir>/truth_parquet/<file name>``.
    """
    marker = "truth_parquet/"
    tail = path.rsplit(marker, 1)[1] if marker in path else os.path.basename(path)
    return truth_dir.absolute() / "truth_parquet" / tail


def rows_from_csv(csv_path: Path, truth_dir: Path) -> list[tuple[str, Path, str, str]]:
    """Read ``truth_tables.csv``.

    Returns
    -------
    rows : `list` [`tuple`]
        ``(where, local path, skymap, tract text)``; ``where`` names the line.
    """
    with open(csv_path, newline="", encoding="utf-8") as stream:
        lines = list(csv.reader(stream))
    if not lines:
        raise TruthTableError(f"{csv_path} is empty: it should start with the header "
                              f"'{','.join(CSV_COLUMNS)}'.")
    header = [h.strip() for h in lines[0]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise TruthTableError(
            f"{csv_path} has the header {','.join(header)!r}, without the column(s) "
            f"{', '.join(missing)}: the published one is '{','.join(CSV_COLUMNS)}'. Fix the "
            f"header, or remove the file to build the table from {truth_dir}/truth_parquet."
        )
    index = [header.index(c) for c in CSV_COLUMNS]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue
        if len(line) < len(header):
            raise TruthTableError(f"{csv_path} line {number} has {len(line)} fields, not "
                                  f"{len(header)}: {','.join(line)!r}.")
        path, skymap, tract = (line[i].strip() for i in index)
        rows.append((f"line {number}", reroot(path, truth_dir), skymap, tract))
    return rows


def rows_from_listing(truth_dir: Path, skymap: str) -> list[tuple[str, Path, str, str]]:
    """List ``<truth_dir>/truth_parquet/truth_patchint_tract<N>.parq``.

    Returns
    -------
    rows : `list` [`tuple`]
        ``(where, path, skymap, tract text)``.
    """
    directory = truth_dir / "truth_parquet"
    if not directory.is_dir():
        raise TruthTableError(
            f"{truth_dir} has neither {CSV_NAME} nor a truth_parquet/ directory. Point "
            "DP02_TRUTH_SUMMARY at the truth-summary tree (truth_parquet/"
            "truth_patchint_tract<NNNN>.parq), or set TRUTH_SUMMARY=no to build without it."
        )
    rows = []
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            match = TRUTH_NAME.match(entry.name)
            if match and entry.is_file():
                rows.append((entry.name, Path(os.path.abspath(entry.path)), skymap,
                             match.group(1)))
    return rows


def check_rows(rows: list[tuple[str, Path, str, str]], skymap: str, tracts: set[int],
               source: str) -> list[tuple[str, str, int]]:
    """Check every row; refuse them all at once.

    Returns
    -------
    rows : `list` [`tuple` [`str`, `str`, `int`]]
        ``(absolute path, skymap, tract)``, sorted by tract.
    """
    problems: list[str] = []
    seen: dict[int, str] = {}
    good: list[tuple[str, str, int]] = []
    for where, path, row_skymap, tract_text in rows:
        try:
            tract = int(tract_text)
        except ValueError:
            problems.append(f"{where}: tract {tract_text!r} is not a whole number")
            continue
        if row_skymap != skymap:
            problems.append(f"{where}: sky map {row_skymap!r}, not {skymap!r} (SKYMAP_CONFIG)")
        if tract not in tracts:
            problems.append(f"{where}: tract {tract} is not a tract of the sky map {skymap}")
        if tract in seen:
            problems.append(f"{where}: tract {tract} repeats {seen[tract]}")
        else:
            seen[tract] = where
        if not path.is_file():
            problems.append(f"{where}: the file {path} does not exist")
        good.append((str(path), row_skymap, tract))
    if not rows:
        problems.append("no truth file (truth_patchint_tract<N>.parq) was found")
    if problems:
        shown = problems[:MAX_LISTED]
        more = len(problems) - len(shown)
        raise TruthTableError(
            f"the truth-summary table from {source} has {len(problems)} problem(s):\n  "
            + "\n  ".join(shown) + (f"\n  and {more} more" if more else "")
            + "\nFix the truth-summary tree (DP02_TRUTH_SUMMARY) or its truth_tables.csv; "
            "nothing was written."
        )
    return sorted(good, key=lambda r: r[2])


def write_table(rows: list[tuple[str, str, int]], output: Path) -> None:
    """Write the rows as an ECSV table (``filename``, ``skymap``, ``tract``), atomically."""
    import numpy as np
    from astropy.table import Table

    table = Table(
        [
            np.array([r[0] for r in rows], dtype=str),
            np.array([r[1] for r in rows], dtype=str),
            np.array([r[2] for r in rows], dtype=np.int64),
        ],
        names=("filename", "skymap", "tract"),
    )
    write_with(output, lambda tmp: table.write(tmp, format="ascii.ecsv", overwrite=True))


def make_table(truth_dir: Path, skymap_config: Path, repo: str, output: Path,
               tracts: Any = None) -> tuple[int, str]:
    """Build and write the table.

    Parameters
    ----------
    truth_dir : `pathlib.Path`
        ``DP02_TRUTH_SUMMARY``.
    skymap_config : `pathlib.Path`
        ``SKYMAP_CONFIG`` (gives the sky map's name).
    repo : `str`
        ``REPO`` (gives the sky map's tracts).
    output : `pathlib.Path`
        The ECSV file to write.
    tracts : `set` [`int`], optional
        The sky map's tracts, instead of asking ``repo`` (tests).

    Returns
    -------
    count : `int`
        Rows written.
    source : `str`
        Where they came from.
    """
    if not truth_dir.is_dir():
        raise TruthTableError(
            f"DP02_TRUTH_SUMMARY={truth_dir} is not a directory. Point it at the "
            "truth-summary tree, or set TRUTH_SUMMARY=no to build without it."
        )
    skymap = skymap_name(skymap_config)
    if tracts is None:
        tracts = registry_tracts(repo, skymap)
    csv_path = truth_dir / CSV_NAME
    if csv_path.is_file():
        source = f"{csv_path} (paths re-rooted onto {truth_dir.absolute()}/truth_parquet)"
        rows = rows_from_csv(csv_path, truth_dir)
    else:
        source = f"the listing of {truth_dir.absolute()}/truth_parquet"
        rows = rows_from_listing(truth_dir, skymap)
    checked = check_rows(rows, skymap, set(tracts), source)
    write_table(checked, output)
    return len(checked), source


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("truth_dir", type=Path, help="DP02_TRUTH_SUMMARY")
    parser.add_argument("--skymap-config", required=True, type=Path, help="SKYMAP_CONFIG")
    parser.add_argument("--repo", required=True, help="REPO (its tract records)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="ECSV file to write")
    args = parser.parse_args(argv)
    try:
        count, source = make_table(args.truth_dir, args.skymap_config, args.repo, args.output)
    except TruthTableError as exc:
        print(f"make_truth_table: error: {exc}", file=sys.stderr)
        return 2
    print(f"make_truth_table: {count} truth files from {source} -> {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
