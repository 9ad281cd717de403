"""Validate every setting before the first step (``check-inputs``, also in a dry run).

A typo must not run for hours before the step that uses the setting stops on it, so
``bin/check-inputs`` runs this first, on the settings as resolved by ``bin/lib/dp02.sh``
(exported into the environment): type, range and allowed values of each setting, the
transfer mode against the runtime's daf_butler, passwords in URLs (`url_credentials`),
and the keys of the settings file that are no setting (a warning naming the closest one).

Usage::

    python py/check_settings.py [--env-file PATH --env-file-keys "K1 K2 ..."] NAME...

``NAME...`` are the settings the toolkit knows (``DP02_SETTINGS``); their values come
from the environment. Prints one paragraph per problem (``error: ...``, ``warning: ...``)
on stderr; exit status 2 when a setting is invalid, 0 otherwise (warnings included).
Nothing is written.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from typing import Callable, Mapping, Sequence

import url_credentials

KNOWN_TRANSFER_MODES = ("auto", "link", "symlink", "hardlink", "copy", "move", "relsymlink",
                        "direct")
"""The ``--transfer`` choices of daf_butler 23.0 and 30 (``lsst.daf.butler.cli.opt``'s
``transfer_option``, used by ``ingest-files`` and obs_base's ``ingest-raws``): the same
eight in both."""

KNOWN_TRANSFER_RELEASES = ("23.0.", "30.")
"""daf_butler versions whose transfer modes were read from their source (the list above);
for any other version the runtime's daf_butler is asked."""

REFUSED_TRANSFER_MODES = {"move": "it moves the input files into the repository, and the "
                                  "toolkit never changes the inputs"}

NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
DOTTED = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\Z")
WORD = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z")
SLURM_TIME = re.compile(r"\A(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}"
                        r"|\d+-\d+:\d{1,2}:\d{1,2}|infinite|unlimited|UNLIMITED)\Z")
SLURM_MEM = re.compile(r"\A\d+[KMGT]?\Z")
COLLECTION_FORBIDDEN = set(" \t,*?[]")
MAX_MINI_YEARS = 9
"""make_mini_inputs.py's MAX_YEARS (the years its calibrations' validity ranges cover)."""

Check = Callable[[str, str, Mapping[str, str]], "str | None"]


# ---------------------------------------------------------------------------
# One check per kind of setting: (name, value, all settings) -> problem or None
# ---------------------------------------------------------------------------


def whole(minimum: int, maximum: int | None = None, empty: bool = False) -> Check:
    """A whole number in [minimum, maximum] (or empty when allowed)."""
    def check(name: str, value: str, _all: Mapping[str, str]) -> str | None:
        if empty and value == "":
            return None
        if not re.fullmatch(r"[0-9]+", value):
            what = "empty or a whole number" if empty else "a whole number"
            span = (f" from {minimum} to {maximum}" if maximum is not None else
                    f" from {minimum} up" if minimum else "")
            return f"{name}={value} is not a whole number. Set {name} to {what}{span}."
        number = int(value)
        if number < minimum or (maximum is not None and number > maximum):
            span = f"{minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            return f"{name}={value} is out of range: set {name} to {span}."
        return None
    return check


def positive(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """A positive whole number (JOBS and the like)."""
    if re.fullmatch(r"[1-9][0-9]*", value):
        return None
    return f"{name}={value} is not a positive whole number. Set {name} to 1 or more."


def one_of(*allowed: str, hint: str = "") -> Check:
    """One of the allowed values."""
    def check(name: str, value: str, _all: Mapping[str, str]) -> str | None:
        if value in allowed:
            return None
        shown = ", ".join(repr(a) if a == "" else a for a in allowed)
        return f"{name}={value} is not one of {shown}.{f' {hint}' if hint else ''}"
    return check


def matching(pattern: re.Pattern, what: str, empty: bool = False) -> Check:
    """A value of a pattern (``what`` says which in the message)."""
    def check(name: str, value: str, _all: Mapping[str, str]) -> str | None:
        if empty and value == "":
            return None
        if not value:
            return f"{name} is empty: set it to {what} (see .env.example for its default)."
        if not pattern.match(value):
            return f"{name}={value} is not {what}."
        return None
    return check


def collection(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """A collection name: not empty, no blank, comma or glob character."""
    if not value:
        return f"{name} is empty: set it to a collection name (see .env.example for its default)."
    bad = sorted(set(value) & COLLECTION_FORBIDDEN)
    if bad:
        return (f"{name}={value} is not a collection name the toolkit can pass on: it holds "
                f"{' '.join(repr(c) for c in bad)} (blanks separate the children of "
                "DEFAULTS_CHAIN, commas and * ? [ ] are collection patterns for butler).")
    return None


SKYMAP_RUN = "skymaps"
"""Where register-skymap puts the sky map: pipe_tasks' registerSkymap writes into
BaseSkyMap.SKYMAP_RUN_COLLECTION_NAME, with no command-line option for it at 23 or now."""


def skymap_collection(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """The sky map's collection: the one register-skymap writes, which no option changes."""
    if value != SKYMAP_RUN:
        return (f"{name}={value}: register-skymap always writes the sky map into "
                f"'{SKYMAP_RUN}' (pipe_tasks has no option for it, at 23 or now), so chain and "
                f"verify would look for it in a collection that does not exist. Remove {name} "
                f"from the settings (its default is {SKYMAP_RUN}).")
    return None


def chain_children(name: str, value: str, settings: Mapping[str, str]) -> str | None:
    """The children of DEFAULTS_CHAIN: collection names, no duplicates, not the chain."""
    children = value.split()
    if not children:
        return f"{name} is empty: list the children of DEFAULTS_CHAIN, in search order."
    for child in children:
        problem = collection(name, child, settings)
        if problem:
            return problem
    repeated = sorted({c for c in children if children.count(c) > 1})
    if repeated:
        return f"{name} names {' '.join(repeated)} more than once: name each child once."
    chain = settings.get("DEFAULTS_CHAIN", "")
    if chain in children:
        return (f"{name} names the chain itself (DEFAULTS_CHAIN={chain}): a chain cannot "
                "hold itself.")
    return None


def raw_years(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """RAW_YEARS: one or more directory names of DP02_RAW, no path, no duplicates."""
    years = value.split()
    if not years:
        return (f"{name} is empty: set it to the year directories of DP02_RAW to ingest "
                "(y1-wfd .. y5-wfd for DP0.2).")
    bad = [y for y in years if not WORD.match(y) or y in (".", "..")]
    if bad:
        return (f"{name} holds {' '.join(bad)}, which is not the name of a directory of "
                "DP02_RAW: year names hold no '/', are not '.' or '..' and use letters, "
                f"digits, '.', '_' and '-' (e.g. {name}=y1-wfd y2-wfd).")
    repeated = sorted({y for y in years if years.count(y) > 1})
    if repeated:
        return (f"{name} names {' '.join(repeated)} more than once: each year is ingested "
                "once, list it once.")
    return None


def dimensions(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """Dimension names, separated by blanks, no duplicates."""
    words = value.split()
    if not words:
        return f"{name} is empty: set it to the dimensions (see .env.example for its default)."
    bad = [w for w in words if not NAME.match(w)]
    if bad:
        return f"{name}={value}: {' '.join(bad)} is not a dimension name."
    if len(set(words)) != len(words):
        return f"{name}={value} names a dimension twice."
    return None


def dry_run(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """DRY_RUN: empty or 0 to build, anything else is a dry run: refuse words meaning no."""
    if value.strip().lower() in ("no", "false", "off", "n"):
        return (f"{name}={value} would make a dry run: any value but empty or 0 does. Leave "
                f"{name} empty (or 0) to build, set it to 1 for a dry run.")
    return None


def registry_db(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """REGISTRY_DB: empty (SQLite) or postgresql+psycopg2://USER@HOST[:PORT]/DATABASE."""
    if not value:
        return None
    refused = url_credentials.refusal(name, value)
    if refused:
        return refused
    if not value.startswith("postgresql+psycopg2://"):
        return (f"{name}={value} is not a PostgreSQL URL that daf_butler can use. Leave {name} "
                "empty for SQLite, or write postgresql+psycopg2://USER@HOST:PORT/DATABASE "
                "(daf_butler supports only the psycopg2 driver, and SQLAlchemy 2 reads a bare "
                "postgresql:// as psycopg v3).")
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(value)
        parsed.port  # noqa: B018 - a port that is no number raises here
    except Exception as exc:  # noqa: BLE001 - ArgumentError, ValueError
        return (f"{name}={value} is not a valid URL ({exc}). Write "
                "postgresql+psycopg2://USER@HOST:PORT/DATABASE.")
    if not parsed.host or not parsed.database:
        missing = "host" if not parsed.host else "database name"
        return (f"{name}={value} names no {missing}. Write "
                "postgresql+psycopg2://USER@HOST:PORT/DATABASE.")
    return None


def namespace(name: str, value: str, settings: Mapping[str, str]) -> str | None:
    """REGISTRY_NAMESPACE: empty, or a schema name with a PostgreSQL registry."""
    if not value:
        return None
    if not settings.get("REGISTRY_DB"):
        return (f"{name}={value} is set but REGISTRY_DB is empty (SQLite): a namespace is a "
                f"PostgreSQL schema. Unset {name} or set REGISTRY_DB.")
    if not NAME.match(value) or len(value) > 63:
        return (f"{name}={value} is not a PostgreSQL schema name (letters, digits and '_', "
                "not starting with a digit, at most 63 characters).")
    return None


def slurm_only(check: Check) -> Check:
    """Apply a check only with SCHEDULER=slurm (the Slurm settings are unused otherwise)."""
    def wrapped(name: str, value: str, settings: Mapping[str, str]) -> str | None:
        if settings.get("SCHEDULER") != "slurm":
            return None
        return check(name, value, settings)
    return wrapped


def fits_sample(name: str, value: str, _all: Mapping[str, str]) -> str | None:
    """FITS_SAMPLE: a whole number or ``all``."""
    if value.lower() == "all" or re.fullmatch(r"[0-9]+", value):
        return None
    return (f"{name}={value} is neither a whole number nor 'all'. Set it to how many raws "
            "astropy opens besides those whose size stands out (default 200), or 'all'.")


def repo_container(name: str, value: str, all_: Mapping[str, str]) -> str | None:
    """REPO_CONTAINER: yes or no; yes is make on this machine, so not RUNTIME=container."""
    wrong = one_of("yes", "no", hint="yes runs each stack command in the container (README "
                   "'Running on a Slurm cluster').")(name, value, all_)
    if wrong or value == "no" or all_.get("RUNTIME") != "container":
        return wrong
    return (f"{name}=yes and RUNTIME=container contradict each other: RUNTIME=container runs "
            "make itself in the container, REPO_CONTAINER=yes runs make here and each stack "
            "command in the container. Keep one: REPO_CONTAINER=yes with RUNTIME=auto for a "
            "Slurm login node (sbatch is not in the container), or REPO_CONTAINER=no.")


CHECKS: dict[str, Check] = {
    "JOBS": positive,
    "CHUNK_VISITS": slurm_only(positive),
    "SLURM_CPUS": slurm_only(positive),
    "SLURM_TIME": slurm_only(matching(SLURM_TIME, "a Slurm time limit (MINUTES, HH:MM:SS, "
                                      "D-HH, D-HH:MM:SS ...)", empty=True)),
    "SLURM_MEM": slurm_only(matching(SLURM_MEM, "a Slurm memory size (a number, optionally "
                                     "with K, M, G or T)", empty=True)),
    "WAIT": one_of("yes", "no"),
    "SCHEDULER": one_of("local", "slurm"),
    "TRUTH_SUMMARY": one_of("yes", "no", hint="yes ingests DP02_TRUTH_SUMMARY, no builds "
                            "without the truth summary."),
    "RUNTIME": one_of("auto", "host", "container", "lite", hint="See README 'Container'."),
    "REPO_CONTAINER": repo_container,
    "CONTAINER_ENGINE": one_of("", "docker", "podman", "apptainer",
                               hint="Leave it empty for the first one found."),
    "DRY_RUN": dry_run,
    "EXPECTED_VISITS": whole(0, empty=True),
    "EXPECTED_REFCATS": whole(0, empty=True),
    "FITS_SAMPLE": fits_sample,
    "MINI_YEARS": whole(1, MAX_MINI_YEARS),
    "MINI_VISITS": whole(1),
    "MINI_PIXELS": whole(0, 4096),
    "RAW_YEARS": raw_years,
    "INSTRUMENT": matching(WORD, "an instrument name (letters, digits, '.', '_', '-'; "
                           "LSSTCam-imSim for DP0.2)"),
    "INSTRUMENT_CLASS": matching(DOTTED, "a Python class name with its module "
                                 "(lsst.obs.lsst.LsstCamImSim for DP0.2)"),
    "CALIB_COLLECTION": collection,
    "CURATED_COLLECTION": collection,
    "RAW_COLLECTION": collection,
    "SKYMAP_COLLECTION": skymap_collection,
    "REFCAT_COLLECTION": collection,
    "TRUTH_COLLECTION": collection,
    "DEFAULTS_CHAIN": collection,
    "EXPORT_CALIB_COLLECTION": collection,
    "DEFAULTS_CHAIN_CHILDREN": chain_children,
    "REFCAT_DATASET_TYPE": matching(NAME, "a dataset type name (letters, digits and '_')"),
    "TRUTH_DATASET_TYPE": matching(NAME, "a dataset type name (letters, digits and '_')"),
    "REFCAT_STORAGE_CLASS": matching(NAME, "a storage class name (SimpleCatalog for DP0.2)"),
    "TRUTH_STORAGE_CLASS": matching(NAME, "a storage class name (DataFrame for DP0.2)"),
    "REFCAT_DIMENSION": matching(NAME, "a dimension name (htm7 for DP0.2)"),
    "TRUTH_DIMENSIONS": dimensions,
    "REFCAT_FORMATTER": matching(DOTTED, "a formatter class name with its module, or empty",
                                 empty=True),
    "REGISTRY_DB": registry_db,
    "REGISTRY_NAMESPACE": namespace,
}
"""The check of each setting that has one (the others are free text or paths, checked by
the step that uses them)."""


# ---------------------------------------------------------------------------
# TRANSFER, against the runtime's daf_butler
# ---------------------------------------------------------------------------


def daf_butler_version() -> str | None:
    """The installed daf_butler's version from its package metadata (no import), or `None`."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python 3.8 has it
        return None
    try:
        return version("lsst-daf-butler")
    except PackageNotFoundError:  # an EUPS stack: no distribution metadata
        return None


def ask_daf_butler() -> tuple[str, ...] | None:
    """The ``--transfer`` choices of the importable daf_butler (about 1.5 s), or `None`."""
    try:
        from lsst.daf.butler.cli.opt import transfer_option

        return tuple(str(c) for c in transfer_option.partialOpt.keywords["type"].choices)
    except Exception:  # noqa: BLE001 - not importable, or another layout
        return None


def transfer_modes(ask: bool = False) -> tuple[tuple[str, ...] | None, str]:
    """Return the transfer modes the runtime's ``butler`` accepts, and where they come from.

    Parameters
    ----------
    ask : `bool`
        Ask daf_butler even for a release whose modes are known.

    Returns
    -------
    modes : `tuple` [`str`] or `None`
        `None` when daf_butler cannot be asked.
    origin : `str`
    """
    version = daf_butler_version()
    if not ask and version and version.startswith(KNOWN_TRANSFER_RELEASES):
        return KNOWN_TRANSFER_MODES, f"daf_butler {version}"
    modes = ask_daf_butler()
    if modes is None:
        return None, "daf_butler could not be imported"
    return modes, f"daf_butler {version or '(EUPS)'}, asked"


def check_transfer(value: str, modes: Sequence[str] | None, origin: str) -> str | None:
    """TRANSFER: a mode the runtime's butler accepts, and not one that changes the inputs."""
    if not value:
        return "TRANSFER is empty: set it to direct (RTN-029), symlink or copy."
    low = value.lower()
    if low in REFUSED_TRANSFER_MODES:
        return (f"TRANSFER={value} is refused: {REFUSED_TRANSFER_MODES[low]}. Use direct "
                "(RTN-029: the repository points at the files where they are), symlink or copy.")
    if modes is not None and low not in {m.lower() for m in modes}:
        usable = [m for m in modes if m.lower() not in REFUSED_TRANSFER_MODES]
        close = difflib.get_close_matches(low, usable, n=1)
        guess = f"did you mean {close[0]}?" if close else "RTN-029 uses direct."
        return (f"TRANSFER={value} is not a transfer mode of this runtime's butler ({origin}), "
                f"which accepts {', '.join(usable)}: {guess}")
    return None


# ---------------------------------------------------------------------------
# All of them
# ---------------------------------------------------------------------------


def unknown_keys(keys: Sequence[str], known: Sequence[str], env_file: str) -> list[str]:
    """Warn about keys of the settings file that are no setting, naming the closest one.

    Parameters
    ----------
    keys : `list` [`str`]
        The keys of the settings file.
    known : `list` [`str`]
        Every setting.
    env_file : `str`
        The file, for the message.

    Returns
    -------
    warnings : `list` [`str`]
    """
    out = []
    for key in sorted(set(keys) - set(known) - {"ENV_FILE"}):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        guess = f"did you mean {close[0]}? " if close else ""
        out.append(f"{key} in {env_file} is not a setting of the toolkit, so it is ignored: "
                   f"{guess}'bin/config show' lists the settings (.env.example explains them).")
    return out


def validate(settings: Mapping[str, str], known: Sequence[str], env_file: str = "",
             env_file_keys: Sequence[str] = (), ask: bool = False) -> tuple[list[str], list[str]]:
    """Check every setting.

    Parameters
    ----------
    settings : `dict` [`str`, `str`]
        Setting name to resolved value.
    known : `list` [`str`]
        Every setting the toolkit knows.
    env_file : `str`, optional
        The settings file read (for the unknown-key warnings).
    env_file_keys : `list` [`str`], optional
        Its keys.
    ask : `bool`, optional
        Ask daf_butler for its transfer modes whatever its release.

    Returns
    -------
    errors, warnings : `list` [`str`]
        One paragraph each.
    """
    errors: list[str] = []
    for name in known:
        value = settings.get(name, "")
        # The password first: the other messages repeat the value.
        problem = url_credentials.refusal(name, value)
        if problem is None and name in CHECKS:
            problem = CHECKS[name](name, value, settings)
        if problem:
            errors.append(problem)
    if "TRANSFER" in known:
        value = settings.get("TRANSFER", "")
        modes: Sequence[str] | None = None
        origin = ""
        if value and value.lower() not in REFUSED_TRANSFER_MODES:
            modes, origin = transfer_modes(ask)
            if modes is None:
                modes, origin = KNOWN_TRANSFER_MODES, f"{origin}: the modes of daf_butler 23 to 30"
        problem = check_transfer(value, modes, origin)
        if problem:
            errors.append(problem)
    warnings = unknown_keys(env_file_keys, known, env_file) if env_file else []
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring).

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        2 when a setting is invalid, 0 otherwise.
    """
    parser = argparse.ArgumentParser(prog="check_settings.py", description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", default="", help="the settings file read (ENV_FILE)")
    parser.add_argument("--env-file-keys", default="", help="its keys, blank separated")
    parser.add_argument("--prog", default="check-inputs", help="name shown in the messages")
    parser.add_argument("names", nargs="+", help="every setting (values from the environment)")
    args = parser.parse_args(argv)
    settings = {name: os.environ.get(name, "") for name in args.names}
    errors, warnings = validate(settings, args.names, args.env_file, args.env_file_keys.split())
    for text in warnings:
        print(f"{args.prog}: warning: {text}", file=sys.stderr)
    for text in errors:
        print(f"{args.prog}: error: {text}", file=sys.stderr)
    return 2 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
