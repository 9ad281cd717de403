"""A test instrument class for ``butler register-instrument``.

Stand-in for the LSST stack (obs_lsst's ``lsst.obs.lsst.LsstCamImSim``), for
tests only.  It registers the instrument ``LSSTCam-imSim`` with all 189
science sensors of the imSim camera (ids, names and serials from
``py/mini_camera.py``) and the six ``<band>_sim_1.4`` physical filters, with
``Registry.syncDimensionData`` so that rerunning is safe.  The instrument
record's ``class_name`` is the real ``lsst.obs.lsst.LsstCamImSim`` (what
obs_lsst registers, and what the miniature calib export carries); the
stand-in commands resolve that name to this class (see ``get_instrument``).

Usage::

    PYTHONPATH=/path/to/checkout:/path/to/checkout/py \\
        butler register-instrument REPO tests.stack_standins.instrument.MiniLsstCamImSim
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from ._common import fit_record, mini_camera, open_butler

try:
    from lsst.pipe.base import Instrument
except ImportError:  # the v23 runtime: no pipe_base (Instrument was obs_base's)

    class Instrument:  # type: ignore[no-redef]
        """The few ``Instrument`` methods the stand-ins use (no pipe_base at v23)."""

        @classmethod
        def getName(cls) -> str:
            raise NotImplementedError()

        @classmethod
        def makeCollectionName(cls, *labels: str) -> str:
            return "/".join((cls.getName(),) + labels)

        @classmethod
        def makeDefaultRawIngestRunName(cls) -> str:
            return cls.makeCollectionName("raw", "all")

        @classmethod
        def makeCalibrationCollectionName(cls, *labels: str) -> str:
            return cls.makeCollectionName("calib", *labels)

        @classmethod
        def makeUnboundedCalibrationRunName(cls, *labels: str) -> str:
            return cls.makeCalibrationCollectionName(*labels, "unbounded")

        @staticmethod
        def from_string(name: str, registry: Any = None) -> Any:
            """Instantiate an instrument class from its name or class name."""
            if "." not in name and registry is not None:
                records = list(registry.queryDimensionRecords("instrument", instrument=name))
                if not records:
                    raise LookupError(f"No registered instrument with name {name!r}.")
                name = records[0].class_name
            module_name, _, class_name = name.rpartition(".")
            cls = getattr(importlib.import_module(module_name), class_name)
            return cls()


__all__ = ["MiniLsstCamImSim", "get_instrument", "register_instruments"]


class MiniLsstCamImSim(Instrument):
    """Stand-in for ``lsst.obs.lsst.LsstCamImSim`` (tests only)."""

    @classmethod
    def getName(cls) -> str:
        return mini_camera().INSTRUMENT

    def register(self, registry: Any, *, update: bool = False) -> None:
        cam = mini_camera()
        universe = registry.dimensions
        # The record names the real class (lsst.obs.lsst.LsstCamImSim), as
        # obs_lsst registers it and as the miniature calib export carries it,
        # so the import of that export and this registration agree in any
        # order.  The stand-in commands map that name back to this class.
        record = cam.instrument_record(universe["instrument"].RecordClass.fields.names)
        with registry.transaction():
            registry.syncDimensionData("instrument", record, update=update)
            for values in cam.physical_filter_records():
                registry.syncDimensionData(
                    "physical_filter",
                    fit_record(universe, "physical_filter", values),
                    update=update,
                )
            for values in cam.detector_records(cam.all_sensor_names()):
                registry.syncDimensionData(
                    "detector", fit_record(universe, "detector", values), update=update
                )

    def getRawFormatter(self, dataId: Any) -> type:
        from .formatters import StandinRawFormatter

        return StandinRawFormatter

    def getCamera(self) -> Any:
        """Return a plain description of the camera (no afw here).

        The real method returns an ``lsst.afw.cameraGeom.Camera``; this
        stand-in returns a dictionary that ``write-curated-calibrations``
        stores as the ``camera`` dataset.
        """
        cam = mini_camera()
        return {
            "name": cam.INSTRUMENT,
            "standin": "tests.stack_standins (not an afw Camera)",
            "detectors": [
                {
                    "id": cam.detector_id(name),
                    "name": name,
                    "serial": cam.lsst_num(name),
                    "purpose": "SCIENCE",
                }
                for name in cam.all_sensor_names()
            ],
        }


def get_instrument(name: str, registry: Any) -> Instrument:
    """Return the instrument for a name or class name, as obs_base does.

    ``Instrument.from_string`` imports the class named in the registry; for
    ``LSSTCam-imSim`` that is obs_lsst's class, absent from the lite
    runtime, so this stand-in class is used instead.
    """
    cam = mini_camera()
    if name in (cam.INSTRUMENT, cam.INSTRUMENT_CLASS):
        try:
            return Instrument.from_string(name, registry)
        except Exception:
            return MiniLsstCamImSim()
    return Instrument.from_string(name, registry)


def register_instruments(repo: str, names: Sequence[str], update: bool = False) -> None:
    """Register instruments by class name, as obs_base 23's ``registerInstrument``.

    Used by the v23 ``register-instrument`` stand-in (``cli.py``).
    """
    with open_butler(repo, writeable=True) as butler:
        for name in names:
            # As obs_base 23: a class name, or the name of a registered instrument.
            instr = Instrument.from_string(name, butler.registry)
            instr.register(butler.registry, update=update)
