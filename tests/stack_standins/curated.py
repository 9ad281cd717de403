"""``butler write-curated-calibrations``, simplified.

Stand-in for the LSST stack (obs_base ``Instrument.writeCuratedCalibrations``
at v23), for tests only.  It writes what the toolkit's later steps rely on:

- the CALIBRATION collection (``--collection``, default
  ``<instrument>/calib[/<labels>]``);
- the RUN ``<instrument>/calib[/<labels>]/unbounded`` (named from the
  instrument and labels, not from ``--collection``, like the real command);
- one ``camera`` dataset (dimensions ``instrument``, storage class
  ``Camera``, a calibration dataset type) in that RUN, certified into the
  CALIBRATION collection with an unbounded validity range.  The file is a
  YAML description of the sensors (the real one is an afw Camera in FITS).

Like the real command, a second run fails: the ``camera`` dataset already
exists in the ``.../unbounded`` RUN and the registry refuses the duplicate.
The real command also writes curated defects and similar calibrations where
obs_lsst_data has them; this stand-in writes only the camera.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml
from lsst.daf.butler import (
    Butler,
    CollectionType,
    DatasetType,
    FileDataset,
    Timespan,
)
from lsst.daf.butler.registry import ConflictingDefinitionError

from ._common import (
    ingest_datasets,
    make_ref,
    missing_dataset_type_errors,
    open_butler,
    universe_of,
)
from .instrument import get_instrument

log = logging.getLogger("lsst.standins.curated")

CAMERA_FORMATTER = "lsst.daf.butler.formatters.yaml.YamlFormatter"


def camera_dataset_type(butler: Butler) -> DatasetType:
    """Return the ``camera`` dataset type: the registered one if any."""
    try:
        return butler.registry.getDatasetType("camera")
    except missing_dataset_type_errors():
        return DatasetType(
            "camera", ["instrument"], "Camera", isCalibration=True, universe=universe_of(butler)
        )


def write_curated_calibrations(
    repo: str, instrument: str, collection: str | None = None, labels: Sequence[str] = ()
) -> None:
    """Write the stand-in curated calibrations (the camera) of an instrument."""
    with open_butler(repo, writeable=True) as butler:
        instr = get_instrument(instrument, butler.registry)
        labels = tuple(labels)
        if collection is None:
            collection = instr.makeCalibrationCollectionName(*labels)
        butler.registry.registerCollection(collection, type=CollectionType.CALIBRATION)
        run = instr.makeUnboundedCalibrationRunName(*labels)
        butler.registry.registerRun(run)
        dataset_type = camera_dataset_type(butler)
        butler.registry.registerDatasetType(dataset_type)
        ref = make_ref(dataset_type, {"instrument": instr.getName()}, run)
        with tempfile.TemporaryDirectory(prefix="standin-camera-") as tmp:
            path = Path(tmp) / "camera.yaml"
            path.write_text(yaml.safe_dump(instr.getCamera(), sort_keys=False))
            try:
                with butler.transaction():
                    dataset = FileDataset(path=str(path), refs=[ref], formatter=CAMERA_FORMATTER)
                    ingest_datasets(butler, dataset, transfer="copy", run=run)
                    # dataset.refs: resolved in place by daf_butler 23's ingest.
                    butler.registry.certify(
                        collection, dataset.refs, Timespan(begin=None, end=None)
                    )
            except ConflictingDefinitionError as err:
                raise ConflictingDefinitionError(
                    "A database constraint failure was triggered by inserting one or more "
                    f"datasets of type {dataset_type} into collection '{run}'. This probably "
                    "means a dataset with the same data ID and dataset type already exists, but "
                    f"it may also mean a dimension row is missing. ({err})"
                ) from err
        log.info(
            "Wrote the camera of %s into %s, certified in %s", instr.getName(), run, collection
        )
