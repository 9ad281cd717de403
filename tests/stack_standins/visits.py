"""``butler define-visits``, simplified.

Stand-in for the LSST stack (obs_base ``DefineVisitsTask`` at v23), for
tests only.  One visit per science exposure (visit id = exposure id), the
"one-to-one" grouping, for the exposures that have ``raw`` datasets in
``--collections`` (default ``<instrument>/raw/all``), as v23 does.

Records, per visit in one transaction and only when the visit is new
(``syncDimensionData``), so a rerun is a safe no-op:

- ``visit_system`` (0 ``one-to-one``; 1 ``by-group-metadata`` and 2
  ``by-counter-and-exptime`` if the config picks them), once;
- ``visit`` (name, physical_filter, day_obs, exposure time, science
  program, zenith angle, timespan, region);
- ``visit_definition`` (exposure -> visit) and ``visit_system_membership``;
- ``visit_detector_region``, one per detector with a raw, with a region
  from the tracking position, the sky angle and the approximate focal-plane
  geometry of ``py/mini_camera.py`` (the real task uses the raw WCS and the
  camera); the visit region is the convex hull of its detector regions.

``-C`` loads a small ``DefineVisitsConfig`` (``groupExposures``,
``computeVisitRegions``, ``ignoreNonScienceExposures``).  ``-j`` is accepted
and ignored.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lsst.pex.config import Config, ConfigChoiceField, Field
from lsst.sphgeom import ConvexPolygon, LonLat, UnitVector3d

from ._common import fit_record, has_element, mini_camera, open_butler, universe_of
from .instrument import get_instrument

log = logging.getLogger("lsst.standins.visits")

VISIT_SYSTEMS = {"one-to-one": 0, "by-group-metadata": 1, "by-counter-and-exptime": 2}


class _Empty(Config):
    pass


class SingleRawWcsConfig(Config):
    padding = Field(dtype=int, default=250, doc="Padding of the detector regions, pixels")
    mergeExposures = Field(dtype=bool, default=False, doc="Merge the exposure regions")


class DefineVisitsConfig(Config):
    """The fields of obs_base's ``DefineVisitsConfig`` that config files set."""

    groupExposures = ConfigChoiceField(
        doc="How to group exposures into visits (each gives one visit per exposure here).",
        typemap={name: _Empty for name in VISIT_SYSTEMS},
        default="one-to-one",
    )
    computeVisitRegions = ConfigChoiceField(
        doc="How to compute visit regions.",
        typemap={"single-raw-wcs": SingleRawWcsConfig},
        default="single-raw-wcs",
    )
    ignoreNonScienceExposures = Field(dtype=bool, default=True, doc="Skip non-science exposures")


def _sky(ra: float, dec: float, x_arcsec: float, y_arcsec: float, angle_deg: float) -> UnitVector3d:
    """Inverse gnomonic projection of a focal-plane offset around (ra, dec)."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    xi = math.radians((c * x_arcsec - s * y_arcsec) / 3600.0)
    eta = math.radians((s * x_arcsec + c * y_arcsec) / 3600.0)
    ra0, dec0 = math.radians(ra), math.radians(dec)
    denom = math.cos(dec0) - eta * math.sin(dec0)
    ra_p = ra0 + math.atan2(xi, denom)
    dec_p = math.atan2(math.sin(dec0) + eta * math.cos(dec0), math.hypot(xi, denom))
    return UnitVector3d(LonLat.fromRadians(ra_p % (2 * math.pi), dec_p))


def detector_region(record: Any, sensor: str) -> ConvexPolygon | None:
    """Approximate sky region of one sensor of an exposure."""
    ra, dec = record.tracking_ra, record.tracking_dec
    if ra is None or dec is None:
        return None
    angle = record.sky_angle or 0.0
    corners = mini_camera().sensor_corners_arcsec(sensor)
    return ConvexPolygon([_sky(ra, dec, x, y, angle) for x, y in corners])


def define_visits(
    repo: str,
    instrument: str,
    config_file: str | None = None,
    collections: Sequence[str] = (),
    processes: int = 1,
) -> None:
    """Define one visit per exposure, as ``butler define-visits`` (stand-in)."""
    config = DefineVisitsConfig()
    if config_file:
        config.load(config_file)
    config.validate()
    system_name = config.groupExposures.name
    system_id = VISIT_SYSTEMS[system_name]
    with open_butler(repo, writeable=True) as butler:
        registry = butler.registry
        universe = universe_of(butler)
        instr = get_instrument(instrument, registry)
        name = instr.getName()
        search = list(collections) or [instr.makeDefaultRawIngestRunName()]
        detectors_by_exposure: dict[int, set[int]] = defaultdict(set)
        for ref in registry.queryDatasets(
            "raw", collections=search, instrument=name, findFirst=False
        ):
            detectors_by_exposure[ref.dataId["exposure"]].add(ref.dataId["detector"])
        detector_names = {
            rec.id: rec.full_name
            for rec in registry.queryDimensionRecords("detector", instrument=name)
        }
        exposures = [
            rec
            for rec in registry.queryDimensionRecords("exposure", instrument=name)
            if rec.id in detectors_by_exposure
        ]
        if config.ignoreNonScienceExposures:
            exposures = [rec for rec in exposures if rec.observation_type == "science"]
        exposures.sort(key=lambda rec: rec.id)
        registry.syncDimensionData(
            "visit_system", {"instrument": name, "id": system_id, "name": system_name}
        )
        n_new = 0
        for exp in exposures:
            regions = {}
            for det in sorted(detectors_by_exposure[exp.id]):
                region = detector_region(exp, detector_names[det])
                if region is not None:
                    regions[det] = region
            visit_region = None
            if regions:
                visit_region = ConvexPolygon.convexHull(
                    [v for region in regions.values() for v in region.getVertices()]
                )
            visit = fit_record(
                universe,
                "visit",
                {
                    "instrument": name,
                    "id": exp.id,
                    "name": exp.obs_id,
                    "physical_filter": exp.physical_filter,
                    "day_obs": getattr(exp, "day_obs", None),
                    "seq_num": getattr(exp, "seq_num", None),
                    "exposure_time": getattr(exp, "exposure_time", None),
                    "target_name": getattr(exp, "target_name", None),
                    "observation_reason": getattr(exp, "observation_reason", None),
                    "science_program": getattr(exp, "science_program", None),
                    "azimuth": getattr(exp, "azimuth", None),
                    "zenith_angle": getattr(exp, "zenith_angle", None),
                    "region": visit_region,
                    "timespan": exp.timespan,
                    "visit_system": system_id,
                },
            )
            with registry.transaction():
                if not registry.syncDimensionData("visit", visit):
                    continue
                registry.insertDimensionData(
                    "visit_definition",
                    fit_record(
                        universe,
                        "visit_definition",
                        {
                            "instrument": name,
                            "exposure": exp.id,
                            "visit": exp.id,
                            "visit_system": system_id,
                        },
                    ),
                )
                if has_element(universe, "visit_system_membership"):
                    registry.insertDimensionData(
                        "visit_system_membership",
                        {
                            "instrument": name,
                            "visit": exp.id,
                            "visit_system": system_id,
                        },
                    )
                if regions:
                    registry.insertDimensionData(
                        "visit_detector_region",
                        *[
                            {"instrument": name, "visit": exp.id, "detector": det, "region": region}
                            for det, region in regions.items()
                        ],
                    )
            n_new += 1
        log.info(
            "Defined %d new visit(s); %d of %d exposure(s) already had one.",
            n_new,
            len(exposures) - n_new,
            len(exposures),
        )
