"""Tract geometry of a rings sky map (lsst.skymap ``RingsSkyMap``) without afw.

The DC2 sky map of DP0.2 is a rings sky map (``numRings = 120``, REFERENCE section 1).
lsst.skymap needs afw, which is not on PyPI, so this module recomputes the part the toolkit
needs from the config values alone, with the same formulas as ``RingsSkyMap``:

- the ring size is ``pi / (numRings + 1)``; ring ``i`` spans the declinations
  ``ringSize * (i + 0.5) - pi / 2`` .. ``+ ringSize``;
- ring ``i`` holds ``int(2 pi cos(d) / ringSize) + 1`` tracts, ``d`` the smaller absolute
  declination of its two edges;
- tract 0 is the south polar cap, tracts ``1..`` fill the rings from south to north, each
  ring starting at ``raStart``, and the last tract is the north polar cap;
- a position belongs to the tract whose ring holds its declination and whose centre RA is
  nearest (``findTract``).

Positions are handled as `lsst.sphgeom.LonLat` / `lsst.sphgeom.UnitVector3d`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

CONFIG_NAME = re.compile(r"""^\s*config\.name\s*=\s*(['"])(.+?)\1""", re.MULTILINE)
CONFIG_KIND = re.compile(r"""^\s*config\.skyMap(?:\.name)?\s*=\s*(['"])(.+?)\1""", re.MULTILINE)
CONFIG_FIELD = r"""^\s*config\.skyMap\[(['"])rings\1\]\.{name}\s*=\s*([-+0-9.eE/ ]+)"""


class RingsSkyMap:
    """The tract layout of a rings sky map.

    Parameters
    ----------
    num_rings : `int`
        ``numRings``.
    ra_start : `float`, optional
        ``raStart``, degrees.
    """

    def __init__(self, num_rings: int, ra_start: float = 0.0) -> None:
        if num_rings < 1:
            raise ValueError(f"numRings must be at least 1, not {num_rings}")
        self.num_rings = num_rings
        self.ra_start = math.radians(ra_start)
        self.ring_size = math.pi / (num_rings + 1)
        self.ring_counts: list[int] = []
        for i in range(num_rings):
            start = self.ring_size * (i + 0.5) - 0.5 * math.pi
            stop = start + self.ring_size
            dec = min(abs(start), abs(stop))
            self.ring_counts.append(int(2 * math.pi * math.cos(dec) / self.ring_size) + 1)

    def __len__(self) -> int:
        """Number of tracts: the rings' plus the two polar caps."""
        return sum(self.ring_counts) + 2

    def find_tract(self, ra: float, dec: float) -> int:
        """Return the id of the tract that holds a position.

        Parameters
        ----------
        ra, dec : `float`
            Position, degrees.

        Returns
        -------
        tract : `int`
            Tract id, ``0 .. len(self) - 1``.
        """
        first_start = self.ring_size * 0.5 - 0.5 * math.pi
        d = math.radians(dec)
        if d < first_start:
            return 0
        if d > -first_start:
            return len(self) - 1
        ring = min(int((d - first_start) / self.ring_size), self.num_rings - 1)
        count = self.ring_counts[ring]
        offset = (math.radians(ra) - self.ra_start) % (2 * math.pi)
        index = int(offset / (2 * math.pi / count) + 0.5)
        if index == count:
            index = 0
        return sum(self.ring_counts[:ring]) + index + 1

    def tracts_of(self, regions: Iterable[Any]) -> list[int]:
        """Return the tracts that hold a vertex or the centre of any region.

        Parameters
        ----------
        regions : iterable of `lsst.sphgeom.ConvexPolygon`
            Small footprints (sensors), much smaller than a tract.

        Returns
        -------
        tracts : `list` [`int`]
            Sorted unique tract ids.
        """
        from lsst import sphgeom

        found: set[int] = set()
        for region in regions:
            points = list(region.getVertices()) + [region.getCentroid()]
            for point in points:
                lonlat = sphgeom.LonLat(point)
                found.add(self.find_tract(lonlat.getLon().asDegrees(),
                                          lonlat.getLat().asDegrees()))
        return sorted(found)


def from_config_text(text: str) -> tuple[str, RingsSkyMap]:
    """Read the sky map name and ring layout from a ``register-skymap`` config override.

    Parameters
    ----------
    text : `str`
        The content of the config file (``DC2.py``): ``config.name``,
        ``config.skyMap = "rings"``, ``config.skyMap["rings"].numRings`` and optionally
        ``raStart``.

    Returns
    -------
    name : `str`
        ``config.name``.
    skymap : `RingsSkyMap`
        The layout.

    Raises
    ------
    ValueError
        The file does not set the name, is not a rings sky map, or has no ``numRings``.
    """
    name = CONFIG_NAME.search(text)
    if not name:
        raise ValueError("it does not set config.name")
    kind = CONFIG_KIND.search(text)
    if not kind or kind.group(2) != "rings":
        raise ValueError("it is not a rings sky map (config.skyMap = \"rings\")")
    values = {}
    for field in ("numRings", "raStart"):
        match = re.search(CONFIG_FIELD.format(name=field), text, re.MULTILINE)
        if match:
            values[field] = _number(match.group(2))
    if "numRings" not in values:
        raise ValueError("it does not set config.skyMap[\"rings\"].numRings")
    return name.group(2), RingsSkyMap(int(values["numRings"]), values.get("raStart", 0.0))


def _number(text: str) -> float:
    """Evaluate a number or a simple quotient (``1.0 / 60``) of a config line."""
    text = text.split("#")[0].strip()
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den)
    return float(text)
