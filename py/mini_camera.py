"""The few LSSTCam-imSim camera facts the miniature DP0.2 input tree needs.

This module is deliberately tiny and free of heavy imports: the generator
(``make_mini_inputs.py``) and the test stand-ins both import it, so the
instrument name, detector numbering, sensor serials, filters and the
approximate focal-plane geometry are defined exactly once.

Detector numbering follows the imSim camera (obs_lsst ``LSSTCam-imSim``): the
21 science rafts in the order R01, R02, R03, R10, ..., R43 (the corner rafts
R00, R04, R40, R44 hold only wavefront/guide sensors and are excluded), nine
sensors per raft in the order S00, S01, S02, S10, ..., S22, numbered 0..188.
So ``R22_S11`` is 94 and ``R22_S12`` is 95.

Geometry (an approximation, documented so tests can recompute it): raft name
``R<r><c>`` and sensor name ``S<r><c>`` give a row and a column. The focal
plane position of a sensor centre is ``x = (c_raft - 2) * RAFT_PITCH_MM +
(c_sensor - 1) * SENSOR_PITCH_MM`` and ``y`` likewise with the rows, in mm,
with the origin at the centre of R22_S11. At 10 micron pixels and 0.2 arcsec
per pixel, 1 mm is 20 arcsec. Each sensor is treated as a square of
``SENSOR_PIXELS`` pixels on a side (about 13.3 arcmin).
"""

from __future__ import annotations

import re
import zlib
from typing import Any

__all__ = [
    "BANDS",
    "DETECTOR_MAX",
    "INSTRUMENT",
    "INSTRUMENT_CLASS",
    "PIXEL_SCALE_ARCSEC",
    "PIXEL_SIZE_MM",
    "RAFT_PITCH_MM",
    "SCIENCE_RAFTS",
    "SENSOR_PITCH_MM",
    "SENSOR_PIXELS",
    "SENSORS_IN_RAFT",
    "THROUGHPUTS_VERSION",
    "all_sensor_names",
    "detector_id",
    "detector_records",
    "focal_plane_offset_arcsec",
    "instrument_record",
    "lsst_num",
    "parse_sensor_list",
    "physical_filter",
    "physical_filter_records",
    "sensor_corners_arcsec",
    "split_sensor",
    "stable_seed",
    "validate_sensor",
]

INSTRUMENT = "LSSTCam-imSim"
"""Butler instrument name of the imSim camera."""

INSTRUMENT_CLASS = "lsst.obs.lsst.LsstCamImSim"
"""Instrument class recorded in the instrument dimension record."""

BANDS = ("u", "g", "r", "i", "z", "y")
"""The six LSST bands, in wavelength order."""

THROUGHPUTS_VERSION = "1.4"
"""Version of the ``throughputs`` package named in the raw headers (PKGnn/VERnn)."""

SCIENCE_RAFTS = (
    "R01", "R02", "R03",
    "R10", "R11", "R12", "R13", "R14",
    "R20", "R21", "R22", "R23", "R24",
    "R30", "R31", "R32", "R33", "R34",
    "R41", "R42", "R43",
)  # fmt: skip
"""The 21 science rafts in imSim detector-numbering order."""

SENSORS_IN_RAFT = ("S00", "S01", "S02", "S10", "S11", "S12", "S20", "S21", "S22")
"""The nine sensors of a science raft in numbering order."""

DETECTOR_MAX = 1000
"""Exclusive upper bound of detector ids (exposure-detector id = visit * 1000 + detector)."""

PIXEL_SCALE_ARCSEC = 0.2
PIXEL_SIZE_MM = 0.010
RAFT_PITCH_MM = 127.0
SENSOR_PITCH_MM = 42.25
SENSOR_PIXELS = 4000

_SENSOR_RE = re.compile(r"^R([0-4])([0-4])_S([0-2])([0-2])$")


def validate_sensor(name: str) -> str:
    """Check that ``name`` is an imSim science sensor name.

    Parameters
    ----------
    name : `str`
        A sensor name such as ``R22_S11``.

    Returns
    -------
    name : `str`
        The same name, for chaining.

    Raises
    ------
    ValueError
        If the name is not of the form ``R<raft>_S<sensor>`` or names a corner
        (wavefront/guide) raft.
    """
    if not isinstance(name, str) or not _SENSOR_RE.match(name):
        raise ValueError(
            f"sensor name {name!r} is not an imSim science sensor: expected R<xy>_S<xy> "
            f"with a science raft ({', '.join(SCIENCE_RAFTS)}) and a sensor S00..S22, "
            "e.g. R22_S11"
        )
    raft = name[:3]
    if raft not in SCIENCE_RAFTS:
        raise ValueError(
            f"sensor name {name!r} is on raft {raft}, a corner raft without science sensors; "
            f"use one of {', '.join(SCIENCE_RAFTS)}, e.g. R22_S11"
        )
    return name


def split_sensor(name: str) -> tuple[str, str]:
    """Split a sensor name into raft and sensor parts.

    Parameters
    ----------
    name : `str`
        A sensor name such as ``R22_S11``.

    Returns
    -------
    raft, sensor : `tuple` [`str`, `str`]
        For example ``("R22", "S11")``.
    """
    validate_sensor(name)
    raft, sensor = name.split("_")
    return raft, sensor


def detector_id(name: str) -> int:
    """Return the imSim detector number of a science sensor.

    Parameters
    ----------
    name : `str`
        A sensor name such as ``R22_S11``.

    Returns
    -------
    detector : `int`
        0..188; ``R22_S11`` is 94.
    """
    raft, sensor = split_sensor(name)
    return SCIENCE_RAFTS.index(raft) * len(SENSORS_IN_RAFT) + SENSORS_IN_RAFT.index(sensor)


def all_sensor_names() -> list[str]:
    """Return the 189 science sensor names in detector order.

    Returns
    -------
    names : `list` [`str`]
        ``["R01_S00", ..., "R43_S22"]``.
    """
    return [f"{raft}_{sensor}" for raft in SCIENCE_RAFTS for sensor in SENSORS_IN_RAFT]


def parse_sensor_list(text: str) -> list[str]:
    """Parse a space (or comma) separated sensor list, validating every name.

    Parameters
    ----------
    text : `str`
        For example ``"R22_S11 R22_S12"``.

    Returns
    -------
    names : `list` [`str`]
        Unique names sorted by detector id.

    Raises
    ------
    ValueError
        If the list is empty or holds an invalid name.
    """
    names = [item for item in re.split(r"[\s,]+", text.strip()) if item]
    if not names:
        raise ValueError("the sensor list is empty; give at least one sensor, e.g. 'R22_S11'")
    for name in names:
        validate_sensor(name)
    return sorted(set(names), key=detector_id)


def lsst_num(name: str) -> str:
    """Return a deterministic sensor serial (the ``LSST_NUM`` header value).

    The serials are synthetic but stable: ITL sensors for even detector
    numbers and E2V ones for odd numbers, numbered from the detector id.

    Parameters
    ----------
    name : `str`
        A sensor name such as ``R22_S11``.

    Returns
    -------
    serial : `str`
        For example ``ITL-3800C-094``.
    """
    det = detector_id(name)
    if det % 2 == 0:
        return f"ITL-3800C-{det:03d}"
    return f"E2V-CCD250-{det:03d}"


def physical_filter(band: str) -> str:
    """Return the imSim physical filter of a band.

    Parameters
    ----------
    band : `str`
        One of ``u g r i z y``.

    Returns
    -------
    physical_filter : `str`
        For example ``r_sim_1.4``.

    Raises
    ------
    ValueError
        If ``band`` is not an LSST band.
    """
    if band not in BANDS:
        raise ValueError(f"band {band!r} is not one of {' '.join(BANDS)}")
    return f"{band}_sim_{THROUGHPUTS_VERSION}"


def focal_plane_offset_arcsec(name: str) -> tuple[float, float]:
    """Return the approximate focal-plane position of a sensor centre.

    Parameters
    ----------
    name : `str`
        A sensor name such as ``R22_S11``.

    Returns
    -------
    x, y : `tuple` [`float`, `float`]
        Offset from the centre of R22_S11, in arcsec on the sky (x along the
        raft/sensor column index, y along the row index).
    """
    raft, sensor = split_sensor(name)
    row_r, col_r = int(raft[1]), int(raft[2])
    row_s, col_s = int(sensor[1]), int(sensor[2])
    x_mm = (col_r - 2) * RAFT_PITCH_MM + (col_s - 1) * SENSOR_PITCH_MM
    y_mm = (row_r - 2) * RAFT_PITCH_MM + (row_s - 1) * SENSOR_PITCH_MM
    per_mm = PIXEL_SCALE_ARCSEC / PIXEL_SIZE_MM
    return x_mm * per_mm, y_mm * per_mm


def sensor_corners_arcsec(name: str) -> list[tuple[float, float]]:
    """Return the four focal-plane corners of a sensor, in arcsec.

    Parameters
    ----------
    name : `str`
        A sensor name such as ``R22_S11``.

    Returns
    -------
    corners : `list` [`tuple` [`float`, `float`]]
        Counter-clockwise corners of the ``SENSOR_PIXELS`` square.
    """
    x0, y0 = focal_plane_offset_arcsec(name)
    half = SENSOR_PIXELS * PIXEL_SCALE_ARCSEC / 2.0
    return [(x0 - half, y0 - half), (x0 + half, y0 - half), (x0 + half, y0 + half),
            (x0 - half, y0 + half)]  # fmt: skip


def instrument_record(fields: Any = None) -> dict[str, Any]:
    """Return the instrument dimension record values of LSSTCam-imSim.

    Parameters
    ----------
    fields : iterable of `str`, optional
        Record fields the dimension universe knows (for example
        ``universe["instrument"].RecordClass.fields.names``); values for other
        fields are dropped so the record fits old (v23) and new universes.

    Returns
    -------
    record : `dict` [`str`, `typing.Any`]
        Values close to those obs_lsst registers.
    """
    record: dict[str, Any] = {
        "name": INSTRUMENT,
        "detector_max": DETECTOR_MAX,
        "visit_max": 9999999,
        "exposure_max": 9999999,
        "visit_system": 0,
        "class_name": INSTRUMENT_CLASS,
    }
    if fields is not None:
        keep = set(fields)
        record = {k: v for k, v in record.items() if k in keep}
    return record


def detector_records(sensors: list[str]) -> list[dict[str, Any]]:
    """Return detector dimension record values for the given sensors.

    Parameters
    ----------
    sensors : `list` [`str`]
        Sensor names such as ``["R22_S11"]``.

    Returns
    -------
    records : `list` [`dict` [`str`, `typing.Any`]]
        One record per sensor, in detector order.
    """
    records = []
    for name in sorted(set(sensors), key=detector_id):
        raft, sensor = split_sensor(name)
        records.append({"instrument": INSTRUMENT, "id": detector_id(name), "full_name": name,
                        "name_in_raft": sensor, "raft": raft, "purpose": "SCIENCE"})
    return records


def physical_filter_records(bands: Any = BANDS) -> list[dict[str, Any]]:
    """Return physical_filter dimension record values.

    Parameters
    ----------
    bands : iterable of `str`, optional
        Bands to include; all six by default.

    Returns
    -------
    records : `list` [`dict` [`str`, `typing.Any`]]
        One record per band, e.g. ``{"instrument": "LSSTCam-imSim",
        "name": "r_sim_1.4", "band": "r"}``.
    """
    return [{"instrument": INSTRUMENT, "name": physical_filter(b), "band": b} for b in bands]


def stable_seed(*parts: object) -> int:
    """Return a deterministic 32-bit seed from the given values.

    Python's ``hash`` is salted per process, so seeds come from CRC32 instead.

    Parameters
    ----------
    *parts : `object`
        Values whose ``str`` forms identify the random stream.

    Returns
    -------
    seed : `int`
        Non-negative 32-bit integer.
    """
    return zlib.crc32("|".join(str(p) for p in parts).encode())
