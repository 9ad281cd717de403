"""``butler ingest-raws``, simplified.

Stand-in for the LSST stack (obs_base ``RawIngestTask`` at v23 with the
obs_lsst imSim metadata translator), for tests only.

- LOCATIONS are files (always taken) or directories (searched recursively
  for file names matching ``--regex``, default ``\\.fit[s]?\\b``).
- Metadata come from the ``_index.json`` of each file's directory
  (astro_metadata_translator index, content ``metadata``); files missing
  from it fall back to their primary FITS header.  A header without one of
  the keys the imSim translator needs (TESTTYPE = 'IMSIM', RAFTNAME,
  SENSNAME, OBSID, RUNNUM, EXPTIME, DARKTIME, LSST_NUM, RATEL, DECTEL,
  ROTANGLE, FILTER, IMGTYPE, MJD-OBS) is a bad file: not ingested, and the
  command fails at the end.
- Per exposure (OBSID), in one database transaction: the ``day_obs``,
  ``group`` and ``exposure`` records (``syncDimensionData``) and one ``raw``
  dataset per file (dimensions instrument+exposure+detector, storage class
  ``Exposure``, formatter from the instrument's ``getRawFormatter``) with
  ``Butler.ingest`` and the ``--transfer`` mode, into ``--output-run``
  (default ``<instrument>/raw/all``).
- The v23 split: on daf_butler 23 the exposure record is committed first,
  in its own transaction, and the raws in a second one, as v23's
  ``RawIngestTask`` does, so an interruption can leave an exposure record
  without raws.  Other releases commit both together.  The environment
  variable ``STANDIN_INGEST_V23_SPLIT`` overrides the default: ``1`` splits,
  ``0`` does not, whatever the daf_butler version.
- Hold point, for interruption tests: with ``STANDIN_INGEST_HOLD_AT`` and
  ``STANDIN_INGEST_HOLD_FIFO`` set, the command stops at a known point and
  waits to be killed.  ``STANDIN_INGEST_HOLD_AT`` is

  - ``files:N``: as soon as at least N raw files of this command have been
    committed (files are committed an exposure at a time, so N is exact
    only at an exposure boundary);
  - ``record:N``: right after the Nth exposure record of this command is
    committed and before its raws (only reached with the v23 split).

  ``STANDIN_INGEST_HOLD_FIFO`` is the path of a FIFO that the test created.
  At the hold point (once per command) the command makes a second FIFO,
  ``<STANDIN_INGEST_HOLD_FIFO>.<pid>``, opens the first one for writing
  (blocking until the test opens it for reading), writes one line
  ``held <what> <pid>`` (``<what>`` as given, e.g. ``held files:4 12345``),
  closes it, and then blocks, outside any transaction, until the test
  kills it, or releases it by opening and closing ``<fifo>.<pid>`` for
  writing (then the FIFO is removed and the ingest goes on).  Several
  commands may share one FIFO: each line is written at once.  If the hold
  point is never reached nothing is written and the command ends normally.
- Options of later releases that the real parser accepts (``--fail-fast``
  is honoured, as ``-c failFast=True``; ``--skip-existing``,
  ``--update-records``, ``--track-file-attrs``, ``--search-indexes``) are
  accepted but do not change the v23 behaviour below.
- Like v23, an exposure whose raws are already there fails, the others are
  still ingested, and the command ends with
  ``RuntimeError: Some failures encountered during ingestion``.
  ``-c failFast=True`` stops at the first failure instead.
- ``-j`` reads the metadata with that many threads; the database work is
  serial.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astro_metadata_translator.indexing import read_index
from astropy.time import Time, TimeDelta
from lsst.daf.butler import (
    Butler,
    CollectionType,
    DatasetType,
    FileDataset,
    Timespan,
)
from lsst.pex.config import Config, Field

from ._common import (
    apply_overrides,
    daf_butler_major,
    fit_record,
    has_element,
    ingest_datasets,
    make_ref,
    missing_dataset_type_errors,
    open_butler,
    universe_of,
)
from .instrument import get_instrument

log = logging.getLogger("lsst.standins.ingest")

FITS_RE = r"\.fit[s]?\b"
INDEX_NAME = "_index.json"
REQUIRED_KEYS = (
    "TESTTYPE",
    "RAFTNAME",
    "SENSNAME",
    "OBSID",
    "RUNNUM",
    "EXPTIME",
    "DARKTIME",
    "LSST_NUM",
    "RATEL",
    "DECTEL",
    "ROTANGLE",
    "FILTER",
    "IMGTYPE",
    "MJD-OBS",
)
TRANSLATED_INSTRUMENTS = {"IMSIM": "LSSTCam-imSim"}


class RawIngestConfig(Config):
    """The fields of obs_base's ``RawIngestConfig`` that matter here."""

    transfer = Field(dtype=str, default="auto", optional=True, doc="Transfer mode")
    failFast = Field(dtype=bool, default=False, doc="Stop at the first failure")


@dataclass
class RawFile:
    """One raw file and what its header says."""

    path: str
    instrument: str
    exposure: int
    detector_name: str
    exposure_values: dict[str, Any]


@dataclass
class RawExposure:
    """The files of one exposure."""

    instrument: str
    exposure: int
    values: dict[str, Any]
    files: list[RawFile] = field(default_factory=list)


class TranslationError(ValueError):
    """A header that the stand-in imSim translator cannot use."""


def find_files(locations: Iterable[str], regex: str) -> list[str]:
    """Files named in LOCATIONS plus matching files under its directories."""
    pattern = re.compile(regex)
    found: set[str] = set()
    for location in locations:
        path = Path(location)
        if path.is_dir():
            for dirpath, _dirnames, filenames in os.walk(path):
                for name in filenames:
                    if pattern.search(name):
                        found.add(os.path.abspath(os.path.join(dirpath, name)))
        elif path.exists():
            found.add(os.path.abspath(path))
        else:
            raise FileNotFoundError(f"Location {location} does not exist")
    return sorted(found)


def _day_obs(begin: Time) -> int:
    shifted = (begin - TimeDelta(12 * 3600, format="sec")).tai.datetime
    return int(shifted.strftime("%Y%m%d"))


def translate(header: dict[str, Any], path: str) -> RawFile:
    """Turn an imSim header into exposure values, like the imSim translator."""
    missing = [key for key in REQUIRED_KEYS if header.get(key) is None]
    if missing:
        raise TranslationError(f"{path}: header lacks {', '.join(missing)}")
    instrument = TRANSLATED_INSTRUMENTS.get(str(header["TESTTYPE"]).strip().upper())
    if instrument is None:
        raise TranslationError(
            f"{path}: no metadata translator for TESTTYPE={header['TESTTYPE']!r}"
        )
    physical_filter = str(header["FILTER"]).strip()
    for key, value in header.items():
        if key.startswith("PKG") and str(value).strip() == "throughputs":
            version = header.get("VER" + key[3:])
            if version is not None:
                physical_filter = f"{physical_filter}_sim_{str(version).strip()}"
            break
    exposure = int(header["OBSID"])
    begin = Time(float(header["MJD-OBS"]), format="mjd", scale="tai")
    end = begin + TimeDelta(float(header["EXPTIME"]), format="sec")
    imgtype = str(header["IMGTYPE"]).strip().upper()
    science = imgtype == "SKYEXP"
    airmass = header.get("AIRMASS", header.get("AMSTART"))
    zenith = None
    if airmass is not None and float(airmass) >= 1.0:
        zenith = math.degrees(math.acos(1.0 / float(airmass)))
    values = {
        "id": exposure,
        "obs_id": str(header["OBSID"]),
        "physical_filter": physical_filter,
        "group": str(exposure),
        "day_obs": _day_obs(begin),
        "exposure_time": float(header["EXPTIME"]),
        "dark_time": float(header["DARKTIME"]),
        "observation_type": "science" if science else imgtype.lower(),
        "observation_reason": "science" if science else "unknown",
        "seq_num": exposure,
        "seq_start": exposure,
        "seq_end": exposure,
        "target_name": "UNKNOWN",
        "science_program": str(header["RUNNUM"]),
        "tracking_ra": float(header["RATEL"]),
        "tracking_dec": float(header["DECTEL"]),
        "sky_angle": float(header["ROTANGLE"]),
        "azimuth": None,
        "zenith_angle": zenith,
        "has_simulated": True,
        "can_see_sky": science,
        "timespan": Timespan(begin, end),
    }
    detector = f"{str(header['RAFTNAME']).strip()}_{str(header['SENSNAME']).strip()}"
    return RawFile(path, instrument, exposure, detector, values)


def read_directory(directory: str, files: Sequence[str]) -> tuple[list[RawFile], list[str]]:
    """Metadata of the files of one directory: index first, FITS header second."""
    index: dict[str, Any] = {}
    index_path = os.path.join(directory, INDEX_NAME)
    if os.path.exists(index_path):
        try:
            index = dict(read_index(index_path, force_dict=True))
        except Exception as err:  # a broken index: fall back to the headers
            log.warning("Could not read index file %s: %s", index_path, err)
    good: list[RawFile] = []
    bad: list[str] = []
    for path in files:
        header = index.get(os.path.basename(path))
        try:
            if header is None:
                from astropy.io import fits

                header = dict(fits.getheader(path, 0))
            good.append(translate(dict(header), path))
        except Exception as err:
            log.warning("Could not extract observation metadata from %s: %s", path, err)
            bad.append(path)
    return good, bad


def read_metadata(files: Sequence[str], processes: int = 1) -> tuple[list[RawFile], list[str]]:
    by_dir: dict[str, list[str]] = defaultdict(list)
    for path in files:
        by_dir[os.path.dirname(path)].append(path)
    with ThreadPoolExecutor(max_workers=max(1, processes)) as pool:
        results = list(pool.map(lambda item: read_directory(*item), sorted(by_dir.items())))
    good = [f for g, _ in results for f in g]
    bad = [f for _, b in results for f in b]
    return good, bad


def group_by_exposure(files: Iterable[RawFile]) -> list[RawExposure]:
    exposures: dict[tuple[str, int], RawExposure] = {}
    for raw in files:
        key = (raw.instrument, raw.exposure)
        if key not in exposures:
            exposures[key] = RawExposure(raw.instrument, raw.exposure, raw.exposure_values)
        exposures[key].files.append(raw)
    return [exposures[k] for k in sorted(exposures)]


def raw_dataset_type(butler: Butler) -> DatasetType:
    try:
        return butler.registry.getDatasetType("raw")
    except missing_dataset_type_errors():
        return DatasetType(
            "raw", ["instrument", "exposure", "detector"], "Exposure", universe=universe_of(butler)
        )


def _sync_exposure_records(butler: Butler, exposure: RawExposure) -> None:
    universe = universe_of(butler)
    values = dict(exposure.values, instrument=exposure.instrument)
    if has_element(universe, "day_obs") and "day_obs" in universe["exposure"].implied.names:
        day = values["day_obs"]
        start = Time(f"{str(day)[:4]}-{str(day)[4:6]}-{str(day)[6:]}T12:00:00", scale="tai")
        butler.registry.syncDimensionData(
            "day_obs",
            fit_record(
                universe,
                "day_obs",
                {
                    "instrument": exposure.instrument,
                    "id": day,
                    "timespan": Timespan(start, start + TimeDelta(86400, format="sec")),
                },
            ),
        )
    if has_element(universe, "group") and "group" in universe["exposure"].implied.names:
        butler.registry.syncDimensionData(
            "group",
            fit_record(
                universe, "group", {"instrument": exposure.instrument, "name": values["group"]}
            ),
        )
    butler.registry.syncDimensionData("exposure", fit_record(universe, "exposure", values))


def v23_split() -> bool:
    """Whether exposure records are committed before their raws (see module doc)."""
    value = os.environ.get("STANDIN_INGEST_V23_SPLIT", "").strip()
    if value:
        return value != "0"
    return daf_butler_major() == 23


class HoldPoint:
    """The ``STANDIN_INGEST_HOLD_AT`` / ``STANDIN_INGEST_HOLD_FIFO`` hold point."""

    def __init__(self, spec: str | None, fifo: str | None):
        self.spec = (spec or "").strip()
        self.fifo = fifo
        self.kind = ""
        self.count = 0
        self.fired = False
        if not self.spec:
            return
        kind, _, number = self.spec.partition(":")
        if kind not in ("files", "record") or not number.strip().isdigit():
            raise ValueError(f"STANDIN_INGEST_HOLD_AT={self.spec!r}: expected files:N or record:N")
        if not fifo:
            raise ValueError("STANDIN_INGEST_HOLD_AT is set but STANDIN_INGEST_HOLD_FIFO is not")
        self.kind = kind
        self.count = int(number)

    @classmethod
    def from_environment(cls) -> HoldPoint:
        return cls(
            os.environ.get("STANDIN_INGEST_HOLD_AT"), os.environ.get("STANDIN_INGEST_HOLD_FIFO")
        )

    def check(self, kind: str, done: int) -> None:
        """Hold (once) if ``done`` items of ``kind`` reach the hold point.

        Announces ``held <spec> <pid>`` on the FIFO, then waits until the test opens and
        closes the release FIFO ``<fifo>.<pid>`` (made here before the announcement), or
        kills the process.
        """
        if self.kind != kind or done < self.count or self.fired:
            return
        self.fired = True
        assert self.fifo is not None
        release = f"{self.fifo}.{os.getpid()}"
        os.mkfifo(release)
        log.info("Holding at %s (pid %d) until released or killed", self.spec, os.getpid())
        with open(self.fifo, "w") as stream:  # blocks until the test reads
            stream.write(f"held {self.spec} {os.getpid()}\n")
        with open(release) as stream:  # blocks until the test releases
            stream.read()
        os.unlink(release)
        log.info("Released at %s (pid %d)", self.spec, os.getpid())


def ingest_raws(
    repo: str,
    locations: Sequence[str],
    regex: str = FITS_RE,
    output_run: str | None = None,
    config: dict[str, Any] | None = None,
    config_file: str | None = None,
    transfer: str = "auto",
    processes: int = 1,
    ingest_task: str = "lsst.obs.base.RawIngestTask",
    track_file_attrs: bool = True,
    fail_fast: bool = False,
    update_records: bool = False,
    skip_existing: bool = False,
    search_indexes: bool = True,
) -> None:
    """Ingest raws as ``butler ingest-raws`` does at v23 (stand-in).

    Parameters
    ----------
    repo, locations, regex, output_run, config, config_file, transfer, processes
        As obs_base's ``script.ingestRaws``.
    ingest_task, track_file_attrs, update_records, skip_existing, search_indexes
        Accepted and ignored (see the module docstring).
    fail_fast
        Stop at the first failure, like ``-c failFast=True``.
    """
    ingest_config = RawIngestConfig()
    ingest_config.transfer = transfer
    if config_file:
        ingest_config.load(config_file)
    if config:
        apply_overrides(ingest_config, config)
    if fail_fast:
        ingest_config.failFast = True
    split = v23_split()
    hold = HoldPoint.from_environment()

    files = find_files(locations, regex or FITS_RE)
    log.info("Found %d files", len(files))
    good, bad_files = read_metadata(files, processes)
    log.info(
        "Successfully extracted metadata from %d file(s) with %d failure(s)",
        len(good),
        len(bad_files),
    )
    exposures = group_by_exposure(good)

    n_exposures = n_exposures_failed = n_ingests_failed = n_refs = n_records = 0
    with open_butler(repo, writeable=True) as butler:
        dataset_type = raw_dataset_type(butler)
        butler.registry.registerDatasetType(dataset_type)
        instruments: dict[str, Any] = {}
        detectors: dict[str, dict[str, int]] = {}
        runs: set[str] = set()
        for exposure in exposures:
            name = exposure.instrument
            try:
                if name not in instruments:
                    instruments[name] = get_instrument(name, butler.registry)
                    detectors[name] = {
                        rec.full_name: rec.id
                        for rec in butler.registry.queryDimensionRecords(
                            "detector", instrument=name
                        )
                    }
                instr = instruments[name]
                this_run = output_run or instr.makeDefaultRawIngestRunName()
                if this_run not in runs:
                    butler.registry.registerCollection(this_run, type=CollectionType.RUN)
                    runs.add(this_run)
                datasets = []
                for raw in exposure.files:
                    if raw.detector_name not in detectors[name]:
                        raise LookupError(
                            f"{raw.path}: detector {raw.detector_name} is not registered for {name}"
                        )
                    data_id = {
                        "instrument": name,
                        "exposure": exposure.exposure,
                        "detector": detectors[name][raw.detector_name],
                    }
                    ref = make_ref(dataset_type, data_id, this_run)
                    datasets.append(
                        FileDataset(
                            path=raw.path, refs=[ref], formatter=instr.getRawFormatter(data_id)
                        )
                    )
            except Exception as err:
                n_exposures_failed += 1
                log.warning(
                    "Exposure %s:%s could not be registered: %s", name, exposure.exposure, err
                )
                if ingest_config.failFast:
                    raise
                continue
            if split:
                try:
                    with butler.transaction():
                        _sync_exposure_records(butler, exposure)
                except Exception as err:
                    n_exposures_failed += 1
                    log.warning(
                        "Exposure %s:%s could not be registered: %s", name, exposure.exposure, err
                    )
                    if ingest_config.failFast:
                        raise
                    continue
                n_records += 1
                hold.check("record", n_records)
            try:
                with butler.transaction():
                    if not split:
                        _sync_exposure_records(butler, exposure)
                    ingest_datasets(
                        butler, *datasets, transfer=ingest_config.transfer, run=this_run
                    )
            except Exception as err:
                n_ingests_failed += 1
                log.warning("Failed to ingest the following for reason: %s", err)
                for raw in exposure.files:
                    log.warning("- %s", raw.path)
                if ingest_config.failFast:
                    raise
                continue
            if not split:
                n_records += 1
            n_exposures += 1
            n_refs += len(datasets)
            log.info("Exposure %s:%s ingested successfully", name, exposure.values["obs_id"])
            hold.check("files", n_refs)

    had_failure = bool(bad_files)
    if bad_files:
        log.warning("Could not extract observation metadata from the following:")
        for path in bad_files:
            log.warning("- %s", path)
    log.info(
        "Successfully processed data from %d exposure(s) with %d failure(s) from exposure"
        " registration and %d failure(s) from file ingest.",
        n_exposures,
        n_exposures_failed,
        n_ingests_failed,
    )
    if n_exposures_failed > 0 or n_ingests_failed > 0:
        had_failure = True
    log.info("Ingested %d distinct Butler dataset(s)", n_refs)
    if had_failure:
        raise RuntimeError("Some failures encountered during ingestion")
