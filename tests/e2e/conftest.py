"""End-to-end builds of the miniature repository with `make repo`, on the lite runtime.

The stack-only commands come from the stand-ins under tests/stack_standins (tests only);
every butler call goes through the recording double tests/doubles/butler, which forwards
it to the real lite `butler` and counts it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import pgcluster  # noqa: E402

pg_cluster = pgcluster.pg_cluster

YEARS = 2
VISITS = 3
SENSORS = ["R22_S11", "R22_S12"]


@pytest.fixture(scope="session")
def mini_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The miniature input tree, made once (lite formatters), then made read-only."""
    out = tmp_path_factory.mktemp("inputs") / "dp0.2"
    subprocess.run(
        [sys.executable, str(ROOT / "py" / "make_mini_inputs.py"), "--out", str(out),
         "--years", str(YEARS), "--visits", str(VISITS), "--sensors", " ".join(SENSORS),
         "--formatters", "lite"],
        check=True, capture_output=True,
    )
    return out


def checksums(top: Path) -> dict[str, str]:
    """sha256 of every file under ``top``."""
    result = {}
    for path in sorted(top.rglob("*")):
        if path.is_file():
            result[str(path.relative_to(top))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


class Build:
    """One repository built by `make repo` in a scratch directory."""

    def __init__(self, base: Path, inputs: Path, registry_db: str = "",
                 namespace: str = "", extra_env: dict[str, str] | None = None) -> None:
        self.base = base
        self.repo = base / "repo"
        self.state = base / "repo-state"
        self.calls = base / "butler-calls.log"
        self.env = dict(os.environ)
        for key in list(self.env):
            if key.startswith(("DP02_", "MINI_", "REFCAT_", "RAW_", "STANDIN_")):
                del self.env[key]
        self.env.update({
            "PATH": f"{ROOT / 'tests' / 'doubles'}:{ROOT / '.venv' / 'bin'}:{self.env['PATH']}",
            "BUTLER_DOUBLE_REAL": str(ROOT / ".venv" / "bin" / "butler"),
            "BUTLER_DOUBLE_LOG": str(self.calls),
            "DAF_BUTLER_PLUGINS": str(ROOT / "tests" / "stack_standins" / "resources.yaml"),
            "PYTHONPATH": f"{ROOT}:{ROOT / 'py'}",
            "ENV_FILE": str(base / "no.env"),
            "PROFILE": "mini",
            "RUNTIME": "host",
            "DP02_TOP": str(inputs),
            "MINI_DIR": str(inputs),
            "REPO": str(self.repo),
            "STATE_DIR": str(self.state),
            "RAW_YEARS": " ".join(f"y{i}-wfd" for i in range(1, YEARS + 1)),
            "INSTRUMENT_CLASS": "tests.stack_standins.instrument.MiniLsstCamImSim",
            "REFCAT_FORMATTER": "lsst.daf.butler.formatters.astropyTable.AstropyTableFormatter",
            "REGISTRY_DB": registry_db,
            "REGISTRY_NAMESPACE": namespace,
        })
        self.env.update(extra_env or {})

    def make(self, *targets: str, check: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run make in the toolkit with this build's settings."""
        result = subprocess.run(
            ["make", "-C", str(ROOT), "VENV=/nonexistent", *targets],
            env={**self.env, **(env or {})}, capture_output=True, text=True, check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"make {' '.join(targets)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def popen(self, *targets: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            ["make", "-C", str(ROOT), "VENV=/nonexistent", *targets],
            env={**self.env, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )

    def butler_calls(self) -> list[str]:
        if not self.calls.exists():
            return []
        return [line for line in self.calls.read_text().splitlines() if line.strip()]

    def raw_count(self) -> int:
        """Raws in the raw collection so far (0 before the repository exists)."""
        if not (self.repo / "butler.yaml").exists():
            return 0
        code = (
            "import sys\nfrom lsst.daf.butler import Butler\nr = Butler(sys.argv[1]).registry\n"
            "try:\n"
            "    print(len(set(r.queryDatasets('raw', collections=['LSSTCam-imSim/raw/all']))))\n"
            "except Exception:\n    print(0)\n"
        )
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", code, str(self.repo)],
            env=self.env, capture_output=True, text=True, check=False,
        )
        return int(result.stdout.strip() or 0)

    def dump(self) -> dict:
        """Collections, their types and per-dataset-type counts, chains, record counts."""
        code = r"""
import json, sys
from lsst.daf.butler import Butler, CollectionType
b = Butler(sys.argv[1])
r = b.registry
out = {"collections": {}, "records": {}}
types = [dt.name for dt in r.queryDatasetTypes()]
for name in sorted(r.queryCollections()):
    ctype = r.getCollectionType(name)
    entry = {"type": ctype.name}
    if ctype == CollectionType.CHAINED:
        entry["children"] = list(r.getCollectionChain(name))
    else:
        counts = {}
        for dt in types:
            n = len(set(r.queryDatasets(dt, collections=[name], findFirst=False)))
            if n:
                counts[dt] = n
        entry["datasets"] = counts
    out["collections"][name] = entry
for element in ("instrument", "detector", "physical_filter", "exposure", "visit", "skymap"):
    out["records"][element] = len(list(r.queryDimensionRecords(element)))
print(json.dumps(out, sort_keys=True))
"""
        import json

        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", code, str(self.repo)],
            env=self.env, capture_output=True, text=True, check=True,
        )
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def sqlite_build(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path) -> Iterator[Build]:
    build = Build(tmp_path_factory.mktemp("sqlite"), mini_tree)
    build.before = checksums(mini_tree)
    build.first = build.make("repo")
    yield build
