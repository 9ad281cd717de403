"""`make repo` end to end on SQLite and PostgreSQL: build, rerun, lost stamps, SIGKILL,
concurrent years, read-only inputs, no password anywhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, SENSORS, VISITS, YEARS, Build, checksums, postgresql_build

sys.path.insert(0, str(ROOT / "py"))
import demo  # noqa: E402
from repo_state import export_counts  # noqa: E402

CHILDREN = ["LSSTCam-imSim/raw/all", "2.2i/calib", "skymaps", "refcats", "2.2i/truth_summary"]


def expected(inputs: Path) -> dict:
    """What the settings and the input tree imply (no literals)."""
    calibs: Counter = Counter()
    for (dataset_type, _run), n in export_counts(inputs / "calib" / "export.yaml").items():
        calibs[dataset_type] += n
    return {
        "exposures": YEARS * VISITS,
        "raws": YEARS * VISITS * len(SENSORS),
        "refcats": len(list((inputs / "refcats" / "cal_ref_cat").glob("*.fits"))),
        "truth": len(list((inputs / "truth_summary" / "truth_parquet").glob("*.parq"))),
        "calibs": dict(calibs),
    }


def check_contents(dump: dict, inputs: Path) -> None:
    want = expected(inputs)
    cols = dump["collections"]
    assert cols["2.2i/defaults"] == {"type": "CHAINED", "children": CHILDREN}
    assert cols["LSSTCam-imSim/raw/all"]["datasets"] == {"raw": want["raws"]}
    assert cols["refcats"]["datasets"] == {"cal_ref_cat_2_2": want["refcats"]}
    assert want["truth"] > 0
    assert cols["2.2i/truth_summary"] == {"type": "RUN",
                                          "datasets": {"truth_summary": want["truth"]}}
    assert dump["records"]["exposure"] == want["exposures"]
    assert dump["records"]["visit"] == want["exposures"]
    assert "LSSTCam-imSim/calib" in cols
    assert cols["2.2i/calib"]["type"] == "CHAINED"
    found: Counter = Counter()
    for name, entry in cols.items():
        if name.startswith("2.2i/calib/") and entry["type"] == "RUN":
            found.update(entry["datasets"])
    assert dict(found) == want["calibs"]


def ps_args() -> str:
    """The command line of every process on the machine."""
    return subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pg_build(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path, pg_cluster,
             runtime: str) -> Build:
    """`make -j2 repo` on PostgreSQL with the years' ingests held together mid-way.

    Both years' ingest-raws hold after their first raw, so both are mid-ingest at once (the
    years run concurrently); then both are let go. The command line of every process is
    sampled until make ends (``seen_args``), for the password check.
    """
    base = tmp_path_factory.mktemp(f"pg-{runtime}")
    # One namespace per runtime: a session's tests share one cluster.
    build = postgresql_build(base, mini_tree, pg_cluster, f"dp02_e2e_{runtime}", runtime)
    build.before = checksums(mini_tree)
    proc, held = build.hold_all(2, "files:1", "-j2", "repo")
    build.seen_args = [ps_args()]
    build.ingests_at_once = sum("ingest-raws" in line for line in build.seen_args[0].splitlines())
    for pid in held:
        build.release(pid)
    while proc.poll() is None:
        build.seen_args.append(ps_args())
    proc.wait()
    build.first_output = build.output.read_text()
    assert proc.returncode == 0, build.first_output
    return build


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def built(request: pytest.FixtureRequest, runtime: str) -> Build:
    """The complete miniature build on SQLite, then on PostgreSQL (of ``runtime``: named
    here so that each test's id says its runtime)."""
    return request.getfixturevalue("sqlite_build" if request.param == "sqlite" else "pg_build")


def fresh_like(build: Build, base: Path, name: str) -> Build:
    """A new, empty build with the runtime and the kind of registry of ``build``."""
    if build.pg is None:
        return Build(base, build.inputs, runtime=build.runtime)
    return postgresql_build(base, build.inputs, build.pg, f"dp02_{name}_{build.runtime}",
                            build.runtime)


def test_build_from_nothing(built: Build, mini_tree: Path) -> None:
    out = built.first_output
    assert "verify ... done" in out
    for step in ("create", "register-instrument", "import-calibs", "refcats", "raws-y1-wfd",
                 "visits", "truth-summary", "chain"):
        assert f"] {step} ... done in " in out, out
    check_contents(built.dump(), mini_tree)
    stamps = sorted(p.name for p in (built.state / "stamps").iterdir())
    steps = subprocess.run([str(ROOT / "bin" / "config"), "steps"], env=built.env,
                           capture_output=True, text=True, check=True).stdout.split()
    assert stamps == sorted(f"{s}.done" for s in steps)
    # A stand-in build says so, in each stamp and on the console.
    for stamp in (built.state / "stamps").iterdir():
        stack = [ln for ln in stamp.read_text().splitlines() if ln.startswith("stack: ")]
        assert stack and stack[0].endswith(f", {demo.STANDIN_NOTE}"), (stamp.name, stack)
    assert "] verify ... done in " in out and f"s ({demo.STANDIN_NOTE})" in out, out
    # create marked the repository for this STATE_DIR, so each step's first check asked no
    # registry (nothing of the step's can be there): recorded as attempts in the marker.
    marker = (built.repo / ".dp02-repo").read_text().splitlines()
    assert marker[0] == (built.state / "repo-id").read_text().strip()
    for step in ("import-calibs", "curated-calibs", "refcats", "raws-y1-wfd", "raws-y2-wfd",
                 "truth-summary"):
        assert f"attempt: {step}" in marker, marker
        log = (built.state / "logs" / f"{step}.log").read_text()
        assert "(new repository: registry not asked)" in log, (step, log)


def test_inputs_unchanged(built: Build, mini_tree: Path) -> None:
    assert checksums(mini_tree) == built.before


def test_one_stack_probe_per_build(sqlite_build: Build) -> None:
    # RUNTIME=auto asks for the stack's commands once (butler --help lists them), for the
    # runtime decision and every step: the answer is cached in STATE_DIR.
    probes = [c for c in sqlite_build.butler_calls() if c.endswith("--help")]
    assert probes == ["--help"], probes


def test_rerun_calls_no_butler(built: Build, tmp_path: Path) -> None:
    calls_before = len(built.butler_calls())
    assert calls_before > 0
    # With the default RUNTIME=auto, a build with nothing to do starts no Python at all
    # (and so no butler): python3 and python on PATH are tripwires that log and go on.
    tripwire = tmp_path / "bin"
    tripwire.mkdir()
    started = tmp_path / "python-started.log"
    for name in ("python3", "python"):
        (tripwire / name).write_text(
            f"#!/bin/sh\necho \"$0 $*\" >>{started}\nexec {built.python} \"$@\"\n")
        (tripwire / name).chmod(0o755)
    result = built.make("repo", env={
        "RUNTIME": "auto", "PATH": f"{tripwire}:{built.env['PATH']}"})
    assert len(built.butler_calls()) == calls_before
    assert not started.exists(), started.read_text()
    assert "Nothing to be done" in result.stdout


def test_lost_stamps_rerun_changes_nothing(built: Build, mini_tree: Path) -> None:
    before = built.dump()
    for stamp in (built.state / "stamps").iterdir():
        stamp.unlink()
    result = built.make("repo")
    for step in ("create", "import-calibs", "curated-calibs", "refcats", "raws-y1-wfd",
                 "raws-y2-wfd"):
        assert f"] {step} ... already done" in result.stderr, result.stderr
    n = expected(mini_tree)["refcats"]
    assert f"refcats ... already done ({n}/{n} in refcats)" in result.stderr
    t = expected(mini_tree)["truth"]
    assert f"truth-summary ... already done ({t}/{t} in 2.2i/truth_summary)" in result.stderr
    assert built.dump() == before
    # The second attempts asked the registry (the marker recorded the first ones).
    for step in ("import-calibs", "curated-calibs", "refcats", "raws-y1-wfd", "truth-summary"):
        log = (built.state / "logs" / f"{step}.log").read_text()
        assert "# registry check " in log and "registry not asked" not in log, (step, log)


# DP02_KILL_REPEAT=N runs the kill test N times in one session (to check it under load).
@pytest.mark.parametrize("attempt", range(int(os.environ.get("DP02_KILL_REPEAT", "1"))))
def test_sigkill_during_raws_then_resume(built: Build, tmp_path: Path, runtime: str,
                                         attempt: int) -> None:
    reference = built.dump()
    build = fresh_like(built, tmp_path, f"kill{attempt}")
    if runtime == "v23":
        # daf_butler 23 commits an exposure's record before its raws: kill in that window,
        # right after the second exposure's record (the first exposure is whole).
        build.kill_at_hold("record:2", "repo")
        dump = build.dump()
        assert dump["records"]["exposure"] == 2
        assert dump["collections"]["LSSTCam-imSim/raw/all"]["datasets"] == {"raw": len(SENSORS)}
    else:
        # Kill once the first exposure of y1 is in: ingest is under way, not finished.
        build.kill_at_hold(f"files:{len(SENSORS)}", "repo")
    assert not (build.state / "stamps" / "raws-y1-wfd.done").exists()
    status = build.make("status").stdout
    assert "raws-y1-wfd" in status and "interrupted" in status
    result = build.make("repo")
    assert "raws-y1-wfd ... done" in result.stderr
    todo = (build.state / "raws-y1-wfd.todo").read_text().split()
    assert 0 < len(todo) < VISITS  # only the visits not yet ingested were given to ingest-raws
    assert build.dump() == reference


# The refusal is the toolkit's own lock (flock in bin/lib/dp02.sh), the same on both
# releases: current only, to keep make test short.
@pytest.mark.parametrize("runtime", ["current"], indirect=True)
def test_sqlite_refuses_concurrent_writers(tmp_path: Path, mini_tree: Path,
                                           runtime: str) -> None:
    build = Build(tmp_path, mini_tree, runtime=runtime)
    build.make("refcats")
    # One year's ingest holds the registry lock (held at its first raw until killed);
    # the other year's step, started by -j2 beside it, must be refused.
    proc, held = build.hold_all(1, "files:1", "-j2", "raws")
    output = build.wait_for_output("SQLite takes one writer at a time", proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "PostgreSQL" in output
    # The refused step did nothing; a serial run finishes the raws (the later steps are
    # those of every build, tested by test_build_from_nothing).
    build.make("raws")
    assert build.raw_count() == expected(mini_tree)["raws"]


def test_postgresql_concurrent_years_and_no_password(pg_build: Build, sqlite_build: Build,
                                                     mini_tree: Path) -> None:
    assert pg_build.ingests_at_once >= 2
    check_contents(pg_build.dump(), mini_tree)
    assert pg_build.dump() == sqlite_build.dump()
    password = pg_build.pg.password
    assert not any(password in args for args in pg_build.seen_args)
    assert password not in pg_build.first_output
    for path in list(pg_build.state.rglob("*")) + list(pg_build.repo.rglob("*.yaml")):
        if path.is_file():
            assert password not in path.read_text(errors="replace"), path


def run_python(build: Build, code: str, *args: str) -> str:
    """Run code with the build's runtime Python and environment; return its stdout."""
    result = subprocess.run([build.python, "-c", code, *args], env=build.env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


# The read-back ends with os._exit: pyarrow's reader thread pool can abort the interpreter
# at shutdown ("terminate called without an active exception", apache/arrow#34314), seen
# once on the v23 runtime (pyarrow 17) after every table had been read and compared. The
# toolkit itself never reads Parquet data (check-inputs reads footers only).
READ_TRUTH = r"""
import os
import sys
import pandas as pd
from lsst.daf.butler import Butler
butler = Butler(sys.argv[1], collections=["2.2i/defaults"])
for path in sys.argv[2:]:
    tract = int(path.rsplit("tract", 1)[1].split(".")[0])
    got = butler.get("truth_summary", skymap="DC2", tract=tract)
    want = pd.read_parquet(path)
    assert isinstance(got, pd.DataFrame), type(got)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
    print(tract, len(got))
sys.stdout.flush()
os._exit(0)
"""


def test_truth_summary_read_back(sqlite_build: Build, mini_tree: Path) -> None:
    files = sorted(str(p) for p in (mini_tree / "truth_summary" / "truth_parquet").glob("*.parq"))
    out = run_python(sqlite_build, READ_TRUTH, str(sqlite_build.repo), *files)
    assert len(out.split("\n")) - 1 == len(files)
    # The table was re-rooted: the CSV of the tree names another site's paths.
    table = (sqlite_build.state / "truth-summary.ecsv").read_text()
    assert "/sps/lsst" in (mini_tree / "truth_summary" / "truth_tables.csv").read_text()
    assert "/sps/lsst" not in table
    assert str(mini_tree / "truth_summary" / "truth_parquet") in table


REMOVE_TRUTH = r"""
import sys
from lsst.daf.butler import Butler
butler = Butler(sys.argv[1], writeable=True)
refs = sorted(butler.registry.queryDatasets("truth_summary", collections=["2.2i/truth_summary"]),
              key=lambda r: r.dataId["tract"])
butler.pruneDatasets(refs[:2], disassociate=True, unstore=True, purge=True)
print(len(refs))
"""


def test_truth_summary_rerun_ingests_missing_rows(sqlite_build: Build) -> None:
    before = sqlite_build.dump()
    total = int(run_python(sqlite_build, REMOVE_TRUTH, str(sqlite_build.repo)))
    sqlite_build.make("reset", "STEP=truth-summary")
    result = sqlite_build.make("repo")
    assert "] truth-summary ... done in " in result.stderr, result.stderr
    remaining = (sqlite_build.state / "truth-summary-remaining.ecsv").read_text()
    assert len([line for line in remaining.splitlines()
                if line and not line.startswith("#")]) == 1 + 2  # header + the two removed
    log = (sqlite_build.state / "logs" / "truth-summary.log").read_text()
    assert f"{total - 2}/{total} in 2.2i/truth_summary" in log
    assert sqlite_build.dump() == before


SET_CHAIN = r"""
import sys
from lsst.daf.butler import Butler
Butler(sys.argv[1], writeable=True).registry.setCollectionChain(sys.argv[2], sys.argv[3:])
"""


def test_verify_names_a_collection_removed_from_the_chain(sqlite_build: Build) -> None:
    repo = str(sqlite_build.repo)
    run_python(sqlite_build, SET_CHAIN, repo, "2.2i/defaults", *CHILDREN[:-1])
    try:
        sqlite_build.make("reset", "STEP=verify")
        result = sqlite_build.make("verify", check=False)
        assert result.returncode != 0
        assert "collection 2.2i/truth_summary missing from chain 2.2i/defaults" in result.stderr
        report = (sqlite_build.state / "reports" / "verify.json").read_text()
        assert "collection 2.2i/truth_summary missing from chain 2.2i/defaults" in report
    finally:
        run_python(sqlite_build, SET_CHAIN, repo, "2.2i/defaults", *CHILDREN)
    sqlite_build.make("verify")
    assert "verify: 19 of 19 checks match" in \
        (sqlite_build.state / "reports" / "verify.txt").read_text()


def test_inspect_writes_its_reports_and_changes_nothing(sqlite_build: Build,
                                                        mini_tree: Path) -> None:
    before = sqlite_build.dump()
    calls = len(sqlite_build.butler_calls())
    result = sqlite_build.make("inspect")
    out = sqlite_build.state / "reports" / "inspect"
    assert sorted(p.name for p in out.iterdir()) == [
        "collections-tree.txt", "dataset-counts.txt", "dataset-types.txt",
        "records-detector.txt", "records-instrument.txt", "records-physical_filter.txt",
        "summary.txt"]
    assert "2.2i/truth_summary" in (out / "collections-tree.txt").read_text()
    assert "DataFrame" in (out / "dataset-types.txt").read_text()
    assert "u_sim_1.4" in (out / "records-physical_filter.txt").read_text()
    truth = expected(mini_tree)["truth"]
    assert f"truth_summary {truth}" in result.stderr
    assert f"2.2i/defaults = {' '.join(CHILDREN)}" in result.stderr
    # Five butler queries, no stamp, nothing changed.
    assert len(sqlite_build.butler_calls()) - calls == 5
    assert not (sqlite_build.state / "stamps" / "inspect.done").exists()
    assert sqlite_build.dump() == before


# The chain without its truth child depends on the settings, not on the release: current only.
@pytest.mark.parametrize("runtime", ["current"], indirect=True)
def test_build_without_truth_summary(tmp_path: Path, mini_tree: Path, runtime: str) -> None:
    build = Build(tmp_path, mini_tree, runtime=runtime, extra_env={"TRUTH_SUMMARY": "no"})
    result = build.make("repo")
    assert "truth-summary ... skipped (TRUTH_SUMMARY=no)" in result.stderr
    assert "verify ... done" in result.stderr
    cols = build.dump()["collections"]
    assert cols["2.2i/defaults"] == {"type": "CHAINED", "children": CHILDREN[:-1]}
    assert "2.2i/truth_summary" not in cols
    assert not any("truth_summary" in call for call in build.butler_calls())
