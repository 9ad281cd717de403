"""The checks and the configuration overlay of ``make export-calibs`` (at the source site).

``butler export-calibs SOURCE_REPO EXPORT_DIR EXPORT_CALIB_COLLECTION`` writes the
calibration export that becomes ``DP02_CALIB`` elsewhere. Three subcommands:

``check``
    Before exporting: ``EXPORT_DIR`` is absent or an empty directory, and the
    collection exists in ``SOURCE_REPO`` (opened read-only) and is CHAINED or
    CALIBRATION (what ``export-calibs`` accepts).
``overlay``
    Writes a butler configuration file that is ``SOURCE_REPO/butler.yaml`` plus
    ``root: SOURCE_REPO`` plus the datastore file templates with ``detector``
    where the defaults use ``detector.full_name``. ``butler export-calibs`` is
    given this file instead of the repository, so the override holds for that
    one command and nothing is edited, neither the repository nor the stack.

    Why: when a dataset's file is outside the source datastore (an absolute
    path, as for calibrations ingested in place), the export names its copy
    with the datastore's file template. ``export-calibs`` at release 23 gives
    the datastore data IDs without dimension records, so the optional field
    ``{detector.full_name:?}`` is left out and the files of every detector of
    a calibration get the same name, each overwriting the last. RTN-029 edited
    the stack's ``fileDatastore.yaml`` for this (DM-32061); a configuration
    given to the butler has precedence over the stack's defaults, so the
    overlay does the same without touching the stack.
``verify``
    After exporting: check-inputs' calibration checks on the export
    (``export.yaml`` parses, its version is one the stack imports, every file
    it names exists).

Exit status: 0 fine, 1 a check failed (one paragraph on stderr), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from atomic_write import write_text

OLD_FIELD = "detector.full_name"
NEW_FIELD = "detector"
EXPORTABLE_TYPES = ("CHAINED", "CALIBRATION")


class CheckError(Exception):
    """A check failed; the message names the input and the fix."""


def check_export_dir(path: str) -> None:
    """Refuse an ``EXPORT_DIR`` that exists and is not an empty directory.

    Parameters
    ----------
    path : `str`
        ``EXPORT_DIR``.

    Raises
    ------
    CheckError
        It is a file, or a directory with entries.
    """
    if not os.path.lexists(path):
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            raise CheckError(f"EXPORT_DIR={path} cannot be created: its parent {parent} is not "
                             "a writable directory. Create it or point EXPORT_DIR elsewhere.")
        return
    if not os.path.isdir(path) or os.path.islink(path):
        raise CheckError(f"EXPORT_DIR={path} exists and is not a directory. Point EXPORT_DIR at "
                         "a new or empty directory.")
    entries = sorted(os.listdir(path))
    if entries:
        shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more"
                                          if len(entries) > 5 else "")
        raise CheckError(f"EXPORT_DIR={path} is not empty ({shown}): export-calibs writes a "
                         "whole new export and never mixes it with other files. Point "
                         "EXPORT_DIR at a new or empty directory, or move that one away.")


def check_collection(repo: str, collection: str) -> str:
    """Check that ``collection`` exists in ``repo`` and can be exported.

    Parameters
    ----------
    repo : `str`
        ``SOURCE_REPO`` (opened read-only).
    collection : `str`
        ``EXPORT_CALIB_COLLECTION``.

    Returns
    -------
    type : `str`
        ``CHAINED`` or ``CALIBRATION``.

    Raises
    ------
    CheckError
        The repository cannot be opened, the collection is missing or of
        another type.
    """
    from lsst.daf.butler import Butler, CollectionType

    if not os.path.exists(os.path.join(repo, "butler.yaml")):
        raise CheckError(f"SOURCE_REPO={repo} is not a butler repository (no butler.yaml). "
                         "Point SOURCE_REPO at the repository holding the calibrations.")
    try:
        butler = Butler(repo, writeable=False)
    except Exception as exc:  # any failure to open: database, configuration
        raise CheckError(f"SOURCE_REPO={repo} cannot be opened read-only: "
                         f"{type(exc).__name__}: {exc}. Check the repository and its "
                         "registry (db-auth file for PostgreSQL).") from None
    registry = butler.registry
    try:
        ctype = registry.getCollectionType(collection)
    except Exception:  # MissingCollectionError, whose module moved between releases
        candidates = sorted(
            str(c) for c in registry.queryCollections(
                collectionTypes={CollectionType.CHAINED, CollectionType.CALIBRATION}))
        shown = ", ".join(candidates[:10]) or "none"
        raise CheckError(f"the collection EXPORT_CALIB_COLLECTION={collection} does not exist in "
                         f"SOURCE_REPO={repo}. CHAINED or CALIBRATION collections there: "
                         f"{shown}. Set EXPORT_CALIB_COLLECTION to one of them.") from None
    if ctype.name not in EXPORTABLE_TYPES:
        raise CheckError(f"the collection EXPORT_CALIB_COLLECTION={collection} of SOURCE_REPO="
                         f"{repo} is a {ctype.name} collection; export-calibs exports CHAINED or "
                         "CALIBRATION collections (the calibration chain, e.g. 2.2i/calib). "
                         "Set EXPORT_CALIB_COLLECTION to that collection.")
    return ctype.name


def template_overrides(templates: dict[str, Any]) -> dict[str, Any]:
    """Return the templates that use ``detector.full_name``, rewritten with ``detector``.

    Parameters
    ----------
    templates : `dict`
        The datastore's ``templates`` section (values: template strings, or
        nested sections keyed by instrument).

    Returns
    -------
    overrides : `dict`
        Only the changed entries (nested the same way).
    """
    out: dict[str, Any] = {}
    for key, value in templates.items():
        if isinstance(value, str) and OLD_FIELD in value:
            out[key] = value.replace(OLD_FIELD, NEW_FIELD)
        elif isinstance(value, dict):
            nested = template_overrides(value)
            if nested:
                out[key] = nested
    return out


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated with ``changes``, nested sections merged."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def write_overlay(repo: str, out: str) -> dict[str, Any]:
    """Write the butler configuration file that ``export-calibs`` is given.

    Parameters
    ----------
    repo : `str`
        ``SOURCE_REPO``.
    out : `str`
        The file to write (YAML).

    Returns
    -------
    overrides : `dict`
        The template entries replaced.

    Raises
    ------
    CheckError
        The datastore is not a single file datastore (the templates of a
        chained datastore are per child), or no template names
        ``detector.full_name``.
    """
    import yaml
    from lsst.daf.butler import ButlerConfig, Config

    repo = os.path.abspath(repo)
    own = Config(os.path.join(repo, "butler.yaml")).toDict()
    full = ButlerConfig(repo)
    if "datastores" in full["datastore"]:
        raise CheckError(f"SOURCE_REPO={repo} has a chained datastore; the template override of "
                         "export-calibs supports a single file datastore. Export by hand with a "
                         "configuration overriding each child's templates.")
    templates = full["datastore"].get("templates")
    templates = templates.toDict() if hasattr(templates, "toDict") else dict(templates or {})
    overrides = template_overrides(templates)
    own.setdefault("root", repo)
    own.setdefault("datastore", {})
    own["datastore"]["templates"] = merged(own["datastore"].get("templates") or {}, overrides)
    header = ("# Written by dp02-repo py/export_calibs.py for one `butler export-calibs` call:\n"
              f"# {repo}/butler.yaml with its root, and the datastore file templates using\n"
              "# {detector} instead of {detector.full_name} (RTN-029, DM-32061).\n")
    write_text(out, header + yaml.safe_dump(own, sort_keys=True))
    return overrides


def verify_export(directory: str) -> tuple[bool, str]:
    """Run check-inputs' calibration checks on an export.

    Parameters
    ----------
    directory : `str`
        The export (``export.yaml`` and its files).

    Returns
    -------
    ok, text : `tuple` [`bool`, `str`]
        Whether every check passed, and one line per check.
    """
    import check_inputs

    report = check_inputs.Report()
    check_inputs.check_calibs(report, directory)
    lines = [f"  {c['check']:<22} {c['status']:<8} {c['summary']}" for c in report.checks]
    return report.count(check_inputs.ERROR) == 0, "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="export_calibs.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    check = sub.add_parser("check", help="EXPORT_DIR empty or absent; the collection exportable")
    check.add_argument("--repo", required=True, help="SOURCE_REPO")
    check.add_argument("--collection", required=True, help="EXPORT_CALIB_COLLECTION")
    check.add_argument("--export-dir", required=True, help="EXPORT_DIR")
    overlay = sub.add_parser("overlay", help="write the butler config with the template override")
    overlay.add_argument("--repo", required=True, help="SOURCE_REPO")
    overlay.add_argument("--out", required=True, help="the YAML file to write")
    verify = sub.add_parser("verify", help="check-inputs' calibration checks on an export")
    verify.add_argument("--export-dir", required=True, help="the export to check")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0 fine, 1 a check failed, 2 bad arguments.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return 2
    try:
        if args.command == "check":
            check_export_dir(args.export_dir)
            ctype = check_collection(args.repo, args.collection)
            print(f"export-calibs: {args.collection} is a {ctype} collection of {args.repo}; "
                  f"{args.export_dir} is free")
        elif args.command == "overlay":
            overrides = write_overlay(args.repo, args.out)
            if not overrides:
                print(f"export-calibs: no datastore template of {args.repo} uses "
                      f"{OLD_FIELD}: nothing to override", file=sys.stderr)
            for key in sorted(overrides):
                print(f"export-calibs: template {key}: {OLD_FIELD} -> {NEW_FIELD}")
        else:
            ok, text = verify_export(args.export_dir)
            print(text)
            if not ok:
                raise CheckError(f"the export in {args.export_dir} fails check-inputs' "
                                 "calibration checks (above), so it would not import.")
    except CheckError as exc:
        print(f"export_calibs.py: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
