"""Write the refcat ingest table: one row per HTM level-7 reference catalog file.

The table is what ``butler ingest-files`` reads (RTN-029): columns ``filename`` (absolute
path, string) and ``htm7`` (int64), sorted by ``htm7``, written as ECSV. Only regular files
whose whole name is six digits followed by ``.fits`` are taken; RTN-029's own listing used
an unanchored ``re.match`` that let ``141440.fits.bak`` through.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from atomic_write import write_with

REFCAT_NAME = re.compile(r"\A([0-9]{6})\.fits\Z")
# Level-7 HTM ids are 8 * 4**7 .. 16 * 4**7 - 1.
HTM7_MIN = 8 * 4**7
HTM7_MAX = 16 * 4**7 - 1


class RefcatTableError(Exception):
    """The directories do not give a usable refcat table."""


def scan(directories: list[Path]) -> tuple[list[tuple[str, int]], list[str]]:
    """List the refcat files of the directories.

    Parameters
    ----------
    directories : `list` [`pathlib.Path`]
        Directories holding ``NNNNNN.fits`` files (not searched recursively).

    Returns
    -------
    rows : `list` [`tuple` [`str`, `int`]]
        ``(absolute path, htm7 id)``, sorted by id.
    skipped : `list` [`str`]
        Entries that are not refcat files, with the reason.

    Raises
    ------
    RefcatTableError
        A directory is missing, two files share an id, or no file was found.
    """
    rows: dict[int, str] = {}
    skipped: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            raise RefcatTableError(
                f"{directory} is not a directory. Point DP02_REFCATS at the directory that "
                "holds cal_ref_cat/ (the NNNNNN.fits files)."
            )
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                match = REFCAT_NAME.match(entry.name)
                if not match:
                    skipped.append(f"{entry.path} (name is not NNNNNN.fits)")
                    continue
                if not entry.is_file():
                    skipped.append(f"{entry.path} (not a regular file)")
                    continue
                htm7 = int(match.group(1))
                if not HTM7_MIN <= htm7 <= HTM7_MAX:
                    skipped.append(f"{entry.path} (not a level-7 HTM id)")
                    continue
                path = os.path.abspath(entry.path)
                if htm7 in rows:
                    raise RefcatTableError(
                        f"htm7 id {htm7} appears twice: {rows[htm7]} and {path}. Each trixel "
                        "must have one file: remove one of them."
                    )
                rows[htm7] = path
    if not rows:
        names = ", ".join(str(d) for d in directories)
        raise RefcatTableError(
            f"no refcat file (NNNNNN.fits) was found in {names}. Check that DP02_REFCATS "
            "points at the reference catalog tree (it holds cal_ref_cat/NNNNNN.fits)."
        )
    return [(rows[k], k) for k in sorted(rows)], skipped


def write_table(rows: list[tuple[str, int]], output: Path) -> None:
    """Write the rows as an ECSV table, atomically.

    Parameters
    ----------
    rows : `list` [`tuple` [`str`, `int`]]
        ``(filename, htm7)`` pairs.
    output : `pathlib.Path`
        The ECSV file to write; never left half-written.
    """
    import numpy as np
    from astropy.table import Table

    table = Table(
        [
            np.array([r[0] for r in rows], dtype=str),
            np.array([r[1] for r in rows], dtype=np.int64),
        ],
        names=("filename", "htm7"),
    )
    write_with(output, lambda tmp: table.write(tmp, format="ascii.ecsv", overwrite=True))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", type=Path, help="cal_ref_cat directory")
    parser.add_argument("-o", "--output", required=True, type=Path, help="ECSV file to write")
    args = parser.parse_args(argv)
    try:
        rows, skipped = scan(args.directories)
    except RefcatTableError as exc:
        print(f"make_refcat_table: error: {exc}", file=sys.stderr)
        return 2
    if skipped:
        print(
            f"make_refcat_table: warning: skipped {len(skipped)} entries that are not refcat "
            "files:\n  " + "\n  ".join(skipped),
            file=sys.stderr,
        )
    write_table(rows, args.output)
    print(f"make_refcat_table: {len(rows)} refcat files -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
