"""``butler register-skymap``, simplified.

Stand-in for the LSST stack (pipe_tasks ``registerSkymap`` and skymap's
``BaseSkyMap.register`` at v23), for tests only.

The configuration is a small pex_config ``Config`` with the fields of the
real ``MakeGen3SkyMapConfig``: ``name`` and ``skyMap``, a
``ConfigChoiceField`` offering ``rings``, ``discrete`` and ``dodeca`` with
the fields of lsst.skymap's configs (``numRings``, ``projection``,
``tractOverlap``, ``pixelScale``, ``patchInnerDimensions``, ...), so the
DP0.2 ``DC2.py`` override file loads unchanged.

Registration, in one transaction, like the real one:

- ``skymap`` dimension record: ``name``, ``hash`` (SHA-1 of the sky map
  type and its config), ``tract_max``, ``patch_nx_max``, ``patch_ny_max``
  (the tract count of a rings sky map follows lsst.skymap's formula: 18938
  for DC2's 120 rings; the patch grid is estimated from the tract size);
- ``tract`` and ``patch`` records with regions, but only for some tracts
  (the real command inserts all of them): by default the tracts whose centre
  lies in the DC2 footprint (RA 50..75, Dec -45..-27, the region the
  miniature tree's visits and truth files are drawn from), or those listed in
  ``STANDIN_SKYMAP_TRACTS`` (comma-separated ids, ``all`` or ``none``);
  discrete sky maps get all their tracts, dodeca sky maps none;
- a ``skyMap`` dataset (dimensions ``skymap``, storage class ``SkyMap``) in
  the RUN ``skymaps``: a pickled ``dict`` describing the sky map (the real
  one pickles an ``lsst.skymap.BaseSkyMap``).

A rerun with the same config finds the record and does nothing; a different
config under the same name raises ``ConflictingDefinitionError``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from lsst.daf.butler import Butler, DatasetType, FileDataset
from lsst.daf.butler.registry import ConflictingDefinitionError
from lsst.pex.config import Config, ConfigChoiceField, Field, ListField
from lsst.sphgeom import Angle as SphAngle
from lsst.sphgeom import Circle, ConvexPolygon, LonLat, UnitVector3d

from ._common import (
    apply_overrides,
    ingest_datasets,
    make_ref,
    missing_dataset_type_errors,
    open_butler,
    universe_of,
)

log = logging.getLogger("lsst.standins.skymap")

SKYMAP_RUN = "skymaps"
SKYMAP_FORMATTER = "lsst.daf.butler.formatters.pickle.PickleFormatter"
DC2_FOOTPRINT = (50.0, 75.0, -45.0, -27.0)
"""RA min, RA max, Dec min, Dec max (degrees) of the DC2 field: the default tract selection."""


class LegacyTractBuilderConfig(Config):
    patchInnerDimensions = ListField(
        dtype=int, default=[4000, 4000], length=2, doc="Patch inner size [x, y]"
    )
    patchBorder = Field(dtype=int, default=100, doc="Patch border, pixels")


class CellTractBuilderConfig(Config):
    cellInnerDimensions = ListField(
        dtype=int, default=[150, 150], length=2, doc="Cell inner size [x, y]"
    )
    cellBorder = Field(dtype=int, default=50, doc="Cell border, pixels")
    numCellsPerPatchInner = Field(dtype=int, default=20, doc="Cells per patch side")
    numCellsInPatchBorder = Field(dtype=int, default=1, doc="Cells in the patch border")


def _tract_builder_field() -> ConfigChoiceField:
    return ConfigChoiceField(
        doc="Algorithm for creating patches within the tract.",
        typemap={"legacy": LegacyTractBuilderConfig, "cells": CellTractBuilderConfig},
        default="legacy",
    )


class BaseSkyMapConfig(Config):
    """The fields of lsst.skymap's ``BaseSkyMapConfig``."""

    tractBuilder = _tract_builder_field()
    patchInnerDimensions = ListField(
        dtype=int, default=[4000, 4000], length=2, doc="Patch inner size [x, y]"
    )
    patchBorder = Field(dtype=int, default=100, doc="Patch border, pixels")
    tractOverlap = Field(
        dtype=float, default=1.0, doc="Minimum overlap between adjacent tracts, deg"
    )
    pixelScale = Field(dtype=float, default=0.333, doc="Nominal pixel scale, arcsec/pixel")
    projection = Field(dtype=str, default="STG", doc="WCS projection (a FITS code)")
    rotation = Field(dtype=float, default=0.0, doc="Rotation of the tracts, deg")


class RingsSkyMapConfig(BaseSkyMapConfig):
    numRings = Field(dtype=int, default=None, optional=False, doc="Number of declination rings")
    raStart = Field(dtype=float, default=0.0, doc="Starting RA of each ring, deg")


class DiscreteSkyMapConfig(BaseSkyMapConfig):
    raList = ListField(dtype=float, default=[], doc="Tract centre RAs, deg")
    decList = ListField(dtype=float, default=[], doc="Tract centre Decs, deg")
    radiusList = ListField(dtype=float, default=[], doc="Tract radii, deg")


class DodecaSkyMapConfig(BaseSkyMapConfig):
    withTractsOnPoles = Field(dtype=bool, default=False, doc="Centre tracts on the poles")


class MakeGen3SkyMapConfig(Config):
    """The fields of pipe_tasks' ``MakeGen3SkyMapConfig``."""

    name = Field(dtype=str, default=None, optional=True, doc="Name of the sky map in the registry")
    skyMap = ConfigChoiceField(
        doc="Type of sky map",
        typemap={
            "rings": RingsSkyMapConfig,
            "discrete": DiscreteSkyMapConfig,
            "dodeca": DodecaSkyMapConfig,
        },
        default="dodeca",
    )

    def validate(self) -> None:
        super().validate()
        if self.name is None:
            raise ValueError(
                "The name field must be set to the name of the specific skymap to use "
                "for tract assignment"
            )


def _lonlat(ra: float, dec: float) -> UnitVector3d:
    return UnitVector3d(LonLat.fromDegrees(ra % 360.0, max(-90.0, min(90.0, dec))))


def _box(ra0: float, ra1: float, dec0: float, dec1: float) -> ConvexPolygon:
    return ConvexPolygon(
        [_lonlat(ra0, dec0), _lonlat(ra1, dec0), _lonlat(ra1, dec1), _lonlat(ra0, dec1)]
    )


class StandinSkyMap:
    """Tract and patch geometry, approximating lsst.skymap's sky maps."""

    def __init__(self, kind: str, config: BaseSkyMapConfig):
        self.kind = kind
        self.config = config
        self.overlap = config.tractOverlap
        self.tracts: list[dict[str, Any]] = []  # id, centre, kind, geometry
        if kind == "rings":
            self._make_rings()
        elif kind == "discrete":
            for i, (ra, dec, radius) in enumerate(
                zip(config.raList, config.decList, config.radiusList)
            ):
                self.tracts.append({"id": i, "ra": ra, "dec": dec, "radius": radius + self.overlap})
        else:
            self.tracts = [{"id": i} for i in range(12)]
        self.nx, self.ny = self._patch_grid()

    def _make_rings(self) -> None:
        num_rings = self.config.numRings
        ring_size = math.pi / (num_rings + 1)
        ring_deg = math.degrees(ring_size)
        self.tracts.append(
            {"id": 0, "ra": 0.0, "dec": -90.0, "radius": ring_deg / 2 + self.overlap}
        )
        tract_id = 1
        for i in range(num_rings):
            start_dec = ring_size * (i + 0.5) - 0.5 * math.pi
            stop_dec = start_dec + ring_size
            n = int(2 * math.pi * math.cos(min(abs(start_dec), abs(stop_dec))) / ring_size) + 1
            dec = math.degrees(start_dec + 0.5 * ring_size)
            for j in range(n):
                ra = (self.config.raStart + j * 360.0 / n) % 360.0
                self.tracts.append(
                    {
                        "id": tract_id,
                        "ra": ra,
                        "dec": dec,
                        "half_ra": 180.0 / n + self.overlap,
                        "dec0": math.degrees(start_dec) - self.overlap,
                        "dec1": math.degrees(stop_dec) + self.overlap,
                    }
                )
                tract_id += 1
        self.tracts.append(
            {"id": tract_id, "ra": 0.0, "dec": 90.0, "radius": ring_deg / 2 + self.overlap}
        )
        self.ring_deg = ring_deg

    def _patch_grid(self) -> tuple[int, int]:
        inner = list(self.config.patchInnerDimensions)
        if self.config.tractBuilder.name == "legacy":
            inner = list(self.config.tractBuilder.active.patchInnerDimensions)
        if self.kind == "rings":
            size_deg = self.ring_deg + 2 * self.overlap
        elif self.kind == "discrete" and self.tracts:
            size_deg = 2 * max(t["radius"] for t in self.tracts)
        else:
            size_deg = 72.0
        pixels = size_deg * 3600.0 / self.config.pixelScale
        return math.ceil(pixels / inner[0]), math.ceil(pixels / inner[1])

    def tract_box(self, tract: dict[str, Any]) -> tuple[float, float, float, float] | None:
        """RA/Dec box (ra0, ra1, dec0, dec1) of a ring tract, or `None`."""
        if "half_ra" not in tract:
            if "radius" in tract and abs(tract["dec"]) < 90.0:
                r = tract["radius"]
                cos_dec = max(math.cos(math.radians(tract["dec"])), 1e-6)
                return (
                    tract["ra"] - r / cos_dec,
                    tract["ra"] + r / cos_dec,
                    tract["dec"] - r,
                    tract["dec"] + r,
                )
            return None
        return (
            tract["ra"] - tract["half_ra"],
            tract["ra"] + tract["half_ra"],
            tract["dec0"],
            tract["dec1"],
        )

    def tract_region(self, tract: dict[str, Any]) -> Any:
        box = self.tract_box(tract)
        if box is not None:
            return _box(*box)
        return Circle(_lonlat(tract["ra"], tract["dec"]), SphAngle.fromDegrees(tract["radius"]))

    def patch_records(self, name: str, tract: dict[str, Any]) -> list[dict[str, Any]]:
        box = self.tract_box(tract)
        if box is None:
            return []
        ra0, ra1, dec0, dec1 = box
        dra, ddec = (ra1 - ra0) / self.nx, (dec1 - dec0) / self.ny
        return [
            {
                "skymap": name,
                "tract": tract["id"],
                "id": y * self.nx + x,
                "cell_x": x,
                "cell_y": y,
                "region": _box(
                    ra0 + x * dra, ra0 + (x + 1) * dra, dec0 + y * ddec, dec0 + (y + 1) * ddec
                ),
            }
            for y in range(self.ny)
            for x in range(self.nx)
        ]

    def selected_tracts(self) -> list[dict[str, Any]]:
        """The tracts whose records are inserted (see module docstring)."""
        if self.kind == "dodeca":
            return []
        choice = os.environ.get("STANDIN_SKYMAP_TRACTS", "").strip()
        if choice == "all" or self.kind == "discrete":
            return self.tracts
        if choice == "none":
            return []
        if choice:
            wanted = {int(t) for t in choice.split(",") if t.strip()}
            return [t for t in self.tracts if t["id"] in wanted]
        ra0, ra1, dec0, dec1 = DC2_FOOTPRINT
        return [
            t
            for t in self.tracts
            if "half_ra" in t and ra0 <= t["ra"] <= ra1 and dec0 <= t["dec"] <= dec1
        ]


def skymap_hash(kind: str, config: BaseSkyMapConfig) -> bytes:
    """SHA-1 of the sky map type and its config values."""
    text = json.dumps({"type": kind, "config": config.toDict()}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).digest()


def skymap_dataset_type(butler: Butler) -> DatasetType:
    """Return the ``skyMap`` dataset type: the registered one if any."""
    try:
        return butler.registry.getDatasetType("skyMap")
    except missing_dataset_type_errors():
        return DatasetType("skyMap", ["skymap"], "SkyMap", universe=universe_of(butler))


def register_skymap(
    repo: str, config: dict[str, Any] | None = None, config_file: str | None = None
) -> None:
    """Register a sky map as ``butler register-skymap`` does (stand-in)."""
    sky_config = MakeGen3SkyMapConfig()
    if config_file:
        sky_config.load(config_file)
    if config:
        apply_overrides(sky_config, config)
    sky_config.validate()
    name = sky_config.name
    kind = sky_config.skyMap.name
    active = sky_config.skyMap.active
    sky = StandinSkyMap(kind, active)
    digest = skymap_hash(kind, active)
    record = {
        "name": name,
        "hash": digest,
        "tract_max": len(sky.tracts),
        "patch_nx_max": sky.nx,
        "patch_ny_max": sky.ny,
    }
    log.info(
        "Sky map %s: %s with %d tracts of %dx%d patches",
        name,
        kind,
        len(sky.tracts),
        sky.nx,
        sky.ny,
    )
    with open_butler(repo, writeable=True) as butler:
        dataset_type = skymap_dataset_type(butler)
        butler.registry.registerDatasetType(dataset_type)
        butler.registry.registerRun(SKYMAP_RUN)
        with tempfile.TemporaryDirectory(prefix="standin-skymap-") as tmp:
            with butler.transaction():
                try:
                    inserted = butler.registry.syncDimensionData("skymap", record)
                except ConflictingDefinitionError as err:
                    raise ConflictingDefinitionError(
                        f"SkyMap with hash {digest.hex()} is already registered "
                        "with a different name."
                    ) from err
                if not inserted:
                    log.info("Sky map %s is already registered with the same definition.", name)
                    return
                tracts = sky.selected_tracts()
                butler.registry.insertDimensionData(
                    "tract",
                    *[
                        {"skymap": name, "id": t["id"], "region": sky.tract_region(t)}
                        for t in tracts
                    ],
                )
                patches = [p for t in tracts for p in sky.patch_records(name, t)]
                if patches:
                    butler.registry.insertDimensionData("patch", *patches)
                path = Path(tmp) / "skyMap.pickle"
                content = {
                    "standin": "tests.stack_standins (not an lsst.skymap.BaseSkyMap)",
                    "name": name,
                    "type": kind,
                    "config": active.toDict(),
                    **record,
                }
                path.write_bytes(pickle.dumps(content))
                ref = make_ref(dataset_type, {"skymap": name}, SKYMAP_RUN)
                ingest_datasets(
                    butler,
                    FileDataset(path=str(path), refs=[ref], formatter=SKYMAP_FORMATTER),
                    transfer="copy",
                    run=SKYMAP_RUN,
                )
        log.info(
            "Registered sky map %s: %d tract and %d patch records, skyMap dataset in %s",
            name,
            len(tracts),
            len(patches),
            SKYMAP_RUN,
        )
