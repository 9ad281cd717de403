"""Tests of the LSST stack stand-ins (``tests/stack_standins``).

The stand-ins replace, for tests only, the stack commands that the lite
runtime lacks (write-curated-calibrations, register-skymap, ingest-raws,
define-visits) and obs_lsst's instrument class.  These tests build a small
miniature tree, create a real SQLite repository and drive the real
``butler`` command with the plugin enabled, then check the repository with
daf_butler's Python API.

The commands use the real obs_base/pipe_tasks click parsers (``stack-cli``):
parsing is checked on this runtime and on the v23 runtime (``.venv-v23``, see
``tests/runtimes.py`` for when it is skipped).  The ingest hold point
(``STANDIN_INGEST_HOLD_AT``) is checked
by killing a held ``ingest-raws`` and reading the registry it left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PY_DIR = ROOT / "py"
PLUGIN = ROOT / "tests" / "stack_standins" / "resources.yaml"
INSTRUMENT_CLASS = "tests.stack_standins.instrument.MiniLsstCamImSim"
INSTRUMENT = "LSSTCam-imSim"
RAW_RUN = "LSSTCam-imSim/raw/all"
CALIB = "LSSTCam-imSim/calib"
V23_FAILURE = "RuntimeError: Some failures encountered during ingestion"
STANDIN_COMMANDS = ("write-curated-calibrations", "register-skymap", "ingest-raws", "define-visits")

if str(PY_DIR) not in sys.path:
    sys.path.insert(0, str(PY_DIR))
sys.path.insert(0, str(ROOT / "tests"))
import holdpoint  # noqa: E402
import runtimes  # noqa: E402

butler_mod = pytest.importorskip("lsst.daf.butler")


def butler_exe() -> str:
    local = ROOT / ".venv" / "bin" / "butler"
    if local.exists():
        return str(local)
    found = shutil.which("butler")
    if found is None:
        pytest.skip("no butler command")
    return found


def plugin_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DAF_BUTLER_PLUGINS"] = str(PLUGIN)
    parts = [str(ROOT), str(PY_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.pop("STANDIN_INGEST_V23_SPLIT", None)
    env.pop("STANDIN_SKYMAP_TRACTS", None)
    return env


def run_butler(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [butler_exe(), *args],
        env=plugin_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_fallback_tree(top: Path) -> None:
    """Two years of 2 visits x 2 sensors: index files and header-only FITS files."""
    import mini_camera as cam
    from astropy.io import fits

    sensors = ["R22_S11", "R22_S12"]
    for year, visits in ((1, (35834, 463523)), (2, (635284, 1016594))):
        for n, visit in enumerate(visits):
            band = cam.BANDS[(visit + n) % len(cam.BANDS)]
            vdir = top / "raw" / f"y{year}-wfd" / f"{visit:08d}"
            vdir.mkdir(parents=True)
            common = {
                "TESTTYPE": "IMSIM",
                "IMGTYPE": "SKYEXP",
                "OBSID": str(visit),
                "RUNNUM": visit,
                "MJD-OBS": 59853.3 + 200 * (year - 1) + n,
                "EXPTIME": 30.0,
                "DARKTIME": 30.0,
                "FILTER": band,
                "RADESYS": "ICRS",
                "RATEL": 60.0 + n,
                "DECTEL": -35.0,
                "ROTANGLE": 10.0,
                "AIRMASS": 1.1,
                "PKG00": "throughputs",
                "VER00": cam.THROUGHPUTS_VERSION,
                "RAFTNAME": "R22",
            }
            index: dict[str, Any] = {"__COMMON__": common, "__CONTENT__": "metadata"}
            for sensor in sensors:
                name = f"lsst_a_{visit:08d}_{sensor}_{band}.fits"
                extra = {
                    "SENSNAME": sensor[4:],
                    "CHIPID": sensor,
                    "LSST_NUM": cam.lsst_num(sensor),
                    "OUTFILE": name,
                }
                index[name] = extra
                header = fits.Header()
                for key, value in {**common, **extra}.items():
                    header[key] = value
                fits.PrimaryHDU(header=header).writeto(vdir / name)
            (vdir / "_index.json").write_text(json.dumps(index))
    sky = top / "skymaps"
    sky.mkdir()
    (sky / "DC2.py").write_text(
        'config.name = "DC2"\nconfig.skyMap = "rings"\nconfig.skyMap["rings"].numRings = 120\n'
        'config.skyMap["rings"].projection = "TAN"\n'
        'config.skyMap["rings"].tractOverlap = 1.0 / 60\n'
        'config.skyMap["rings"].pixelScale = 0.2\n'
    )


def make_tree(top: Path) -> None:
    generator = PY_DIR / "make_mini_inputs.py"
    if generator.exists():
        subprocess.run(
            [
                sys.executable,
                str(generator),
                "--out",
                str(top),
                "--years",
                "2",
                "--visits",
                "3",
                "--formatters",
                "lite",
                "--pixels",
                "4",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    else:
        write_fallback_tree(top)


def index_counts(year_dir: Path) -> dict[int, int]:
    """Raw files per exposure id, from the ``_index.json`` files of a year."""
    counts = {}
    for index in sorted(year_dir.glob("*/_index.json")):
        content = json.loads(index.read_text())
        files = [k for k in content if not k.startswith("__")]
        counts[int(index.parent.name)] = len(files)
    return counts


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build a repository with the stand-ins, keeping every command's result."""
    base = tmp_path_factory.mktemp("standins")
    top = base / "mini"
    make_tree(top)
    years = sorted(p for p in (top / "raw").iterdir() if p.is_dir())
    assert len(years) >= 2
    expected = {}
    for year in years[:2]:
        expected.update(index_counts(year))
    repo = base / "repo"
    r: dict[str, Any] = {"top": top, "repo": repo, "expected": expected}
    assert run_butler("create", str(repo)).returncode == 0
    # The --help checks do not touch the repository: run them side by side.
    helps = [(cmd, "--help") for cmd in (*STANDIN_COMMANDS, "register-instrument")] + [("--help",)]
    with ThreadPoolExecutor(max_workers=len(helps)) as pool:
        results = list(pool.map(lambda args: run_butler(*args), helps))
    r["help"] = {args[0]: result for args, result in zip(helps[:-1], results[:-1])}
    r["main_help"] = results[-1]
    r["instrument"] = [
        run_butler("register-instrument", str(repo), INSTRUMENT_CLASS) for _ in range(2)
    ]
    r["curated"] = [
        run_butler("write-curated-calibrations", str(repo), INSTRUMENT, "--collection", CALIB)
        for _ in range(2)
    ]
    dc2 = top / "skymaps" / "DC2.py"
    other = base / "other_skymap.py"
    other.write_text(dc2.read_text() + 'config.skyMap["rings"].numRings = 100\n')
    r["skymap"] = [run_butler("register-skymap", str(repo), "-C", str(dc2)) for _ in range(2)]
    r["skymap_conflict"] = run_butler("register-skymap", str(repo), "-C", str(other))

    y1_dirs = sorted(p for p in years[0].iterdir() if p.is_dir())
    y2_dirs = sorted(p for p in years[1].iterdir() if p.is_dir())
    # Year 1: a partial ingest, then only the remaining visit directories,
    # then the whole year again (every exposure already there: v23 failure).
    r["y1_first"] = run_butler("ingest-raws", "-t", "direct", str(repo), str(y1_dirs[0]))
    r["y1_rest"] = run_butler(
        "ingest-raws", "-t", "direct", "-j", "2", str(repo), *[str(d) for d in y1_dirs[1:]]
    )
    r["y1_again"] = run_butler("ingest-raws", "-t", "direct", str(repo), str(years[0]))
    # Year 2: the first visit read from FITS headers (its index removed),
    # then the whole year: the first exposure fails, the others get in.
    (y2_dirs[0] / "_index.json").unlink()
    r["y2_first"] = run_butler("ingest-raws", "-t", "copy", str(repo), str(y2_dirs[0]))
    r["y2_whole"] = run_butler("ingest-raws", "-t", "direct", str(repo), str(years[1]))
    r["visits"] = [run_butler("define-visits", str(repo), INSTRUMENT) for _ in range(2)]
    r["query_datasets"] = run_butler("query-datasets", str(repo), "raw", "--collections", RAW_RUN)
    return r


def open_butler(repo: Path) -> Any:
    return butler_mod.Butler.from_config(str(repo))


def test_plugin_commands_have_help(built: dict[str, Any]) -> None:
    for cmd, result in built["help"].items():
        assert result.returncode == 0, (cmd, result.stderr)
        assert "No such command" not in result.stderr
    assert built["main_help"].returncode == 0, built["main_help"].stderr
    assert "Duplicate commands" not in built["main_help"].stdout + built["main_help"].stderr
    for cmd in STANDIN_COMMANDS:
        assert cmd in built["main_help"].stdout


def test_register_instrument_is_rerunnable(built: dict[str, Any]) -> None:
    for result in built["instrument"]:
        assert result.returncode == 0, result.stderr
    import mini_camera as cam

    with open_butler(built["repo"]) as butler:
        detectors = {
            rec.id: rec.full_name
            for rec in butler.registry.queryDimensionRecords("detector", instrument=INSTRUMENT)
        }
        filters = {
            rec.name: rec.band
            for rec in butler.registry.queryDimensionRecords(
                "physical_filter", instrument=INSTRUMENT
            )
        }
    assert detectors[94] == "R22_S11" and detectors[95] == "R22_S12"
    assert len(detectors) == len(cam.all_sensor_names())
    assert filters == {cam.physical_filter(b): b for b in cam.BANDS}


def test_write_curated_calibrations(built: dict[str, Any]) -> None:
    first, second = built["curated"]
    assert first.returncode == 0, first.stderr
    assert second.returncode != 0
    assert "LSSTCam-imSim/calib/unbounded" in second.stderr
    from lsst.daf.butler import CollectionType

    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        assert reg.getCollectionType(CALIB) is CollectionType.CALIBRATION
        assert reg.getCollectionType(CALIB + "/unbounded") is CollectionType.RUN
        certified = list(reg.queryDatasets("camera", collections=CALIB, findFirst=False))
        assert len(certified) == 1


def test_register_skymap(built: dict[str, Any]) -> None:
    first, second = built["skymap"]
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    conflict = built["skymap_conflict"]
    assert conflict.returncode != 0
    assert "ConflictingDefinitionError" in conflict.stderr
    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        skymaps = list(reg.queryDimensionRecords("skymap"))
        assert [rec.name for rec in skymaps] == ["DC2"]
        assert skymaps[0].tract_max == 18938
        assert (skymaps[0].patch_nx_max, skymaps[0].patch_ny_max) == (7, 7)
        tracts = list(reg.queryDimensionRecords("tract", skymap="DC2"))
        assert tracts
        # Without STANDIN_SKYMAP_TRACTS (as in the container test and a plain make repo
        # with the stand-ins) the default selection must hold every tract the miniature
        # tree has a truth file for, or truth-summary refuses them.
        truth = sorted((built["top"] / "truth_summary" / "truth_parquet").glob("*.parq"))
        assert truth
        wanted = {int(p.stem.rsplit("tract", 1)[1]) for p in truth}
        assert wanted <= {int(rec.id) for rec in tracts}
        assert len(list(reg.queryDimensionRecords("patch", skymap="DC2"))) == 49 * len(tracts)
        assert len(list(reg.queryDatasets("skyMap", collections="skymaps"))) == 1


def test_ingest_raws(built: dict[str, Any]) -> None:
    for key in ("y1_first", "y1_rest", "y2_first"):
        assert built[key].returncode == 0, (key, built[key].stderr)
    for key in ("y1_again", "y2_whole"):
        assert built[key].returncode != 0, key
        assert V23_FAILURE in built[key].stderr, key
    expected = built["expected"]
    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        exposures = {
            rec.id: rec for rec in reg.queryDimensionRecords("exposure", instrument=INSTRUMENT)
        }
        raws = list(reg.queryDatasets("raw", collections=RAW_RUN))
        per_exposure: dict[int, int] = {}
        for ref in raws:
            per_exposure[ref.dataId["exposure"]] = per_exposure.get(ref.dataId["exposure"], 0) + 1
        uri = butler.getURI(raws[0])
    assert sorted(exposures) == sorted(expected)
    assert per_exposure == expected
    assert all(rec.observation_type == "science" for rec in exposures.values())
    assert all(rec.physical_filter.endswith("_sim_1.4") for rec in exposures.values())
    assert uri.exists()
    assert built["query_datasets"].returncode == 0, built["query_datasets"].stderr


def test_define_visits(built: dict[str, Any]) -> None:
    for result in built["visits"]:
        assert result.returncode == 0, result.stderr
    with open_butler(built["repo"]) as butler:
        reg = butler.registry
        exposures = {rec.id for rec in reg.queryDimensionRecords("exposure", instrument=INSTRUMENT)}
        visits = list(reg.queryDimensionRecords("visit", instrument=INSTRUMENT))
        definitions = {
            (rec.exposure, rec.visit)
            for rec in reg.queryDimensionRecords("visit_definition", instrument=INSTRUMENT)
        }
        regions = list(reg.queryDimensionRecords("visit_detector_region", instrument=INSTRUMENT))
    assert {rec.id for rec in visits} == exposures
    assert definitions == {(e, e) for e in exposures}
    assert len(regions) == sum(built["expected"].values())
    assert all(rec.region is not None for rec in visits)
    assert "0 new visit" in built["visits"][1].stderr


# --- the real obs_base / pipe_tasks parsers (stack-cli) -------------------

PLUGIN_V23 = ROOT / "tests" / "stack_standins" / "resources-v23.yaml"
TYPICAL_LINES = {
    "ingestRaws": (
        "ingest-raws",
        "--transfer",
        "direct",
        "-j",
        "4",
        "--output-run",
        "RUN",
        "REPO",
        "DIR",
    ),
    "defineVisits": ("define-visits", "--collections", "C", "REPO", "INSTR"),
    "writeCuratedCalibrations": (
        "write-curated-calibrations",
        "--collection",
        "C",
        "REPO",
        "INSTR",
    ),
    "registerSkymap": ("register-skymap", "-C", "FILE", "REPO"),
}
TYPICAL_KWARGS = {
    "ingestRaws": {
        "transfer": "direct",
        "processes": 4,
        "output_run": "RUN",
        "repo": "REPO",
        "locations": ["DIR"],
    },
    "defineVisits": {"collections": ["C"], "repo": "REPO", "instrument": "INSTR"},
    "writeCuratedCalibrations": {"collection": "C", "repo": "REPO", "instrument": "INSTR"},
    "registerSkymap": {"config_file": "FILE", "repo": "REPO"},
}


@pytest.fixture(scope="module")
def v23() -> Path:
    """The v23 runtime's venv (tests/runtimes.py: skipped without it, failed under CI)."""
    return runtimes.venv("v23")


def standin_env(v23_runtime: bool = False, **extra: str) -> dict[str, str]:
    """The plugin environment; with ``resources-v23.yaml`` for the v23 runtime."""
    env = plugin_env()
    for key in list(env):
        if key.startswith("STANDIN_"):
            del env[key]
    if v23_runtime:
        env["DAF_BUTLER_PLUGINS"] = os.pathsep.join([str(PLUGIN), str(PLUGIN_V23)])
        # Only the checkout: the lite runtime's site-packages must not leak in.
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(PY_DIR)])
    env.update(extra)
    return env


def run_in(
    butler: str, *args: str, v23_runtime: bool = False, **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [butler, *args],
        env=standin_env(v23_runtime, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def dry_runs(butler: str, v23_runtime: bool) -> dict[str, dict[str, Any]]:
    """Parse the typical command lines; return each stub call's kwargs."""

    def one(item: tuple[str, tuple[str, ...]]) -> tuple[str, Any]:
        function, line = item
        result = run_in(butler, *line, v23_runtime=v23_runtime, STANDIN_CLI_DRY_RUN="1")
        assert result.returncode == 0, (line, result.stderr)
        call = json.loads(result.stdout.strip().splitlines()[-1])
        assert call["function"] == function
        return function, call["kwargs"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, TYPICAL_LINES.items()))


def assert_typical_kwargs(calls: dict[str, dict[str, Any]]) -> None:
    for function, expected in TYPICAL_KWARGS.items():
        got = calls[function]
        assert {k: got.get(k) for k in expected} == expected, (function, got)


def test_current_parsers_accept_typical_lines_and_skip_existing() -> None:
    butler = butler_exe()
    calls = dry_runs(butler, v23_runtime=False)
    assert_typical_kwargs(calls)
    # Options of the current release reach the script function.
    assert calls["ingestRaws"]["skip_existing"] is True
    assert "prefix" in calls["writeCuratedCalibrations"]
    result = run_in(
        butler, "ingest-raws", "--skip-existing", "REPO", "DIR", STANDIN_CLI_DRY_RUN="1"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["kwargs"]["skip_existing"] is True
    # register-instrument stays pipe_base's real command, without a clash.
    help_ = run_in(butler, "register-instrument", "--help")
    assert help_.returncode == 0, help_.stderr
    assert "Duplicate commands" not in help_.stdout + help_.stderr


def test_v23_parsers_refuse_skip_existing(v23: Path) -> None:
    butler = str(v23 / "bin" / "butler")
    for command in (*STANDIN_COMMANDS, "register-instrument"):
        result = run_in(butler, command, "--help", v23_runtime=True)
        assert result.returncode == 0, (command, result.stderr)
    refused = run_in(butler, "ingest-raws", "--skip-existing", "REPO", "DIR", v23_runtime=True)
    assert refused.returncode == 2, refused.stderr
    assert "No such option" in refused.stderr
    calls = dry_runs(butler, v23_runtime=True)
    assert_typical_kwargs(calls)
    # obs_base 23 passes none of the later options.
    assert "skip_existing" not in calls["ingestRaws"]
    assert "where" not in calls["defineVisits"]
    assert "prefix" not in calls["writeCuratedCalibrations"]


def test_missing_stack_cli_is_one_clear_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "no-stack-cli"
    result = run_in(butler_exe(), "ingest-raws", "--help", STACK_CLI_DIR=str(missing))
    assert result.returncode == 1
    assert str(missing) in result.stderr
    assert "set STACK_CLI_DIR" in result.stderr


# --- the ingest hold point ---------------------------------------------------



@pytest.fixture(scope="module")
def hold_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One year of 2 visits x 2 sensors (4 raws, 2 exposures)."""
    top = tmp_path_factory.mktemp("hold") / "mini"
    subprocess.run(
        [
            sys.executable,
            str(PY_DIR / "make_mini_inputs.py"),
            "--out",
            str(top),
            "--years",
            "1",
            "--visits",
            "2",
            "--sensors",
            "R22_S11 R22_S12",
            "--formatters",
            "lite",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return top


def prepare_repo(butler: str, repo: Path, v23_runtime: bool) -> None:
    for args in (("create", str(repo)), ("register-instrument", str(repo), INSTRUMENT_CLASS)):
        result = run_in(butler, *args, v23_runtime=v23_runtime)
        assert result.returncode == 0, (args, result.stderr)


def read_hold_line(fifo: Path, proc: subprocess.Popen) -> str:
    """Read the hold line from the FIFO; '' if the process ended first."""
    lines = holdpoint.read_holds(fifo, proc)
    return lines[0] + "\n" if lines else ""


def ingest_until_hold(
    butler: str, repo: Path, tree: Path, hold_at: str, v23_runtime: bool, **extra: str
) -> tuple[str, subprocess.Popen]:
    """Start ingest-raws with a hold point; return the line read and the process."""
    fifo = repo.parent / f"hold-{hold_at.replace(':', '-')}.fifo"
    os.mkfifo(fifo)
    env = standin_env(
        v23_runtime,
        STANDIN_INGEST_HOLD_AT=hold_at,
        STANDIN_INGEST_HOLD_FIFO=str(fifo),
        **extra,
    )
    proc = subprocess.Popen(
        [butler, "ingest-raws", "-t", "direct", str(repo), str(tree / "raw")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = read_hold_line(fifo, proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return line, proc


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


REGISTRY_STATE = """
import json, sys
from lsst.daf.butler import Butler
butler = Butler(sys.argv[1])
reg = butler.registry
exposures = sorted(rec.id for rec in reg.queryDimensionRecords("exposure"))
raws = {}
if sys.argv[2] in set(reg.queryCollections()):
    for ref in reg.queryDatasets("raw", collections=sys.argv[2]):
        raws[ref.dataId["exposure"]] = raws.get(ref.dataId["exposure"], 0) + 1
print(json.dumps({"exposures": exposures, "raws": {str(k): v for k, v in raws.items()}}))
"""


def registry_state(python: Path, repo: Path) -> tuple[list[int], dict[int, int]]:
    """Exposure ids and raws per exposure, read with the runtime that wrote them."""
    result = subprocess.run(
        [str(python), "-c", REGISTRY_STATE, str(repo), RAW_RUN],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.strip().splitlines()[-1])
    return state["exposures"], {int(k): v for k, v in state["raws"].items()}


def tree_exposures(tree: Path) -> list[int]:
    return sorted(index_counts(tree / "raw" / "y1-wfd"))


def test_hold_at_files_current(hold_tree: Path, tmp_path: Path) -> None:
    butler = butler_exe()
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=False)
    line, proc = ingest_until_hold(butler, repo, hold_tree, "files:2", v23_runtime=False)
    try:
        assert line == f"held files:2 {proc.pid}\n", proc.stderr
    finally:
        kill(proc)
    exposures, raws = registry_state(Path(sys.executable), repo)
    first = tree_exposures(hold_tree)[0]
    # No v23 split on this release: records and raws come together.
    assert exposures == [first]
    assert raws == {first: 2}


def test_hold_then_release_goes_on(hold_tree: Path, tmp_path: Path) -> None:
    butler = butler_exe()
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=False)
    line, proc = ingest_until_hold(butler, repo, hold_tree, "files:1", v23_runtime=False)
    try:
        assert line == f"held files:1 {proc.pid}\n"
        release = repo.parent / f"hold-files-1.fifo.{proc.pid}"
        with open(release, "w"):  # the release FIFO exists: this open meets the stand-in's
            pass
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode == 0, stderr
    assert not release.exists()
    _, raws = registry_state(Path(sys.executable), repo)
    assert sum(raws.values()) == 4


def test_hold_point_never_reached_writes_nothing(hold_tree: Path, tmp_path: Path) -> None:
    butler = butler_exe()
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=False)
    # record:1 is a hold point of the v23 split only, off on this release.
    line, proc = ingest_until_hold(butler, repo, hold_tree, "record:1", v23_runtime=False)
    _, stderr = proc.communicate(timeout=120)
    assert line == ""
    assert proc.returncode == 0, stderr
    exposures, raws = registry_state(Path(sys.executable), repo)
    assert sum(raws.values()) == 4


def test_split_override_holds_between_record_and_raws(hold_tree: Path, tmp_path: Path) -> None:
    butler = butler_exe()
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=False)
    line, proc = ingest_until_hold(
        butler, repo, hold_tree, "record:2", v23_runtime=False, STANDIN_INGEST_V23_SPLIT="1"
    )
    try:
        assert line == f"held record:2 {proc.pid}\n", proc.stderr
    finally:
        kill(proc)
    first, second = tree_exposures(hold_tree)
    exposures, raws = registry_state(Path(sys.executable), repo)
    assert exposures == [first, second]
    assert raws == {first: 2}


def test_v23_split_is_the_default_record_hold(v23: Path, hold_tree: Path, tmp_path: Path) -> None:
    butler = str(v23 / "bin" / "butler")
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=True)
    line, proc = ingest_until_hold(butler, repo, hold_tree, "record:1", v23_runtime=True)
    try:
        assert line == f"held record:1 {proc.pid}\n", proc.stderr
    finally:
        kill(proc)
    first = tree_exposures(hold_tree)[0]
    exposures, raws = registry_state(v23 / "bin" / "python", repo)
    assert exposures == [first]
    assert raws == {}


def test_v23_hold_at_files(v23: Path, hold_tree: Path, tmp_path: Path) -> None:
    butler = str(v23 / "bin" / "butler")
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=True)
    line, proc = ingest_until_hold(butler, repo, hold_tree, "files:2", v23_runtime=True)
    try:
        assert line == f"held files:2 {proc.pid}\n", proc.stderr
    finally:
        kill(proc)
    first = tree_exposures(hold_tree)[0]
    exposures, raws = registry_state(v23 / "bin" / "python", repo)
    assert exposures == [first]
    assert raws == {first: 2}


V23_CHAIN_STATE = """
import json, sys
from lsst.daf.butler import Butler
reg = Butler(sys.argv[1]).registry
runs = {"camera": "LSSTCam-imSim/calib/unbounded", "skyMap": "skymaps", "raw": sys.argv[2]}
counts = {t: len(list(reg.queryDatasets(t, collections=run))) for t, run in runs.items()}
counts["visit"] = len(list(reg.queryDimensionRecords("visit")))
print(json.dumps(counts))
"""


def test_v23_chain(v23: Path, hold_tree: Path, tmp_path: Path) -> None:
    """Every stand-in runs on daf_butler 23, with the v23 rerun behaviour."""
    butler = str(v23 / "bin" / "butler")
    repo = tmp_path / "repo"
    prepare_repo(butler, repo, v23_runtime=True)
    steps = [
        ("write-curated-calibrations", "--collection", CALIB, str(repo), INSTRUMENT),
        ("register-skymap", "-C", str(hold_tree / "skymaps" / "DC2.py"), str(repo)),
        ("ingest-raws", "-t", "direct", "-j", "2", str(repo), str(hold_tree / "raw")),
        ("define-visits", "--collections", RAW_RUN, str(repo), INSTRUMENT),
    ]
    for args in steps:
        result = run_in(butler, *args, v23_runtime=True)
        assert result.returncode == 0, (args, result.stderr)
    again = run_in(butler, *steps[2], v23_runtime=True)
    assert again.returncode != 0
    assert V23_FAILURE in again.stderr
    state = subprocess.run(
        [str(v23 / "bin" / "python"), "-c", V23_CHAIN_STATE, str(repo), RAW_RUN],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert state.returncode == 0, state.stderr
    counts = json.loads(state.stdout.strip().splitlines()[-1])
    assert counts == {"camera": 1, "skyMap": 1, "raw": 4, "visit": 2}
