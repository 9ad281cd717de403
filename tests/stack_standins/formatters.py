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

__all__ = ["StandinRawFormatter"]


def _read_header(path: str) -> dict[str, Any]:
    from astropy.io import fits

    return dict(fits.getheader(path, 0))


try:
    from lsst.daf.butler import FormatterV2
except ImportError:  # daf_butler 23: only the original Formatter API
    from lsst.daf.butler import Formatter

    class StandinRawFormatter(Formatter):  # type: ignore[no-redef]
        """Accepts raw FITS files at ingest; reads back their primary header."""

        extension = ".fits"
        supportedExtensions: ClassVar[frozenset[str]] = frozenset(
            {".fits", ".fit", ".fz", ".fits.fz"}
        )

        def read(self, component: str | None = None) -> Any:
            return _read_header(self.fileDescriptor.location.path)

        def write(self, inMemoryDataset: Any) -> None:
            raise NotImplementedError("The stand-in raw formatter is read-only.")

else:

    class StandinRawFormatter(FormatterV2):  # type: ignore[no-redef]
        """Accepts raw FITS files at ingest; reads back their primary header."""

        default_extension = ".fits"
        supported_extensions: ClassVar[frozenset[str]] = frozenset(
            {".fits", ".fit", ".fz", ".fits.fz"}
        )
        can_read_from_local_file = True

        def read_from_local_file(
            self, path: str, component: str | None = None, expected_size: int = -1
        ) -> Any:
            return _read_header(path)
