"""``butler`` command plugin: stand-ins for LSST stack commands, real parsers.

Stand-in for the LSST stack, for tests only.  The click commands are the
real ones of obs_base and pipe_tasks (their ``cli/`` modules, kept in
``stack-cli/``); only the implementation is replaced.  Before those modules
are imported, stub packages ``lsst.obs``, ``lsst.obs.base``, ``lsst.pipe``
and ``lsst.pipe.tasks`` (whose ``__path__`` points into ``stack-cli``) and
stub ``lsst.obs.base.script`` and ``lsst.pipe.tasks.script`` modules are put
into ``sys.modules``; the stub script functions, with the names and
keyword arguments the real commands call, run the stand-in implementations
(``ingest.py``, ``visits.py``, ``curated.py``, ``skymap.py``).  So a
command line that the real command refuses is refused here too.

- ``stack-cli/v23`` (obs_base and pipe_tasks 23.0.0) is used when the
  installed daf_butler is version 23, ``stack-cli/current`` otherwise.
- ``stack-cli`` is ``$STACK_CLI_DIR``, by default ``<checkout>/../shared/stack-cli``.
- Commands: ``ingest-raws``, ``define-visits``, ``write-curated-calibrations``
  (obs_base) and ``register-skymap`` (pipe_tasks), listed in
  ``resources.yaml``.  ``register-instrument`` belongs to pipe_base from
  release 24 (the real command is used there); at v23 it was obs_base's,
  and pipe_base is not installed in the v23 runtime, so under daf_butler 23
  add ``resources-v23.yaml`` to ``DAF_BUTLER_PLUGINS`` for obs_base 23's
  ``register-instrument`` parser with a stand-in implementation.  (A
  plugin file is static YAML: listing ``register-instrument`` in
  ``resources.yaml`` would clash with pipe_base's command on later
  releases, "Duplicate commands are not supported".)
- ``STANDIN_CLI_DRY_RUN=1``: the stub script functions print one JSON line,
  ``{"function": NAME, "kwargs": {...}}``, and do nothing else; tests use it
  to check how a command line parses.

Enable with ``DAF_BUTLER_PLUGINS=<checkout>/tests/stack_standins/resources.yaml``
and ``PYTHONPATH=<checkout>:<checkout>/py``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

__all__ = [
    "STACK_CLI_ENV",
    "define_visits",
    "ingest_raws",
    "register_skymap",
    "stack_cli_dir",
    "stack_cli_flavour",
    "write_curated_calibrations",
]

STACK_CLI_ENV = "STACK_CLI_DIR"
CHECKOUT = Path(__file__).resolve().parents[2]
_STUB_MARK = "__standin_stub__"


class StackCliMissing(SystemExit):
    """The ``stack-cli`` directory is missing.

    A `SystemExit`, so that ``butler`` prints the one sentence and exits 1
    instead of logging "Could not import plugin" and "No such command".
    """


def stack_cli_dir() -> Path:
    """Return the ``stack-cli`` directory: ``$STACK_CLI_DIR`` or the default."""
    value = os.environ.get(STACK_CLI_ENV, "").strip()
    return Path(value) if value else CHECKOUT.parent / "shared" / "stack-cli"


def daf_butler_major() -> int:
    """Major version of the installed daf_butler (metadata only, no import)."""
    version = importlib.metadata.version("lsst-daf-butler")
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


def stack_cli_flavour() -> str:
    """``v23`` on daf_butler 23, ``current`` otherwise."""
    return "v23" if daf_butler_major() == 23 else "current"


def _flavour_root() -> Path:
    root = stack_cli_dir()
    flavour = stack_cli_flavour()
    top = root / flavour / "lsst"
    if not (top / "obs" / "base" / "cli" / "cmd" / "commands.py").is_file():
        raise StackCliMissing(
            f"The stack stand-ins need the real obs_base/pipe_tasks cli modules in {top.parent} "
            f"(looked for {top / 'obs' / 'base' / 'cli' / 'cmd' / 'commands.py'}): set "
            f"{STACK_CLI_ENV} to the stack-cli directory (the one holding v23/ and current/)."
        )
    return top


# --- the stub script functions ------------------------------------------


class _Unset:
    """Default of the arguments that only later releases pass."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _given(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments that the command passed (drop `UNSET`)."""
    return {k: v for k, v in kwargs.items() if v is not UNSET}


def _dry_run(function: str, kwargs: dict[str, Any]) -> bool:
    """Print the call and return `True` when ``STANDIN_CLI_DRY_RUN`` is set.

    Only the arguments the command passed are printed (not `UNSET` ones).
    """
    if os.environ.get("STANDIN_CLI_DRY_RUN", "") in ("", "0"):
        return False
    given = _given(kwargs)
    print(json.dumps({"function": function, "kwargs": given}, default=str, sort_keys=True))
    return True


def _not_provided(name: str) -> Callable[..., None]:
    def run(*args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"The LSST stack stand-ins do not implement {name}.")

    run.__name__ = name.rsplit(".", 1)[-1]
    return run


def ingestRaws(  # noqa: N802 (the real obs_base name)
    repo: str,
    locations: Sequence[str],
    regex: str,
    output_run: str | None,
    config: dict[str, Any] | None = None,
    config_file: str | None = None,
    transfer: str = "auto",
    processes: int = 1,
    ingest_task: str = "lsst.obs.base.RawIngestTask",
    track_file_attrs: bool = UNSET,
    fail_fast: bool = UNSET,
    update_records: bool = UNSET,
    skip_existing: bool = UNSET,
    search_indexes: bool = UNSET,
) -> None:
    """Stand-in for obs_base's ``script.ingestRaws`` (v23 and current).

    The arguments after ``ingest_task`` exist only from release 24 on.
    """
    kwargs = dict(
        repo=repo,
        locations=list(locations),
        regex=regex,
        output_run=output_run,
        config=dict(config or {}),
        config_file=config_file,
        transfer=transfer,
        processes=processes,
        ingest_task=ingest_task,
        track_file_attrs=track_file_attrs,
        fail_fast=fail_fast,
        update_records=update_records,
        skip_existing=skip_existing,
        search_indexes=search_indexes,
    )
    if _dry_run("ingestRaws", kwargs):
        return
    from .ingest import ingest_raws

    ingest_raws(**_given(kwargs))


def defineVisits(  # noqa: N802 (the real obs_base name)
    repo: str,
    config_file: str | None,
    collections: Sequence[str],
    instrument: str,
    processes: int = 1,
    where: str | None = UNSET,
    update_records: bool = UNSET,
    incremental: bool = UNSET,
    skip_conflicting: bool = UNSET,
    prefilter: bool = UNSET,
    check_detector_regions: bool = UNSET,
) -> None:
    """Stand-in for obs_base's ``script.defineVisits`` (v23 and current).

    The arguments after ``processes`` exist only in later releases; the
    stand-in ignores them.
    """
    kwargs = dict(
        repo=repo,
        config_file=config_file,
        collections=list(collections or ()),
        instrument=instrument,
        processes=processes,
    )
    extras = dict(
        where=where,
        update_records=update_records,
        incremental=incremental,
        skip_conflicting=skip_conflicting,
        prefilter=prefilter,
        check_detector_regions=check_detector_regions,
    )
    if _dry_run("defineVisits", dict(kwargs, **extras)):
        return
    from .visits import define_visits

    define_visits(**kwargs)


def writeCuratedCalibrations(  # noqa: N802 (the real obs_base name)
    repo: str,
    instrument: str,
    collection: str | None,
    labels: Sequence[str],
    prefix: str | None = UNSET,
) -> None:
    """Stand-in for obs_base's ``script.writeCuratedCalibrations``.

    ``prefix`` exists only in later releases; the stand-in ignores it.
    """
    kwargs = dict(repo=repo, instrument=instrument, collection=collection, labels=list(labels))
    if _dry_run("writeCuratedCalibrations", dict(kwargs, prefix=prefix)):
        return
    from .curated import write_curated_calibrations

    write_curated_calibrations(**kwargs)


def registerInstrument(  # noqa: N802 (the real obs_base 23 name)
    repo: str, instrument: Sequence[str], update: bool = False
) -> None:
    """Stand-in for obs_base 23's ``script.registerInstrument``."""
    kwargs = dict(repo=repo, instrument=list(instrument), update=update)
    if _dry_run("registerInstrument", kwargs):
        return
    from .instrument import register_instruments

    register_instruments(repo, list(instrument), update=update)


def registerSkymap(  # noqa: N802 (the real pipe_tasks name)
    repo: str, config: dict[str, Any] | None, config_file: str | None
) -> None:
    """Stand-in for pipe_tasks' ``script.registerSkymap.registerSkymap``."""
    kwargs = dict(repo=repo, config=dict(config or {}), config_file=config_file)
    if _dry_run("registerSkymap", kwargs):
        return
    from .skymap import register_skymap

    register_skymap(**kwargs)


# --- the stub packages --------------------------------------------------


def _stub_module(name: str, path: Sequence[str] | None = None, **attrs: Any) -> ModuleType:
    module = ModuleType(name)
    module.__doc__ = f"Stub {name} of the LSST stack stand-ins (tests only)."
    if path is not None:
        module.__path__ = list(path)  # type: ignore[attr-defined]
    setattr(module, _STUB_MARK, True)
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = module
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name)
    if parent is not None:
        setattr(parent, child, module)
    return module


def _installed_locations(name: str) -> list[str]:
    """``__path__`` entries of an installed (non-stub) package, if any."""
    module = sys.modules.get(name)
    if module is not None and not getattr(module, _STUB_MARK, False):
        return [str(p) for p in getattr(module, "__path__", [])]
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None or spec.submodule_search_locations is None:
        return []
    return [str(p) for p in spec.submodule_search_locations]


def install_stubs() -> str:
    """Put the stub packages and script modules into `sys.modules`.

    Returns
    -------
    flavour : `str`
        ``v23`` or ``current``: the ``stack-cli`` subdirectory in use.
    """
    top = _flavour_root()
    flavour = top.parent.name
    if getattr(sys.modules.get("lsst.obs.base"), _STUB_MARK, False):
        return flavour
    importlib.import_module("lsst")
    pipe_installed = [p for p in _installed_locations("lsst.pipe") if Path(p) != top / "pipe"]
    _stub_module("lsst.obs", [str(top / "obs")])
    obs_base = _stub_module("lsst.obs.base", [str(top / "obs" / "base")])
    pipe = _stub_module("lsst.pipe", [str(top / "pipe"), *pipe_installed])
    if "lsst.pipe.base" in sys.modules:
        pipe.base = sys.modules["lsst.pipe.base"]  # type: ignore[attr-defined]
    pipe_tasks = _stub_module("lsst.pipe.tasks", [str(top / "pipe" / "tasks")])
    obs_base.script = _stub_module(  # type: ignore[attr-defined]
        "lsst.obs.base.script",
        ingestRaws=ingestRaws,
        defineVisits=defineVisits,
        writeCuratedCalibrations=writeCuratedCalibrations,
        registerInstrument=registerInstrument,
        convert=_not_provided("convert"),
        updateExposures=_not_provided("updateExposures"),
    )
    tasks_script = _stub_module("lsst.pipe.tasks.script", [])
    _stub_module("lsst.pipe.tasks.script.registerSkymap", registerSkymap=registerSkymap)
    _stub_module(
        "lsst.pipe.tasks.script.registerDcrSubfilters",
        registerDcrSubfilters=_not_provided("registerDcrSubfilters"),
    )
    tasks_script.makeDiscreteSkyMap = _not_provided("makeDiscreteSkyMap")  # type: ignore[attr-defined]
    pipe_tasks.script = tasks_script  # type: ignore[attr-defined]
    return flavour


FLAVOUR = install_stubs()
_obs_cmd = importlib.import_module("lsst.obs.base.cli.cmd")
_tasks_cmd = importlib.import_module("lsst.pipe.tasks.cli.cmd")

ingest_raws = _obs_cmd.ingest_raws
define_visits = _obs_cmd.define_visits
write_curated_calibrations = _obs_cmd.write_curated_calibrations
register_skymap = _tasks_cmd.register_skymap
if FLAVOUR == "v23":
    # obs_base 23's own register-instrument (see resources-v23.yaml).
    register_instrument = _obs_cmd.register_instrument
    __all__.append("register_instrument")
