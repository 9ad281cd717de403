"""Ask the registry whether a step's work is already there (check before acting).

Stamps say what make believes; the registry says what is true. Each subcommand answers
for one step, by exit status: 0 = the work is done, 10 = (some) work remains, 11 = the
repository is in a state the step must not touch (the message says what and how to fix),
2 = bad input. Only registry calls that exist at daf_butler 23 and today are used.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from atomic_write import write_with
from export_yaml import load_export

DONE = 0
TODO = 10
STOP = 11
#: --new-repo: the repository is one this build created, and the step has not run against
#: it yet, so the registry holds nothing of the step's and is not asked (the Butler not even
#: opened: that costs seconds per step, issue 16). The inputs are still read and checked.
NEW_REPO = {"on": False}
NEW_REPO_NOTE = " (new repository: registry not asked)"
VISIT_DIR = re.compile(r"\A[0-9]{8}\Z")


class StateError(Exception):
    """The repository is in a state the step must not touch."""


def _butler(repo: str) -> Any:
    from lsst.daf.butler import Butler

    return Butler(repo, writeable=False)


def _registry(repo: str) -> Any:
    """The repository's registry, or None under --new-repo (nothing of the step's there)."""
    return None if NEW_REPO["on"] else _butler(repo).registry


def _collections(registry: Any) -> set[str]:
    return set() if registry is None else set(registry.queryCollections())


def _dataset_type_exists(registry: Any, name: str) -> bool:
    return any(dt.name == name for dt in registry.queryDatasetTypes(name))


def check_create(repo: str) -> tuple[int, str]:
    """Is there a repository with a schema at ``repo``?"""
    if not (Path(repo) / "butler.yaml").exists():
        return TODO, f"no butler.yaml in {repo}"
    try:
        butler = _butler(repo)
        list(butler.registry.queryCollections())
    except Exception as exc:  # noqa: BLE001 -- any failure here means a half-made repository
        raise StateError(
            f"{repo}/butler.yaml exists but its registry does not answer with a schema "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). This is "
            "what a create that failed part way leaves behind (for example when the database "
            f"was unreachable). Clean up: remove {repo} (rm -r {repo}), and with PostgreSQL "
            "drop the schema or database tables it may have made, then run 'make create' again."
        ) from None
    return DONE, "butler.yaml and registry schema present"


def export_counts(export: Path) -> Counter:
    """Count the datasets of an export file per (dataset type, run)."""
    try:
        content = load_export(str(export))
    except ValueError as exc:
        raise StateError(f"{export}: {exc}. Point DP02_CALIB at a 'butler export' tree.") from None
    counts: Counter = Counter()
    for item in content["data"]:
        if item.get("type") != "dataset":
            continue
        key = (item["dataset_type"], item["run"])
        for record in item.get("records", []):
            data_ids = record.get("data_id", [])
            counts[key] += len(data_ids) if isinstance(data_ids, list) else 1
    return counts


def check_import(repo: str, export: Path, calib_collection: str) -> tuple[int, str]:
    """Are the datasets of an export file all in the repository?"""
    expected = export_counts(export)
    if not expected:
        raise StateError(
            f"{export} names no dataset: it is cut short or is not a calibration export, and "
            "importing it would import nothing. Use the complete export.yaml that 'butler "
            "export-calibs' wrote ('make check-inputs' says what is wrong with this one)."
        )
    registry = _registry(repo)
    collections = _collections(registry)
    found: Counter = Counter()
    for dataset_type, run in expected:
        if run in collections and _dataset_type_exists(registry, dataset_type):
            found[(dataset_type, run)] = len(
                set(registry.queryDatasets(dataset_type, collections=[run]))
            )
    total = sum(expected.values())
    present = sum(found.values())
    if present == 0:
        return TODO, f"0/{total} datasets of {export} present"
    complete = all(found[k] == v for k, v in expected.items())
    if complete and calib_collection in collections:
        return DONE, f"{present}/{total} datasets of export.yaml present"
    lines = [
        f"  {dt} in {run}: {found[(dt, run)]} of {n}"
        for (dt, run), n in sorted(expected.items())
        if found[(dt, run)] != n
    ]
    if calib_collection not in collections:
        lines.append(f"  collection {calib_collection}: missing")
    raise StateError(
        f"the repository holds part of the calibration import ({present} of {total} datasets "
        f"of {export}); what is missing:\n" + "\n".join(lines) + "\nA second import would fail "
        "on the datasets already there. Remove the partial import (butler remove-runs for the "
        "runs above, and remove-collections for the calibration collections) and run "
        "'make import-calibs' again, or rebuild the repository from scratch."
    )


def check_collection(repo: str, name: str) -> tuple[int, str]:
    """Does the collection exist?"""
    if name in _collections(_registry(repo)):
        return DONE, f"collection {name} exists"
    return TODO, f"collection {name} does not exist"


def check_refcats(
    repo: str, table: Path, dataset_type: str, collection: str, dimension: str, output: Path
) -> tuple[int, str]:
    """Which rows of the refcat table are not yet ingested? Writes them to ``output``."""
    return check_table(repo, table, dataset_type, collection, [dimension], output)


def check_table(
    repo: str, table: Path, dataset_type: str, collection: str, dimensions: list[str],
    output: Path,
) -> tuple[int, str]:
    """Which rows of an ingest table are not yet in the collection? Writes them to ``output``.

    A row is there when a dataset of ``dataset_type`` in ``collection`` has the row's
    values of ``dimensions`` (table columns of the same names) as its data ID.
    """
    from astropy.table import Table

    rows = Table.read(table, format="ascii.ecsv")
    registry = _registry(repo)
    present: set[tuple[str, ...]] = set()
    if collection in _collections(registry) and _dataset_type_exists(registry, dataset_type):
        for ref in registry.queryDatasets(dataset_type, collections=[collection]):
            present.add(tuple(str(ref.dataId[d]) for d in dimensions))
    keep = [tuple(str(row[d]) for d in dimensions) not in present for row in rows]
    remaining = rows[keep]
    summary = f"{len(rows) - len(remaining)}/{len(rows)} in {collection}"
    if len(remaining) == 0:
        return DONE, summary
    write_with(output, lambda tmp: remaining.write(tmp, format="ascii.ecsv", overwrite=True))
    return TODO, summary


RAW_FILE = re.compile(r"\.fits?(\.fz)?\Z")


def check_raws(
    repo: str, instrument: str, collection: str, year_dir: Path, output: Path
) -> tuple[int, str]:
    """Which visit directories of a year are not yet ingested?

    A visit directory is done when its exposure has as many ``raw`` datasets in
    ``collection`` as the directory has raw files. The exposure record alone is not enough:
    at v23 ingest-raws commits the record before the transaction that ingests the raws, so
    an interruption can leave an exposure without raws (re-ingesting it then succeeds).
    Writes the absolute paths of the directories still to do to ``output``, one per line.
    """
    if not year_dir.is_dir():
        raise StateError(f"{year_dir} is not a directory: check DP02_RAW and RAW_YEARS.")
    files: dict[int, int] = {}
    with os.scandir(year_dir) as entries:
        for entry in entries:
            if entry.is_dir() and VISIT_DIR.match(entry.name):
                with os.scandir(entry.path) as inner:
                    files[int(entry.name)] = sum(1 for f in inner if RAW_FILE.search(f.name))
    if not files:
        raise StateError(
            f"{year_dir} holds no visit directory (8-digit names): check DP02_RAW and RAW_YEARS."
        )
    registry = _registry(repo)
    found: Counter = Counter()
    if collection in _collections(registry) and _dataset_type_exists(registry, "raw"):
        found = raws_per_exposure(registry, instrument, collection, files)
    done = [v for v in files if found[v] and found[v] == files[v]]
    partial = [v for v in files if found[v] and found[v] != files[v]]
    if partial:
        lines = "\n".join(f"  {v:08d}: {found[v]} raws, {files[v]} files" for v in partial)
        raise StateError(
            f"some exposures of {year_dir} have raws in {collection}, but not one per file:\n"
            f"{lines}\nFiles were added or removed after their ingest. Remove those raws "
            "(butler prune-datasets) or restore the files, then run the step again."
        )
    remaining = sorted(v for v in files if v not in done)
    summary = f"{len(done)}/{len(files)} exposures ingested"
    if not remaining:
        return DONE, summary
    text = "".join(f"{year_dir.absolute() / f'{v:08d}'}\n" for v in remaining)
    write_with(output, lambda tmp: Path(tmp).write_text(text))
    return TODO, summary


def raws_per_exposure(
    registry: Any, instrument: str, collection: str, files: dict[int, int]
) -> Counter:
    """How many raws each exposure of ``files`` (exposure id -> raw files) has in
    ``collection``, asked as counts, not as one object per raw.

    A DP0.2 year has 750k raws: fetching them as refs costs seconds and hundreds of MiB
    (issue 16). So the registry is asked for the year's total (SQL ``COUNT``) and for the
    exposures that have raws (one row per exposure): when the total equals the files of
    those exposures, each of them is complete (an exposure is ingested in one transaction,
    so its raws are all there or none are). Only when the totals differ (files added or
    removed after their ingest) are the raws listed, to name the exposures that differ.
    Both calls exist at daf_butler 23 and today.
    """
    # The year's visit ids are one range: ask only for those raws, not the whole survey.
    where = f"exposure >= {min(files)} AND exposure <= {max(files)}"
    kwargs = {"collections": [collection], "where": where, "instrument": instrument}
    total = registry.queryDatasets("raw", **kwargs).count(exact=True)
    found: Counter = Counter()
    if total == 0:
        return found
    exposures = {
        int(data_id["exposure"])
        for data_id in registry.queryDataIds(["exposure"], datasets="raw", **kwargs)
    }
    if total == sum(files.get(exposure, -1) for exposure in exposures):
        found.update({exposure: files[exposure] for exposure in exposures})
        return found
    for ref in registry.queryDatasets("raw", **kwargs):
        found[int(ref.dataId["exposure"])] += 1
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: prints the summary on stdout, exits with the state."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-repo", action="store_true",
                        help="the repository was created by this build and the step has not "
                             "run against it: do not ask the registry (the inputs are read)")
    sub = parser.add_subparsers(dest="check", required=True)
    p = sub.add_parser("create", help="repository with schema?")
    p.add_argument("repo")
    p = sub.add_parser("import", help="datasets of an export file present?")
    p.add_argument("repo")
    p.add_argument("export", type=Path)
    p.add_argument("calib_collection")
    p = sub.add_parser("collection", help="collection exists?")
    p.add_argument("repo")
    p.add_argument("name")
    p = sub.add_parser("refcats", help="refcat rows not yet ingested")
    p.add_argument("repo")
    p.add_argument("table", type=Path)
    p.add_argument("dataset_type")
    p.add_argument("collection")
    p.add_argument("dimension")
    p.add_argument("-o", "--output", required=True, type=Path)
    p = sub.add_parser("table", help="rows of an ingest table not yet ingested")
    p.add_argument("repo")
    p.add_argument("table", type=Path)
    p.add_argument("dataset_type")
    p.add_argument("collection")
    p.add_argument("dimensions", nargs="+", help="data ID columns of the table")
    p.add_argument("-o", "--output", required=True, type=Path)
    p = sub.add_parser("raws", help="visit directories not yet ingested")
    p.add_argument("repo")
    p.add_argument("instrument")
    p.add_argument("collection")
    p.add_argument("year_dir", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path)
    args = parser.parse_args(argv)
    NEW_REPO["on"] = args.new_repo
    try:
        if args.check == "create":
            state, summary = check_create(args.repo)
        elif args.check == "import":
            state, summary = check_import(args.repo, args.export, args.calib_collection)
        elif args.check == "collection":
            state, summary = check_collection(args.repo, args.name)
        elif args.check == "refcats":
            state, summary = check_refcats(
                args.repo, args.table, args.dataset_type, args.collection, args.dimension,
                args.output,
            )
        elif args.check == "table":
            state, summary = check_table(
                args.repo, args.table, args.dataset_type, args.collection, args.dimensions,
                args.output,
            )
        else:
            state, summary = check_raws(
                args.repo, args.instrument, args.collection, args.year_dir, args.output
            )
    except StateError as exc:
        print(f"repo_state: {exc}", file=sys.stderr)
        return STOP
    print(summary + (NEW_REPO_NOTE if args.new_repo else ""))
    return state


if __name__ == "__main__":
    sys.exit(main())
