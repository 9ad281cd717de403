"""Make a repository whose calibrations are stored in place (absolute paths), as the
source of DP0.2's calibrations was: two bias datasets (detectors 94 and 95), certified in
CALIBRATION collection 2.2i/calib/gen2 under the chain 2.2i/calib.

Run with the Python of the runtime under test (daf_butler 23 or current):
``python _calib_source_repo.py REPO FILES_DIR``. Prints the number of datasets.
"""

from __future__ import annotations

import json
import os
import sys

from astropy.time import Time
from lsst.daf.butler import Butler, CollectionType, DatasetRef, DatasetType, FileDataset, Timespan

root, files = sys.argv[1], sys.argv[2]
Butler.makeRepo(root)
run = "2.2i/calib/gen2/20220101T000000Z"
b = Butler(root, writeable=True, run=run)
r = b.registry
r.insertDimensionData("instrument", {"name": "LSSTCam-imSim", "detector_max": 1000})
r.insertDimensionData("detector", *[{"instrument": "LSSTCam-imSim", "id": i, "full_name": n,
                                     "name_in_raft": n[4:], "raft": n[:3], "purpose": "SCIENCE"}
                                    for i, n in ((94, "R22_S11"), (95, "R22_S12"))])
dt = DatasetType("bias", ("instrument", "detector"), "StructuredDataDict",
                 universe=r.dimensions, isCalibration=True)
r.registerDatasetType(dt)
os.makedirs(files, exist_ok=True)
datasets = []
for det in (94, 95):
    path = os.path.join(os.path.abspath(files), f"bias-{det}.json")
    with open(path, "w") as f:
        json.dump({"detector": det}, f)
    data_id = r.expandDataId(instrument="LSSTCam-imSim", detector=det)
    try:
        ref = DatasetRef(dt, data_id, run=run)
    except Exception:  # daf_butler 23: a run needs an id; ingest resolves it
        ref = DatasetRef(dt, data_id)
    datasets.append(FileDataset(path=path, refs=[ref],
                                formatter="lsst.daf.butler.formatters.json.JsonFormatter"))
b.ingest(*datasets, transfer="direct")
refs = list(r.queryDatasets("bias", collections=[run]))
r.registerCollection("2.2i/calib/gen2", CollectionType.CALIBRATION)
r.certify("2.2i/calib/gen2", refs, Timespan(Time("2022-01-01", scale="tai"),
                                           Time("2032-01-01", scale="tai")))
r.registerCollection("2.2i/calib", CollectionType.CHAINED)
r.setCollectionChain("2.2i/calib", ["2.2i/calib/gen2"])
print(len(refs))
