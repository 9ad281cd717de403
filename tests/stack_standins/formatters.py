"""A read-only formatter for raw FITS files.

Stand-in for the LSST stack (obs_lsst's raw formatter), for tests only.
daf_butler's own formatters do not accept the ``.fits`` extension, which
the datastore checks for every transfer mode except ``direct``; this
formatter declares it.  Reading returns the primary FITS header as a
``dict``, not an ``lsst.afw.image.Exposure``: the ``raw`` dataset type keeps
the real ``Exposure`` storage class, whose Python type is not installed in
the lite runtime, so ``butler.get("raw", ...)`` is not supported there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lsst.daf.butler import FormatterV2

__all__ = ["StandinRawFormatter"]


class StandinRawFormatter(FormatterV2):
    """Accepts raw FITS files at ingest; reads back their primary header."""

    default_extension = ".fits"
    supported_extensions: ClassVar[frozenset[str]] = frozenset({".fits", ".fit", ".fz", ".fits.fz"})
    can_read_from_local_file = True

    def read_from_local_file(
        self, path: str, component: str | None = None, expected_size: int = -1
    ) -> Any:
        from astropy.io import fits

        return dict(fits.getheader(path, 0))
