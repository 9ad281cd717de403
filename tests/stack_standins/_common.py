"""Shared helpers of the LSST stack stand-ins (tests only).

Stand-in for the LSST stack, for tests only: nothing here is used by the
toolkit itself.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

_PY_DIR = Path(__file__).resolve().parents[2] / "py"


def mini_camera() -> ModuleType:
    """Import the toolkit's ``mini_camera`` module (from ``py/``).

    Tests put ``py/`` on ``PYTHONPATH``; if they did not, the directory next
    to this checkout's ``tests/`` is added as a fallback.
    """
    try:
        return importlib.import_module("mini_camera")
    except ImportError:
        if str(_PY_DIR) not in sys.path:
            sys.path.append(str(_PY_DIR))
        return importlib.import_module("mini_camera")


def fit_record(universe: Any, element: str, values: dict[str, Any]) -> dict[str, Any]:
    """Drop the fields of ``values`` that the universe's ``element`` lacks."""
    names = set(universe[element].RecordClass.fields.names)
    return {k: v for k, v in values.items() if k in names}


def has_element(universe: Any, element: str) -> bool:
    """Tell whether the dimension universe has the named element."""
    try:
        universe[element]
    except (KeyError, LookupError):
        return False
    return True


def apply_overrides(config: Any, overrides: dict[str, Any] | None) -> None:
    """Apply ``-c key=value`` overrides (strings) to top-level config fields.

    Like pipe_base's ``ConfigOverrides``, each value is converted to the
    field's type (``True``/``False`` for booleans).
    """
    for key, value in (overrides or {}).items():
        field = config._fields.get(key)
        if field is None:
            raise KeyError(f"{type(config).__name__} has no field {key!r}")
        if isinstance(value, str) and field.dtype is bool:
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"Cannot interpret {value!r} as a boolean for {key}")
            value = lowered in ("true", "1", "yes")
        elif isinstance(value, str) and field.dtype in (int, float):
            value = field.dtype(value)
        setattr(config, key, value)


def daf_butler_major() -> int:
    """Major version of the installed daf_butler, from its metadata."""
    import importlib.metadata

    try:
        return int(importlib.metadata.version("lsst-daf-butler").split(".")[0])
    except ValueError:
        return 0


@contextlib.contextmanager
def open_butler(repo: str, writeable: bool = True) -> Iterator[Any]:
    """Open a Butler on daf_butler 23 (``Butler(repo)``) or later (``from_config``)."""
    from lsst.daf.butler import Butler

    if hasattr(Butler, "from_config"):
        with Butler.from_config(repo, writeable=writeable) as butler:
            yield butler
    else:
        yield Butler(repo, writeable=writeable)


def universe_of(butler: Any) -> Any:
    """The dimension universe (``Butler.dimensions`` does not exist at v23)."""
    return butler.registry.dimensions


def missing_dataset_type_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that ``getDatasetType`` raises for an unknown name."""
    try:
        from lsst.daf.butler import MissingDatasetTypeError
    except ImportError:  # daf_butler 23 raises KeyError
        return (KeyError, LookupError)
    return (KeyError, LookupError, MissingDatasetTypeError)


def make_ref(dataset_type: Any, data_id: dict[str, Any], run: str) -> Any:
    """A ``DatasetRef`` to ingest into ``run``.

    daf_butler 23 refuses ``run=`` without ``id=``: there the ref is left
    unresolved and `ingest_datasets` passes the run to ``Butler.ingest``.
    """
    from lsst.daf.butler import DatasetRef

    if daf_butler_major() == 23:
        return DatasetRef(dataset_type, data_id)
    return DatasetRef(dataset_type, data_id, run=run)


def ingest_datasets(butler: Any, *datasets: Any, transfer: str | None, run: str) -> None:
    """``Butler.ingest`` of refs made by `make_ref` (resolved in place at v23)."""
    if daf_butler_major() == 23:
        butler.ingest(*datasets, transfer=transfer, run=run)
    else:
        butler.ingest(*datasets, transfer=transfer)
