"""Verify a built DP0.2 repository against its inputs (step ``verify``, last of ``make repo``).

Queries the registry and compares with what the inputs and settings imply:

``instrument``
    ``INSTRUMENT`` has an instrument dimension record.
``calib:<dataset type>``
    For each calibration dataset type of ``export.yaml`` (``is_calibration: true``):
    expected = the number of distinct dataset ids of that type the export makes
    reachable from ``CALIB_COLLECTION``, resolved with the export's own collection
    definitions (children of CHAINED collections, recursively; datasets whose RUN
    is in the chain; datasets certified into a CALIBRATION collection, or
    associated with a TAGGED one, of the chain). When the export does not define
    ``CALIB_COLLECTION``, every dataset of the type in the export counts.
    found = the number of distinct dataset ids ``queryDatasets(type,
    collections=CALIB_COLLECTION)`` returns (a dataset certified for several
    validity ranges counts once).
``curated-collection``
    ``CURATED_COLLECTION`` exists.
``skymap``
    The sky map named by ``config.name`` in ``SKYMAP_CONFIG`` has a skymap record.
``refcats``
    Datasets of ``REFCAT_DATASET_TYPE`` in ``REFCAT_COLLECTION`` = rows of the refcat
    table (``$STATE_DIR/refcat.ecsv``); missing and extra htm7 ids are listed.
``refcats:listing``
    The same datasets = the ``<htm7>.fits`` entries of ``DP02_REFCATS/cal_ref_cat``,
    whatever they are (a dangling link the table skipped shows here, with what it is).
``exposures``
    Exposure records of ``INSTRUMENT`` = visit directories (8 digits) in ``RAW_YEARS``.
``raws``
    ``raw`` datasets in ``RAW_COLLECTION`` = files listed in the ``_index.json`` files
    (entries other than ``__COMMON__`` and ``__CONTENT__``; a visit directory
    without an index counts its ``lsst_a_*.fits`` files).
``raws:listing``
    The same raws = the ``lsst_a_*.fits`` entries of the visit directories, and every
    visit directory's listing = its index (the directories that differ are named).
``visits``
    Visit records = exposure records found (one exposure per visit in DP0.2).
``truth-summary``, ``truth-summary:listing``
    With ``TRUTH_SUMMARY=yes``: the tracts of ``TRUTH_DATASET_TYPE`` in
    ``TRUTH_COLLECTION`` = the rows of the truth table (``$STATE_DIR/truth-summary.ecsv``)
    and = the ``truth_patchint_tract<N>.parq`` files of ``DP02_TRUTH_SUMMARY/truth_parquet``.
``defaults-chain``
    ``DEFAULTS_CHAIN`` is CHAINED with exactly ``DEFAULTS_CHAIN_CHILDREN``, in order.
``tree:collections``, ``tree:dataset-types``, ``tree:physical-filters``
    With ``--tree`` (``etc/tree-$PROFILE.yaml``): the published end state. Every
    collection of the tree exists with its type, every chain has its children in order,
    every dataset type has its dimensions and storage class, every physical filter has a
    record. Each difference is named (``collection 2.2i/truth_summary missing from chain
    2.2i/defaults``). Entries marked ``when: truth_summary`` and the truth collection as a
    chain child are left out with ``--truth-summary no``.

Only the registry API that daf_butler 23 and the current release share is used:
``Butler(repo)``, ``registry.queryCollections``, ``getCollectionType``,
``getCollectionChain``, ``queryDatasets``, ``queryDimensionRecords``,
``queryDatasetTypes``, with plain keyword data IDs.

Output: a table (check, expected, found, ok) on stdout and in ``--table``, and the
JSON report ``--report`` (atomic). Exit status 1 naming every mismatch, 0 when all
match, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from typing import Any, Callable

from atomic_write import write_text
from export_yaml import load_export

REPORT_VERSION = 1
VISIT_DIR_RE = re.compile(r"^[0-9]{8}$")
SKYMAP_NAME_RE = re.compile(r"""^\s*config\.name\s*=\s*(['"])(.+?)\1""", re.MULTILINE)
INDEX_SPECIAL_KEYS = ("__COMMON__", "__CONTENT__")
RAW_FILE_RE = re.compile(r"^lsst_a_.*\.fits$")
REFCAT_NAME_RE = re.compile(r"\A([0-9]{6})\.fits\Z")
TRUTH_NAME_RE = re.compile(r"\Atruth_patchint_tract([0-9]+)\.parq\Z")
HTM7_MIN = 8 * 4**7
HTM7_MAX = 16 * 4**7
MAX_LISTED = 20


class Mismatch(Exception):
    """A check could not be evaluated (missing input, failed query)."""


def listed(names: list[Any], limit: int = MAX_LISTED) -> str:
    """Return a short comma-separated list, truncated after ``limit`` items."""
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


# ---------------------------------------------------------------------------
# What the inputs imply
# ---------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def expected_calibs(export_path: str, calib_collection: str) -> tuple[dict[str, int], str]:
    """Count, per calibration dataset type, the export's datasets reachable from a collection.

    Parameters
    ----------
    export_path : `str`
        The ``export.yaml``.
    calib_collection : `str`
        ``CALIB_COLLECTION``.

    Returns
    -------
    counts : `dict` [`str`, `int`]
        Calibration dataset type name to number of distinct dataset ids.
    how : `str`
        How they were counted (for the report).
    """
    try:
        doc = load_export(export_path)
    except ValueError:
        raise Mismatch(f"{export_path} is not a butler export file") from None
    calib_types: set[str] = set()
    collections: dict[str, dict[str, Any]] = {}
    dataset_type_of: dict[str, str] = {}
    run_of: dict[str, str] = {}
    associated: dict[str, set[str]] = {}
    for item in doc["data"]:
        kind = item.get("type")
        if kind == "dataset_type" and item.get("is_calibration"):
            calib_types.add(str(item["name"]))
        elif kind == "collection":
            collections[str(item["name"])] = item
        elif kind == "dataset":
            name = str(item.get("dataset_type"))
            run = str(item.get("run"))
            for record in item.get("records") or []:
                for dataset_id in _as_list(record.get("dataset_id")):
                    dataset_type_of[str(dataset_id)] = name
                    run_of[str(dataset_id)] = run
        elif kind == "associations":
            ids = associated.setdefault(str(item.get("collection")), set())
            for dataset_id in _as_list(item.get("dataset_ids")):
                ids.add(str(dataset_id))
            for validity in item.get("validity_ranges") or []:
                for dataset_id in _as_list(validity.get("dataset_ids")):
                    ids.add(str(dataset_id))
    if calib_collection in collections:
        leaves: set[str] = set()
        pending = [calib_collection]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            item = collections.get(name, {})
            if item.get("collection_type") == "CHAINED":
                pending.extend(str(c) for c in _as_list(item.get("children")))
            else:
                leaves.add(name)
        reachable = {i for i, run in run_of.items() if run in leaves}
        for name in leaves:
            reachable |= associated.get(name, set())
        how = (f"datasets the export makes reachable from {calib_collection} "
               f"(through {', '.join(sorted(leaves))})")
    else:
        reachable = set(dataset_type_of)
        how = f"every dataset of the export ({calib_collection} is not defined in it)"
    counts = {t: 0 for t in sorted(calib_types)}
    for dataset_id in reachable:
        name = dataset_type_of.get(dataset_id)
        if name in counts:
            counts[name] += 1
    return counts, how


def read_table_column(path: str, column_name: str, what: str) -> list[int]:
    """Read one integer column of an ECSV table the toolkit wrote, without astropy.

    Parameters
    ----------
    path : `str`
        The table (``$STATE_DIR/refcat.ecsv``, ``$STATE_DIR/truth-summary.ecsv``).
    column_name : `str`
        ``htm7``, ``tract``.
    what : `str`
        What the table is, for messages.

    Returns
    -------
    values : `list` [`int`]
        One per row.
    """
    delimiter = " "
    rows: list[list[str]] = []
    with open(path, encoding="utf-8") as stream:
        lines = []
        for line in stream:
            if line.startswith("#"):
                match = re.match(r"^#\s*delimiter:\s*['\"]?(.)['\"]?\s*$", line)
                if match:
                    delimiter = match.group(1)
                continue
            if line.strip():
                lines.append(line)
    rows = list(csv.reader(lines, delimiter=delimiter, quotechar='"', skipinitialspace=True))
    if not rows:
        raise Mismatch(f"the {what} {path} has no header line")
    header = [h.strip() for h in rows[0]]
    if column_name not in header:
        raise Mismatch(f"the {what} {path} has no {column_name} column (columns: {header})")
    column = header.index(column_name)
    return [int(row[column]) for row in rows[1:] if row]


def read_refcat_table(path: str) -> list[int]:
    """Read the htm7 column of the refcat table (ECSV) without astropy.

    Parameters
    ----------
    path : `str`
        ``$STATE_DIR/refcat.ecsv`` (columns ``filename`` and ``htm7``).

    Returns
    -------
    htm7 : `list` [`int`]
        One id per row.
    """
    return read_table_column(path, "htm7", "refcat table")


def refcat_listing(directory: str) -> dict[int, str]:
    """List the refcat directory by name: every ``<htm7>.fits`` entry, whatever it is.

    A dangling link or a directory of that name is listed too (with what is wrong with
    it), so that a file the refcat table skipped shows as missing from the registry.

    Parameters
    ----------
    directory : `str`
        ``DP02_REFCATS/cal_ref_cat``.

    Returns
    -------
    entries : `dict` [`int`, `str`]
        htm7 id to ``""`` for a sound file, or why it is not one.
    """
    import input_files

    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise Mismatch(f"cannot list {directory}: {exc.strerror}") from None
    found: dict[int, str] = {}
    for name in names:
        match = REFCAT_NAME_RE.match(name)
        if match and HTM7_MIN <= int(match.group(1)) < HTM7_MAX:
            problem, _size = input_files.stat_problem(os.path.join(directory, name), fits=True)
            found[int(match.group(1))] = problem or ""
    return found


def truth_listing(directory: str) -> dict[int, str]:
    """List ``truth_parquet/truth_patchint_tract<N>.parq`` by name (tract to problem or "")."""
    import input_files

    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise Mismatch(f"cannot list {directory}: {exc.strerror}") from None
    found: dict[int, str] = {}
    for name in names:
        match = TRUTH_NAME_RE.match(name)
        if match:
            problem, _size = input_files.stat_problem(os.path.join(directory, name), fits=False)
            found[int(match.group(1))] = problem or ""
    return found


def expected_raws(raw: str, years: list[str]) -> tuple[list[int], int, int, int, list[str]]:
    """Count visit directories, the raw files their index files list and their listing.

    Parameters
    ----------
    raw : `str`
        ``DP02_RAW``.
    years : `list` [`str`]
        ``RAW_YEARS``.

    Returns
    -------
    visits : `list` [`int`]
        Visit ids (the 8-digit directory names).
    raws : `int`
        Files listed in the ``_index.json`` files (or ``lsst_a_*.fits`` files of
        visit directories without one).
    without_index : `int`
        Visit directories counted from their files.
    listed_files : `int`
        ``lsst_a_*.fits`` entries of the visit directories (the directory listing).
    differ : `list` [`str`]
        Visit directories whose listing differs from their index, with how.
    """
    visits: list[int] = []
    raws = 0
    without_index = 0
    listed_files = 0
    differ: list[str] = []
    for year in years:
        year_dir = os.path.join(raw, year)
        if not os.path.isdir(year_dir):
            raise Mismatch(f"the year directory {year_dir} of RAW_YEARS does not exist")
        with os.scandir(year_dir) as it:
            entries = sorted((e.name, e.path) for e in it if e.is_dir())
        for name, path in entries:
            if not VISIT_DIR_RE.match(name):
                continue
            visits.append(int(name))
            with os.scandir(path) as files:
                present = {f.name for f in files if RAW_FILE_RE.match(f.name)}
            listed_files += len(present)
            index = os.path.join(path, "_index.json")
            try:
                with open(index, encoding="utf-8") as stream:
                    content = json.load(stream)
            except FileNotFoundError:
                without_index += 1
                raws += len(present)
                continue
            indexed = {key for key in content if key not in INDEX_SPECIAL_KEYS}
            raws += len(indexed)
            if indexed != present:
                how = []
                if present - indexed:
                    how.append(f"not in its index: {listed(sorted(present - indexed), 3)}")
                if indexed - present:
                    how.append(f"in its index but absent: {listed(sorted(indexed - present), 3)}")
                differ.append(f"{year}/{name} ({'; '.join(how)})")
    return visits, raws, without_index, listed_files, differ


def skymap_name(path: str) -> str:
    """Return the sky map name set by ``config.name = "..."`` in a config override file."""
    try:
        with open(path, encoding="utf-8") as stream:
            match = SKYMAP_NAME_RE.search(stream.read())
    except OSError as exc:
        raise Mismatch(f"SKYMAP_CONFIG={path} cannot be read: {exc}") from None
    if not match:
        raise Mismatch(f"SKYMAP_CONFIG={path} does not set config.name")
    return match.group(2)


def load_tree(path: str, export_path: str, truth_summary: bool,
              truth_collection: str) -> dict[str, Any]:
    """Read the expected end state (``etc/tree-<profile>.yaml``), resolved.

    Parameters
    ----------
    path : `str`
        The tree file.
    export_path : `str`
        ``DP02_CALIB/export.yaml``, for the ``from-export`` entries.
    truth_summary : `bool`
        Whether the truth summary is part of the build (``TRUTH_SUMMARY``).
    truth_collection : `str`
        ``TRUTH_COLLECTION``, left out of the chains without the truth summary.

    Returns
    -------
    tree : `dict` [`str`, `typing.Any`]
        ``collections``, ``dataset_types`` (lists of dicts, ``children``, ``dimensions``
        and ``storage_class`` filled in), ``physical_filters`` and ``instrument`` (the
        fields the instrument record must have, e.g. ``class_name``; empty when not given).
    """
    import yaml

    try:
        with open(path, encoding="utf-8") as stream:
            doc = yaml.safe_load(stream) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise Mismatch(f"the expected tree {path} cannot be read: {exc}") from None
    export: dict[str, dict[str, Any]] = {}

    def from_export(kind: str, name: str) -> dict[str, Any]:
        if not export:
            try:
                for item in load_export(export_path)["data"]:
                    export[f"{item.get('type')}:{item.get('name')}"] = item
            except (OSError, ValueError) as exc:
                raise Mismatch(f"{export_path} cannot be read: {exc}") from None
        item = export.get(f"{kind}:{name}")
        if item is None:
            raise Mismatch(f"{path} takes {kind} {name} from {export_path}, which has none")
        return item

    def keep(entry: dict[str, Any]) -> bool:
        return truth_summary or entry.get("when") != "truth_summary"

    collections = []
    for entry in doc.get("collections") or []:
        if not keep(entry):
            continue
        entry = dict(entry)
        if entry.get("children") == "from-export":
            entry["children"] = [str(c) for c in _as_list(
                from_export("collection", entry["name"]).get("children"))]
        if "children" in entry and not truth_summary:
            entry["children"] = [c for c in entry["children"] if c != truth_collection]
        collections.append(entry)
    dataset_types = []
    for entry in doc.get("dataset_types") or []:
        if not keep(entry):
            continue
        entry = dict(entry)
        if entry.get("from") == "export":
            item = from_export("dataset_type", entry["name"])
            entry["dimensions"] = [str(d) for d in item.get("dimensions") or []]
            entry["storage_class"] = str(item.get("storage_class"))
        dataset_types.append(entry)
    instrument = {str(k): v for k, v in (doc.get("instrument") or {}).items()}
    return {"collections": collections, "dataset_types": dataset_types,
            "physical_filters": [str(f) for f in doc.get("physical_filters") or []],
            "instrument": instrument}


def _names(items: Any) -> set[str]:
    """Names of dimensions (daf_butler 23 gives Dimension objects, later releases str)."""
    return {str(getattr(d, "name", d)) for d in items}


def _glob(pattern: Any) -> re.Pattern:
    """Compile a collection pattern of the expected tree (``*`` for any part of a name)."""
    return re.compile("^" + ".*".join(re.escape(p) for p in str(pattern).split("*")) + "$")


def collection_differences(registry: Any, expected: list[dict[str, Any]]) -> list[str]:
    """Compare the collections with the expected tree; return each difference, named."""
    existing: dict[str, str] = {}
    for name in registry.queryCollections():
        existing[str(name)] = registry.getCollectionType(name).name
    differences: list[str] = []
    for entry in expected:
        kind = str(entry["type"])
        if "pattern" in entry:
            pattern = _glob(entry["pattern"])
            if not any(pattern.match(n) and t == kind for n, t in existing.items()):
                differences.append(f"no {kind} collection matches {entry['pattern']}")
            continue
        name = str(entry["name"])
        if name not in existing:
            differences.append(f"collection {name} missing")
            continue
        if existing[name] != kind:
            differences.append(f"collection {name} is {existing[name]}, expected {kind}")
            continue
        if "children" in entry:
            want = [str(c) for c in entry["children"]]
            found = [str(c) for c in registry.getCollectionChain(name)]
            for child in want:
                if child not in found:
                    differences.append(f"collection {child} missing from chain {name}")
            for child in found:
                if child not in want:
                    differences.append(f"collection {child} in chain {name}, not expected")
            if sorted(want) == sorted(found) and want != found:
                differences.append(f"chain {name} has its children in another order: "
                                   f"{' '.join(found)}, expected {' '.join(want)}")
    names = {str(e["name"]) for e in expected if "name" in e}
    patterns = [_glob(e["pattern"]) for e in expected if "pattern" in e]
    for name in sorted(existing):
        if name not in names and not any(p.match(name) for p in patterns):
            differences.append(f"collection {name} ({existing[name]}) not expected")
    return differences


def dataset_type_differences(registry: Any, expected: list[dict[str, Any]]) -> list[str]:
    """Compare the dataset types with the expected ones; return each difference, named."""
    found = {dt.name: dt for dt in registry.queryDatasetTypes()}
    differences: list[str] = []
    for entry in expected:
        name = str(entry["name"])
        dt = found.get(name)
        if dt is None:
            differences.append(f"dataset type {name} missing")
            continue
        want = {str(d) for d in entry.get("dimensions") or []}
        required, every = _names(dt.dimensions.required), _names(dt.dimensions.names)
        if want not in (required, every):
            differences.append(f"dataset type {name} has dimensions {' '.join(sorted(required))}"
                               f", expected {' '.join(sorted(want))}")
        storage = getattr(dt, "storageClass_name", None) or dt.storageClass.name
        if "storage_class" in entry and storage != entry["storage_class"]:
            differences.append(f"dataset type {name} has storage class {storage}, expected "
                               f"{entry['storage_class']}")
    listed = {str(e["name"]) for e in expected}
    differences += [f"dataset type {name} not expected" for name in sorted(found)
                    if name not in listed]
    return differences


# ---------------------------------------------------------------------------
# Registry queries
# ---------------------------------------------------------------------------


def collection_type_name(registry: Any, name: str) -> str | None:
    """Return the collection's type name (``RUN``, ``CHAINED``...), or `None` if it is missing."""
    try:
        return registry.getCollectionType(name).name
    except Exception as exc:  # MissingCollectionError (v30), KeyError/LookupError (v23)
        if isinstance(exc, (KeyError, LookupError)) or "Missing" in type(exc).__name__:
            return None
        raise


def dataset_refs(registry: Any, dataset_type: str, collections: Any,
                 **where: Any) -> list[Any]:
    """Return the refs of a dataset type in collections; none when the type is not registered."""
    names = {dt.name for dt in registry.queryDatasetTypes()}
    if dataset_type not in names:
        return []
    return list(registry.queryDatasets(dataset_type, collections=collections, **where))


def flatten_chain(registry: Any, collection: str) -> list[str]:
    """Return the non-CHAINED collections a collection reaches, in search order.

    daf_butler 23 skips the CALIBRATION collections reached through a CHAINED one
    unless they are named, so calibration queries name every leaf.
    """
    from lsst.daf.butler import CollectionType

    if registry.getCollectionType(collection) != CollectionType.CHAINED:
        return [collection]
    leaves: list[str] = []
    for child in registry.getCollectionChain(collection):
        for leaf in flatten_chain(registry, str(child)):
            if leaf not in leaves:
                leaves.append(leaf)
    return leaves


def instrument_differences(registry: Any, name: str, expected: dict[str, Any]) -> list[str]:
    """Name each field of the instrument record that differs from the expected tree.

    Parameters
    ----------
    registry : `lsst.daf.butler.Registry`
        The repository's registry.
    name : `str`
        ``INSTRUMENT``.
    expected : `dict` [`str`, `typing.Any`]
        The ``instrument`` fields of the expected tree (``class_name``, ``detector_max``).

    Returns
    -------
    differences : `list` [`str`]
        E.g. ``instrument LSSTCam-imSim class_name is X, expected Y``; empty when equal.
    """
    records = [r for r in registry.queryDimensionRecords("instrument") if r.name == name]
    if not records:
        return [f"instrument {name} missing"]
    record = records[0]
    differences = []
    for field, want in expected.items():
        got = getattr(record, field, None)
        if str(got) != str(want):
            differences.append(f"instrument {name} {field} is {got}, expected {want}")
    return differences


def record_values(registry: Any, element: str, field: str, **where: Any) -> list[Any]:
    """Return one field of every dimension record of an element."""
    return [getattr(r, field) for r in registry.queryDimensionRecords(element, **where)]


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------


class Verifier:
    """Runs the checks and collects rows ``{check, expected, found, ok, detail}``.

    Parameters
    ----------
    args : `argparse.Namespace`
        The parsed command line.
    registry : `typing.Any`
        The repository's registry.
    """

    def __init__(self, args: argparse.Namespace, registry: Any) -> None:
        self.args = args
        self.registry = registry
        self.rows: list[dict[str, Any]] = []
        self.exposures_found: int | None = None

    def add(self, check: str, expected: Any, found: Any, ok: bool, detail: str = "") -> None:
        """Record one comparison."""
        self.rows.append({"check": check, "expected": expected, "found": found, "ok": bool(ok),
                          "detail": detail})

    def run(self, check: str, func: Callable[[], None]) -> None:
        """Run one check; a failure to evaluate it is a mismatch naming the reason."""
        try:
            func()
        except Mismatch as exc:
            self.add(check, "-", "-", False, str(exc))
        except Exception as exc:  # a failed query must not hide the other checks
            self.add(check, "-", "-", False, f"{type(exc).__name__}: {exc}")

    def check_instrument(self) -> None:
        names = record_values(self.registry, "instrument", "name")
        ok = self.args.instrument in names
        self.add("instrument", self.args.instrument,
                 self.args.instrument if ok else "missing", ok,
                 "" if ok else f"registered instruments: {listed(sorted(names)) or 'none'}; "
                 "run 'make register-instrument'")

    def check_calibs(self) -> None:
        export = os.path.join(self.args.calib, "export.yaml")
        try:
            counts, how = expected_calibs(export, self.args.calib_collection)
        except OSError as exc:
            raise Mismatch(f"cannot read {export}: {exc}") from None
        if not counts:
            raise Mismatch(f"{export} defines no calibration dataset type")
        for dataset_type, expected in counts.items():
            def one(dataset_type: str = dataset_type, expected: int = expected) -> None:
                refs = dataset_refs(self.registry, dataset_type,
                                    flatten_chain(self.registry, self.args.calib_collection))
                found = len({str(ref.id) for ref in refs})
                self.add(f"calib:{dataset_type}", expected, found, found == expected,
                         f"in {self.args.calib_collection}; expected = {how}")
            self.run(f"calib:{dataset_type}", one)

    def check_curated(self) -> None:
        kind = collection_type_name(self.registry, self.args.curated_collection)
        self.add("curated-collection", self.args.curated_collection,
                 f"{self.args.curated_collection} ({kind})" if kind else "missing",
                 kind is not None, "" if kind else "run 'make curated-calibs'")

    def check_skymap(self) -> None:
        name = skymap_name(self.args.skymap_config)
        names = record_values(self.registry, "skymap", "name")
        ok = name in names
        self.add("skymap", name, name if ok else "missing", ok,
                 "" if ok else f"registered sky maps: {listed(sorted(names)) or 'none'}; "
                 "run 'make register-skymap'")

    def check_refcats(self) -> None:
        table = self.args.refcat_table
        if not os.path.isfile(table):
            raise Mismatch(f"the refcat table {table} does not exist; run 'make refcat-table'")
        wanted = read_refcat_table(table)
        if collection_type_name(self.registry, self.args.refcat_collection) is None:
            self.add("refcats", len(wanted), 0, False,
                     f"collection {self.args.refcat_collection} missing; run 'make refcats'")
            return
        refs = dataset_refs(self.registry, self.args.refcat_dataset_type,
                            self.args.refcat_collection)
        have = [int(ref.dataId["htm7"]) for ref in refs]
        missing = sorted(set(wanted) - set(have))
        extra = sorted(set(have) - set(wanted))
        ok = len(have) == len(wanted) and not missing and not extra
        detail = (f"{self.args.refcat_dataset_type} in {self.args.refcat_collection} "
                  f"vs rows of {table}")
        if missing:
            detail += f"; htm7 missing from the registry: {listed(missing)}"
        if extra:
            detail += f"; htm7 not in the table: {listed(extra)}"
        self.add("refcats", len(wanted), len(have), ok, detail)

    def check_refcat_listing(self) -> None:
        """Refcats in the registry = the ``<htm7>.fits`` entries of the directory."""
        directory = os.path.join(self.args.refcats, "cal_ref_cat")
        have: set[int] = set()
        if collection_type_name(self.registry, self.args.refcat_collection) is not None:
            have = {int(ref.dataId["htm7"]) for ref in dataset_refs(
                self.registry, self.args.refcat_dataset_type, self.args.refcat_collection)}
        self.compare_listing("refcats:listing", "htm7", refcat_listing(directory), have,
                             f"<htm7>.fits entries of {directory} vs "
                             f"{self.args.refcat_dataset_type} in {self.args.refcat_collection}")

    def compare_listing(self, check: str, key: str, listing: dict[int, str], have: set[int],
                        what: str) -> None:
        """Compare the ids a directory listing implies with those in the registry.

        Parameters
        ----------
        check : `str`
            The row's name.
        key : `str`
            What the ids are (``htm7``, ``tract``).
        listing : `dict` [`int`, `str`]
            Id to ``""`` or what is wrong with its file (from the listing).
        have : `set` [`int`]
            The ids in the registry.
        what : `str`
            What is compared, for the detail.
        """
        missing = sorted(set(listing) - have)
        extra = sorted(have - set(listing))
        detail = what
        if missing:
            shown = [f"{i} ({listing[i]})" if listing[i] else str(i) for i in missing]
            detail += (f"; {key} in the directory but not in the registry: {listed(shown)}: "
                       "a file the table skipped, or one added since")
        if extra:
            detail += f"; {key} in the registry without a file in the directory: {listed(extra)}"
        self.add(check, len(listing), len(have), not missing and not extra, detail)

    def check_raws(self) -> None:
        years = self.args.raw_years.split()
        visits, raws, without_index, listed_files, differ = expected_raws(self.args.raw, years)
        instrument = self.args.instrument
        exposure_ids = record_values(self.registry, "exposure", "id", instrument=instrument)
        self.exposures_found = len(exposure_ids)
        missing = sorted(set(visits) - set(exposure_ids))
        detail = f"visit directories of {' '.join(years)} vs exposure records of {instrument}"
        if missing:
            detail += f"; no exposure with the id of directory: {listed(missing)}"
        self.add("exposures", len(visits), len(exposure_ids), len(visits) == len(exposure_ids),
                 detail)

        def raws_check() -> None:
            if collection_type_name(self.registry, self.args.raw_collection) is None:
                self.add("raws", raws, 0, False,
                         f"collection {self.args.raw_collection} missing; run 'make raws'")
                return
            found = count_datasets(self.registry, "raw", self.args.raw_collection,
                                   instrument=instrument)
            note = f"raw in {self.args.raw_collection} vs files listed in _index.json files"
            if without_index:
                note += f" ({without_index} visit directories without index: their files)"
            self.add("raws", raws, found, raws == found, note)
            note = (f"lsst_a_*.fits files in the visit directories vs raw in "
                    f"{self.args.raw_collection}")
            if differ:
                note += (f"; visit directories whose files differ from their _index.json: "
                         f"{listed(differ, 10)}")
            self.add("raws:listing", listed_files, found, listed_files == found and not differ,
                     note)

        self.run("raws", raws_check)

    def check_truth(self) -> None:
        """truth_summary datasets = rows of the truth table = files of truth_parquet/."""
        collection = self.args.truth_collection
        dataset_type = self.args.truth_dataset_type
        if collection_type_name(self.registry, collection) is None:
            have: set[int] = set()
        else:
            have = {int(ref.dataId["tract"])
                    for ref in dataset_refs(self.registry, dataset_type, collection)}
        table = self.args.truth_table
        if not os.path.isfile(table):
            raise Mismatch(f"the truth table {table} does not exist; run 'make truth-summary'")
        wanted = read_table_column(table, "tract", "truth table")
        missing = sorted(set(wanted) - have)
        extra = sorted(have - set(wanted))
        detail = f"{dataset_type} in {collection} vs rows of {table}"
        if missing:
            detail += f"; tracts missing from the registry: {listed(missing)}"
        if extra:
            detail += f"; tracts not in the table: {listed(extra)}"
        self.add("truth-summary", len(wanted), len(have),
                 len(wanted) == len(have) and not missing and not extra, detail)
        directory = os.path.join(self.args.truth_dir, "truth_parquet")
        self.run("truth-summary:listing", lambda: self.compare_listing(
            "truth-summary:listing", "tract", truth_listing(directory), have,
            f"truth_patchint_tract<N>.parq files of {directory} vs {dataset_type} in "
            f"{collection}"))

    def check_visits(self) -> None:
        instrument = self.args.instrument
        if self.exposures_found is None:
            self.exposures_found = len(record_values(self.registry, "exposure", "id",
                                                     instrument=instrument))
        visits = len(record_values(self.registry, "visit", "id", instrument=instrument))
        self.add("visits", self.exposures_found, visits, visits == self.exposures_found,
                 "visit records = exposure records (one exposure per visit)"
                 + ("" if visits == self.exposures_found else "; run 'make visits'"))

    def check_chain(self) -> None:
        chain = self.args.defaults_chain
        wanted = self.args.defaults_chain_children.split()
        kind = collection_type_name(self.registry, chain)
        if kind is None:
            self.add("defaults-chain", " ".join(wanted), "missing", False,
                     f"collection {chain} missing; run 'make chain'")
            return
        if kind != "CHAINED":
            self.add("defaults-chain", " ".join(wanted), f"({kind})", False,
                     f"{chain} is a {kind} collection, not CHAINED")
            return
        children = [str(c) for c in self.registry.getCollectionChain(chain)]
        ok = children == wanted
        detail = f"children of {chain}, in order"
        if not ok:
            gone = [c for c in wanted if c not in children]
            more = [c for c in children if c not in wanted]
            if gone:
                detail += f"; missing: {' '.join(gone)}"
            if more:
                detail += f"; unexpected: {' '.join(more)}"
            if not gone and not more:
                detail += "; same children in another order"
            detail += "; 'make reset STEP=chain && make chain' redefines it"
        self.add("defaults-chain", " ".join(wanted), " ".join(children) or "(empty)", ok, detail)

    def check_tree(self) -> None:
        tree = load_tree(self.args.tree, os.path.join(self.args.calib, "export.yaml"),
                         self.args.truth_summary == "yes", self.args.truth_collection)
        source = os.path.basename(self.args.tree)

        def add(check: str, what: str, count: int, differences: list[str]) -> None:
            self.add(check, f"{count} {what} as in {source}",
                     "; ".join(differences) if differences else f"{count} {what} as in {source}",
                     not differences, "; ".join(differences))

        self.run("tree:collections", lambda: add(
            "tree:collections", "collections", len(tree["collections"]),
            collection_differences(self.registry, tree["collections"])))
        self.run("tree:dataset-types", lambda: add(
            "tree:dataset-types", "dataset types", len(tree["dataset_types"]),
            dataset_type_differences(self.registry, tree["dataset_types"])))

        def filters() -> None:
            names = set(record_values(self.registry, "physical_filter", "name",
                                      instrument=self.args.instrument))
            add("tree:physical-filters", "physical filters", len(tree["physical_filters"]),
                [f"physical filter {f} missing" for f in tree["physical_filters"]
                 if f not in names])

        self.run("tree:physical-filters", filters)
        if tree["instrument"]:
            self.run("tree:instrument", lambda: add(
                "tree:instrument", "instrument record fields", len(tree["instrument"]),
                instrument_differences(self.registry, self.args.instrument,
                                       tree["instrument"])))

    def run_all(self) -> None:
        """Run every check in order."""
        self.run("instrument", self.check_instrument)
        self.run("calib", self.check_calibs)
        self.run("curated-collection", self.check_curated)
        self.run("skymap", self.check_skymap)
        self.run("refcats", self.check_refcats)
        if self.args.refcats:
            self.run("refcats:listing", self.check_refcat_listing)
        self.run("exposures", self.check_raws)
        self.run("visits", self.check_visits)
        if self.args.truth_summary == "yes" and self.args.truth_dir and self.args.truth_table:
            self.run("truth-summary", self.check_truth)
        self.run("defaults-chain", self.check_chain)
        if self.args.tree:
            self.run("tree", self.check_tree)


def count_datasets(registry: Any, dataset_type: str, collection: str, **where: Any) -> int:
    """Count datasets with the query's own count when it has one (millions of raws)."""
    names = {dt.name for dt in registry.queryDatasetTypes()}
    if dataset_type not in names:
        return 0
    results = registry.queryDatasets(dataset_type, collections=collection, **where)
    counter = getattr(results, "count", None)
    if counter is not None:
        try:
            return int(counter(exact=True))
        except TypeError:
            pass
    return sum(1 for _ in results)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def _cell(value: Any, width: int = 48) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(rows: list[dict[str, Any]]) -> str:
    """Format the rows as a table (check, expected, found, ok), then every mismatch in full."""
    cells = [(r["check"], _cell(r["expected"]), _cell(r["found"]), "ok" if r["ok"] else "MISMATCH")
             for r in rows]
    header = ("check", "expected", "found", "ok")
    widths = [max([len(header[i])] + [len(c[i]) for c in cells]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)).rstrip() for cell in cells]
    bad = [r for r in rows if not r["ok"]]
    lines.append(f"verify: {len(rows) - len(bad)} of {len(rows)} checks match")
    for r in bad:
        lines.append(f"mismatch: {r['check']}: expected {r['expected']}, found {r['found']}"
                     + (f" ({r['detail']})" if r["detail"] else ""))
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="verify_repo.py", description="Compare a built DP0.2 repository with its inputs.")
    parser.add_argument("--repo", required=True, help="REPO")
    parser.add_argument("--instrument", required=True, help="INSTRUMENT")
    parser.add_argument("--calib", required=True, help="DP02_CALIB (holds export.yaml)")
    parser.add_argument("--calib-collection", required=True, help="CALIB_COLLECTION")
    parser.add_argument("--curated-collection", required=True, help="CURATED_COLLECTION")
    parser.add_argument("--skymap-config", required=True, help="SKYMAP_CONFIG")
    parser.add_argument("--refcat-collection", required=True, help="REFCAT_COLLECTION")
    parser.add_argument("--refcat-dataset-type", required=True, help="REFCAT_DATASET_TYPE")
    parser.add_argument("--refcat-table", required=True, help="$STATE_DIR/refcat.ecsv")
    parser.add_argument("--refcats", default="",
                        help="DP02_REFCATS: its listing is compared too (empty: not)")
    parser.add_argument("--raw", required=True, help="DP02_RAW")
    parser.add_argument("--raw-years", required=True, help="RAW_YEARS (space separated)")
    parser.add_argument("--raw-collection", required=True, help="RAW_COLLECTION")
    parser.add_argument("--defaults-chain", required=True, help="DEFAULTS_CHAIN")
    parser.add_argument("--defaults-chain-children", required=True,
                        help="DEFAULTS_CHAIN_CHILDREN (space separated, in order)")
    parser.add_argument("--tree", default="",
                        help="the expected end state (etc/tree-<profile>.yaml); none: not checked")
    parser.add_argument("--truth-summary", choices=("yes", "no"), default="yes",
                        help="TRUTH_SUMMARY")
    parser.add_argument("--truth-collection", default="2.2i/truth_summary",
                        help="TRUTH_COLLECTION")
    parser.add_argument("--truth-dataset-type", default="truth_summary",
                        help="TRUTH_DATASET_TYPE")
    parser.add_argument("--truth-dir", default="",
                        help="DP02_TRUTH_SUMMARY (empty: the truth summary is not compared)")
    parser.add_argument("--truth-table", default="",
                        help="$STATE_DIR/truth-summary.ecsv (empty: not compared)")
    parser.add_argument("--report", required=True, help="JSON report to write")
    parser.add_argument("--table", default="", help="also write the table to this file")
    parser.add_argument("--quiet", action="store_true",
                        help="print a one-line summary instead of the table")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the checks, write the report and the table.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0 when everything matches, 1 on any mismatch, 2 for bad arguments.
    """
    args = build_parser().parse_args(argv)
    if not os.path.isfile(os.path.join(args.repo, "butler.yaml")):
        print(f"verify_repo.py: error: {args.repo} is not a butler repository (no butler.yaml).",
              file=sys.stderr)
        return 2
    t0 = time.time()
    from lsst.daf.butler import Butler

    butler = Butler(args.repo, writeable=False)
    verifier = Verifier(args, butler.registry)
    verifier.run_all()
    rows = verifier.rows
    mismatches = [r["check"] for r in rows if not r["ok"]]
    doc = {
        "report": "verify",
        "version": REPORT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": round(time.time() - t0, 3),
        "repo": args.repo,
        "ok": not mismatches,
        "mismatches": mismatches,
        "checks": rows,
    }
    write_text(args.report, json.dumps(doc, indent=2) + "\n")
    table = format_table(rows)
    if args.table:
        write_text(args.table, table)
    if args.quiet:
        print(f"verify: {len(rows) - len(mismatches)} of {len(rows)} checks match"
              + (f"; mismatches: {', '.join(mismatches)}" if mismatches else "")
              + f"; table {args.table or '(not written)'}, report {args.report}")
    else:
        sys.stdout.write(table)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
