"""End-to-end builds of the miniature repository with `make repo`, on both lite runtimes.

Every test that takes the ``runtime`` fixture (directly or through ``mini_tree``) runs
twice: on the current release (.venv) and on v23 (.venv-v23, daf_butler 23.0.0, Python
3.8); see tests/runtimes.py for when the v23 tier is skipped. The stack-only commands come
from the stand-ins under tests/stack_standins (tests only), behind the real v23 or current
command-line parsers; every butler call goes through the recording double
tests/doubles/butler, which forwards it to the runtime's real `butler` and counts it.
"""

from __future__ import annotations

import hashlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import demo  # noqa: E402
import holdpoint  # noqa: E402
import pgcluster  # noqa: E402
import runtimes  # noqa: E402

pg_cluster = pgcluster.pg_cluster

YEARS = demo.YEARS
VISITS = demo.VISITS
SENSORS = list(demo.SENSORS)

#: The directory of the session's shared stack-probe caches (see shared_stack_probe).
_STACK_PROBE_DIR: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def shared_stack_probe(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One stack-probe cache per runtime for the session's builds (STACK_PROBE_CACHE), as a
    CI pipeline would share one: each probe is five butler starts, with the same answer for
    every build of a runtime. test_one_stack_probe_per_build's build keeps its own."""
    _STACK_PROBE_DIR.append(tmp_path_factory.mktemp("stack-probe"))


@pytest.fixture(scope="session", params=runtimes.NAMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """The lite runtime of the build: ``current`` or ``v23``."""
    runtimes.venv(request.param)
    return request.param


def make_mini_tree(tmp_path_factory: pytest.TempPathFactory, runtime: str) -> Path:
    """Make the miniature input tree with a runtime's Python (lite formatters), as
    `make mini-inputs` in the container would."""
    runtimes.venv(runtime)
    out = tmp_path_factory.mktemp(f"inputs-{runtime}") / "dp0.2"
    demo.make_tree(runtime, out)
    return out


@pytest.fixture(scope="session")
def mini_tree(tmp_path_factory: pytest.TempPathFactory, runtime: str) -> Path:
    """The miniature input tree, made once per runtime by that runtime's Python."""
    return make_mini_tree(tmp_path_factory, runtime)


@pytest.fixture(scope="session")
def current_mini_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The miniature input tree of the current runtime, for tests that run on it alone."""
    return make_mini_tree(tmp_path_factory, "current")


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
                 namespace: str = "", extra_env: dict[str, str] | None = None,
                 runtime: str = "current") -> None:
        self.runtime = runtime
        self.venv = runtimes.venv(runtime)
        self.python = str(self.venv / "bin" / "python")
        self.base = base
        self.repo = base / "repo"
        self.state = base / "repo-state"
        self.calls = base / "butler-calls.log"
        self.env = demo.standin_env(runtime, inputs, self.repo, self.state,
                                    butler_log=self.calls)
        self.env.update({"ENV_FILE": str(base / "no.env"), "REGISTRY_DB": registry_db,
                         "REGISTRY_NAMESPACE": namespace})
        if _STACK_PROBE_DIR:
            self.env["STACK_PROBE_CACHE"] = str(_STACK_PROBE_DIR[0] / runtime)
        self.env.update(extra_env or {})
        self.inputs = inputs
        #: The PostgreSQL cluster of the registry (None: SQLite); see postgresql_build.
        self.pg = None

    def run_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of one make run.

        The register-skymap stand-in inserts tract records only for a few tracts (the real
        command inserts all 18938): unless told otherwise, those of the truth files of the
        inputs (as they are when make starts), so that truth-summary can ingest them.
        """
        full = {**self.env, **(env or {})}
        if ("STANDIN_SKYMAP_TRACTS" not in full
                and (self.inputs / "truth_summary" / "truth_parquet").is_dir()):
            full["STANDIN_SKYMAP_TRACTS"] = demo.skymap_tracts(self.inputs)
        return full

    def make(self, *targets: str, check: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run make in the toolkit with this build's settings."""
        result = subprocess.run(
            ["make", "-C", str(ROOT), "VENV=/nonexistent", *targets],
            env=self.run_env(env), capture_output=True, text=True, check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"make {' '.join(targets)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def popen(self, *targets: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start make in its own session; its output goes to ``self.output`` (a file, so
        that a held or killed build can never block on a full pipe)."""
        self.output = self.base / f"make-{len(list(self.base.glob('make-*.out')))}.out"
        with open(self.output, "w") as out:
            return subprocess.Popen(
                ["make", "-C", str(ROOT), "VENV=/nonexistent", *targets],
                env=self.run_env(env), stdout=out, stderr=subprocess.STDOUT,
                text=True, start_new_session=True,
            )

    def hold_all(self, count: int, hold_at: str,
                 *targets: str) -> tuple[subprocess.Popen, list[int]]:
        """Start make and wait until ``count`` ingest-raws stand-ins reach ``hold_at``.

        The stand-in announces its hold point (``STANDIN_INGEST_HOLD_AT``, e.g. ``files:2``
        or ``record:2``) with one line ``held <what> <pid>`` on a FIFO, then waits there
        until `release` (or a kill), so the test acts at that point whatever the machine's
        load. Returns make's process and the held pids; fails the test if make
        ends before ``count`` holds.
        """
        fifo = self.base / "hold.fifo"
        os.mkfifo(fifo)
        proc = self.popen(*targets, env={"STANDIN_INGEST_HOLD_AT": hold_at,
                                          "STANDIN_INGEST_HOLD_FIFO": str(fifo)})

        held = [int(line.split()[-1]) for line in holdpoint.read_holds(fifo, proc, count)]
        if len(held) < count:
            proc.wait()
            raise AssertionError(f"make {' '.join(targets)} ended before {count} hold(s) at "
                                 f"{hold_at}:\n{self.output.read_text()}")
        return proc, held

    def release(self, pid: int) -> None:
        """Let a held stand-in go on."""
        holdpoint.release(self.base / "hold.fifo", pid)

    def kill_at_hold(self, hold_at: str, *targets: str) -> None:
        """Run make until an ingest-raws stand-in reaches ``hold_at``, then SIGKILL it all."""
        proc, _held = self.hold_all(1, hold_at, *targets)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def wait_for_output(self, text: str, proc: subprocess.Popen) -> str:
        """Wait until make's output holds ``text`` (the condition, not a duration)."""
        with open(self.output) as out:
            seen = ""
            while text not in seen:
                chunk = out.read()
                if not chunk:
                    assert proc.poll() is None, f"make ended without printing {text!r}:\n{seen}"
                    select.select([], [], [], 0.1)  # no inotify in the standard library
                seen += chunk
        return seen

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
            [self.python, "-c", code, str(self.repo)],
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
            [self.python, "-c", code, str(self.repo)],
            env=self.env, capture_output=True, text=True, check=True,
        )
        return json.loads(result.stdout)


def postgresql_build(base: Path, inputs: Path, pg_cluster, namespace: str, runtime: str,
                     extra_env: dict[str, str] | None = None) -> Build:
    """A build on the throwaway PostgreSQL cluster, in its own registry namespace (schema),
    with the password in a db-auth file (mode 600) under ``base``."""
    auth = pg_cluster.write_db_auth(base / "db-auth.yaml")
    build = Build(base, inputs, registry_db=pg_cluster.url, namespace=namespace,
                  extra_env={"LSST_DB_AUTH": str(auth), **(extra_env or {})}, runtime=runtime)
    build.pg = pg_cluster
    return build


@pytest.fixture(scope="module")
def sqlite_build(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path,
                 runtime: str) -> Iterator[Build]:
    # The default RUNTIME=auto: the runtime is decided by probing the stack commands.
    build = Build(tmp_path_factory.mktemp(f"sqlite-{runtime}"), mini_tree, runtime=runtime,
                  extra_env={"RUNTIME": "auto"})
    # Its own stack probe (in STATE_DIR, the default), counted by test_one_stack_probe_per_build.
    build.env["STACK_PROBE_CACHE"] = str(build.state / ".stack-probe")
    build.before = checksums(mini_tree)
    build.first_output = build.make("repo").stderr
    yield build
