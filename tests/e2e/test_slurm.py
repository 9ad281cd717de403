"""`make repo SCHEDULER=slurm` on a real single-node Slurm cluster (tests/slurmcluster.py)
and the throwaway PostgreSQL registry: same registry as a local build, resume after a
scancel, refusals."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SENSORS, YEARS, Build, postgresql_build

sys.path.insert(0, str(ROOT / "tests"))
import runtimes  # noqa: E402
import slurmcluster  # noqa: E402

slurm_cluster = slurmcluster.slurm_cluster

#: 6 visits a year in chunks of 2: 3 array tasks per year.
VISITS = 6
CHUNK = 2


@pytest.fixture(scope="module")
def slurm_tree(tmp_path_factory: pytest.TempPathFactory, runtime: str) -> Path:
    """A miniature tree with VISITS visits a year."""
    out = tmp_path_factory.mktemp(f"slurm-inputs-{runtime}") / "dp0.2"
    subprocess.run(
        [runtimes.python(runtime), str(ROOT / "py" / "make_mini_inputs.py"), "--out", str(out),
         "--years", str(YEARS), "--visits", str(VISITS), "--sensors", " ".join(SENSORS),
         "--formatters", "lite"],
        check=True, capture_output=True,
    )
    return out


def pg_build(base: Path, tree: Path, pg_cluster, namespace: str, runtime: str,
             slurm: slurmcluster.SlurmCluster | None = None, **settings: str) -> Build:
    """A build on the throwaway PostgreSQL cluster, on Slurm when ``slurm`` is given."""
    env = {}
    if slurm is not None:
        env.update(slurm.env())
        env.update({"SCHEDULER": "slurm", "CHUNK_VISITS": str(CHUNK), "SLURM_CPUS": "1",
                    "SLURM_MEM": "200M", "SLURM_TIME": "10:00",
                    "SLURM_PARTITION": slurm.partition, "DP02_SLURM_POLL": "0.2"})
    env.update(settings)
    return postgresql_build(base, tree, pg_cluster, namespace, runtime, extra_env=env)


@pytest.fixture(scope="module")
def local_dump(tmp_path_factory: pytest.TempPathFactory, slurm_tree: Path, pg_cluster,
               runtime: str) -> dict:
    build = pg_build(tmp_path_factory.mktemp(f"slurm-local-{runtime}"), slurm_tree, pg_cluster,
                     f"slurm_local_{runtime}", runtime)
    build.make("repo")
    return build.dump()


def jobs(build: Build, year: str) -> list[str]:
    path = build.state / "slurm" / f"raws-{year}" / "jobs"
    return path.read_text().splitlines() if path.exists() else []


def test_slurm_build_same_registry_as_local(tmp_path: Path, slurm_tree: Path, pg_cluster,
                                            slurm_cluster, local_dump: dict,
                                            runtime: str) -> None:
    build = pg_build(tmp_path, slurm_tree, pg_cluster, f"slurm_e2e_{runtime}", runtime,
                     slurm_cluster)
    result = build.make("repo")
    assert build.dump() == local_dump
    for i in range(1, YEARS + 1):
        year = f"y{i}-wfd"
        [line] = jobs(build, year)
        assert line.split()[1] == "0,1,2", line
        sdir = build.state / "slurm" / f"raws-{year}"
        assert sorted(p.name for p in (sdir / "results").glob("*.done")) == [
            f"{year}-{k:04d}.done" for k in range(3)]
        for k in range(3):
            assert len((sdir / "chunks" / f"{year}-{k:04d}.txt").read_text().split()) == CHUNK
            assert (build.state / "logs" / "raws" / f"{year}-{k:04d}.log").exists()
        assert (build.state / "stamps" / f"raws-{year}.done").exists()
        assert f"raws-{year}: 0 pending, 0 running, 3 done, 0 failed" in result.stderr
    # make status shows the arrays; a rerun submits nothing.
    status = build.make("status").stdout
    assert "slurm raws-y1-wfd: job" in status and "3 done" in status
    build.make("raws")
    assert len(jobs(build, "y1-wfd")) == 1


def raws_of(dump: dict) -> tuple:
    """What the raw ingest puts in the registry: the raw collection and the exposures (the
    steps after raws are those of a local build, compared in the first test)."""
    return dump["collections"]["LSSTCam-imSim/raw/all"], dump["records"]["exposure"]


def _task_of(pid: int) -> str:
    """The Slurm array task (JOB_INDEX) a held ingest stand-in runs in."""
    env = dict(item.split("=", 1) for item in
               Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if "=" in item)
    return f"{env['SLURM_ARRAY_JOB_ID']}_{env['SLURM_ARRAY_TASK_ID']}"


# Each runtime's whole build path runs in the first test; the scheduling logic of these
# (bash and Slurm, the same on both) runs on the current runtime only, to keep make test short.
@pytest.mark.parametrize("runtime", ["current"], indirect=True)
def test_scancel_then_rerun_heals(tmp_path: Path, slurm_tree: Path, pg_cluster, slurm_cluster,
                                  local_dump: dict, runtime: str) -> None:
    build = pg_build(tmp_path, slurm_tree, pg_cluster, f"slurm_cancel_{runtime}", runtime,
                     slurm_cluster)
    build.make("refcats")
    # One build, two cancellations: in y1 one running task, in y2 the whole array (its
    # running and pending tasks). Each is healed by rerunning its year's step.
    for year, cancel in (("y1-wfd", "task"), ("y2-wfd", "array")):
        failed = cancel_at_first_hold(build, year, cancel)
        build.make(f"raws-{year}")
        # The rerun resubmitted only the cancelled chunks.
        assert [line.split()[1] for line in jobs(build, year)] == [
            "0,1,2", ",".join(str(i) for i in failed)]
    # Then the build goes on as usual and gives the registry of a local build.
    build.make("repo")
    assert build.dump() == local_dump


def cancel_at_first_hold(build: Build, year: str, cancel: str) -> list[int]:
    """Run the year's raws on Slurm; when the first task holds (every task's ingest holds
    after its first exposure), scancel that task (``cancel="task"``) or its whole array
    (``"array"``), and release the held tasks still alive as they come, until make ends.
    Check the failure report; return the array indexes that failed."""
    proc, held = build.hold_all(1, "files:1", f"raws-{year}")
    task = _task_of(held[0])
    job, index = task.split("_")
    subprocess.run(["scancel", task if cancel == "task" else job], env=build.env, check=True)
    fifo = os.open(build.base / "hold.fifo", os.O_RDWR | os.O_NONBLOCK)
    try:
        buf = b""
        while proc.poll() is None:
            ready, _, _ = select.select([fifo], [], [], 0.2)
            if ready:
                buf += os.read(fifo, 4096)
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    build.release(int(line.split()[-1]))
    finally:
        os.close(fifo)
    (build.base / "hold.fifo").unlink()
    output = build.output.read_text()
    assert proc.returncode != 0, output
    chunk = f"{year}-{int(index):04d}"
    assert f"chunk {chunk} (2 visits" in output, output
    assert f"logs/raws/{chunk}.log" in output
    assert not (build.state / "stamps" / f"raws-{year}.done").exists()
    results = build.state / "slurm" / f"raws-{year}" / "results"
    done = {int(p.stem.rsplit("-", 1)[1]) for p in results.glob("*.done")}
    failed = sorted(set(range(3)) - done)
    # A cancelled task is a failure; with the whole array cancelled, every task that had
    # not finished (none had: they all hold before their end).
    assert failed == ([int(index)] if cancel == "task" else [0, 1, 2]), output
    assert f"{len(failed)} Slurm task(s) of {year} failed" in output
    return failed


# Each runtime's whole build path runs in the first test; the scheduling logic of these
# (bash and Slurm, the same on both) runs on the current runtime only, to keep make test short.
@pytest.mark.parametrize("runtime", ["current"], indirect=True)
def test_wait_no_then_pickup(tmp_path: Path, slurm_tree: Path, pg_cluster, slurm_cluster,
                             local_dump: dict, runtime: str) -> None:
    build = pg_build(tmp_path, slurm_tree, pg_cluster, f"slurm_nowait_{runtime}", runtime,
                     slurm_cluster)
    result = build.make("repo", "WAIT=no", check=False)
    # make repo does not go past raws while the arrays run (README: why).
    assert result.returncode != 0
    assert "submitted without waiting (WAIT=no)" in result.stderr
    assert not (build.state / "stamps" / "visits.done").exists()
    assert "slurm raws-y1-wfd: job" in build.make("status").stdout
    build.make("raws")  # waits for what is queued, resubmits nothing that is running or done
    assert [line.split()[1] for line in jobs(build, "y1-wfd")] == ["0,1,2"]
    assert raws_of(build.dump()) == raws_of(local_dump)


# Each runtime's whole build path runs in the first test; the scheduling logic of these
# (bash and Slurm, the same on both) runs on the current runtime only, to keep make test short.
@pytest.mark.parametrize("runtime", ["current"], indirect=True)
def test_refusals_leave_no_stamp(tmp_path: Path, slurm_tree: Path, pg_cluster, slurm_cluster,
                                 runtime: str) -> None:
    nobin = tmp_path / "no-slurm-bin"
    cases = [
        ({"REGISTRY_DB": ""}, "needs a PostgreSQL registry"),
        ({"CHUNK_VISITS": "0"}, "CHUNK_VISITS=0 is not a positive whole number"),
        ({"SLURM_PARTITION": "nosuch"}, "SLURM_PARTITION=nosuch is not a partition"),
        ({"PATH": f"{ROOT / 'tests' / 'doubles'}:{runtimes.venv(runtime) / 'bin'}:{nobin}"},
         "the Slurm command sbatch is not on PATH"),
    ]
    build = pg_build(tmp_path, slurm_tree, pg_cluster, f"slurm_refuse_{runtime}", runtime,
                     slurm_cluster)
    # A PATH with everything of /usr/bin but Slurm's commands.
    nobin = tmp_path / "no-slurm-bin"
    nobin.mkdir()
    for tool in Path("/usr/bin").iterdir():
        if not tool.name.startswith(("sbatch", "squeue", "scontrol", "sinfo", "scancel")):
            (nobin / tool.name).symlink_to(tool)
    for env, message in cases:
        result = subprocess.run([str(ROOT / "bin" / "raws"), "y1-wfd"],
                                env={**build.env, **env}, capture_output=True, text=True)
        assert result.returncode != 0
        assert message in result.stderr, result.stderr
        assert not (build.state / "stamps").exists()
        assert not (build.state / "slurm").exists()
