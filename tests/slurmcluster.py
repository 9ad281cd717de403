"""A throwaway single-node Slurm cluster for tests (munged, slurmctld, slurmd).

Made from the Debian packages ``slurm-wlm`` and ``munge`` (REFERENCE section 10), run as
root. Everything lives in one temporary directory: the munge key, socket, pid, log and
seed files, and the generated ``slurm.conf`` with the state, spool, pid and log files of
``slurmctld`` and ``slurmd``. The cluster has one node named after ``hostname -s`` with
``CPUs=$(nproc)``, one default partition ``debug``, free non-default ports,
``proctrack/linuxproc``, ``task/none``, ``select/cons_tres`` and no accounting (no
slurmdbd: ``sacct`` does not work, ``squeue`` and ``scontrol`` do). A private munge socket
(``AuthInfo=socket=...``) keeps it apart from any other munged on the machine.

Python API::

    from slurmcluster import SlurmCluster
    with SlurmCluster() as slurm:
        env = slurm.env()          # SLURM_CONF for sbatch, squeue, scontrol, scancel

The pytest fixture ``slurm_cluster`` (session scope) yields a started cluster and skips
when the binaries are missing or the tests do not run as root, unless ``CI=true`` (then it
fails). Command line: ``python tests/slurmcluster.py run -- CMD ARGS...`` starts the
cluster, runs CMD with ``SLURM_CONF`` exported, and stops it.
"""

from __future__ import annotations

import argparse
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

__all__ = ["SlurmCluster", "SlurmUnavailable", "slurm_cluster"]

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin")


class SlurmUnavailable(RuntimeError):
    """Slurm or munge is not installed, or the tests do not run as root."""


def _which(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN:
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    raise SlurmUnavailable(
        f"{name} is not installed: apt-get install slurm-wlm munge (as .ci/run does)"
    )


def _free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class SlurmCluster:
    """A single-node Slurm cluster in a temporary directory.

    Attributes
    ----------
    base : `pathlib.Path`
        The temporary directory holding every file of the cluster.
    conf : `pathlib.Path`
        The generated ``slurm.conf``.
    node : `str`
        The node name (``hostname -s``).
    partition : `str`
        The one (default) partition.
    """

    partition = "debug"

    def __init__(self) -> None:
        if os.geteuid() != 0:
            raise SlurmUnavailable("the Slurm test cluster runs its daemons as root")
        self.bins = {name: _which(name) for name in BINARIES}
        try:
            pwd.getpwnam("munge")
        except KeyError:
            raise SlurmUnavailable("no 'munge' system user: apt-get install munge") from None
        self.node = socket.gethostname().split(".")[0]
        self.base: Path | None = None
        self.conf = Path()
        self.pids: dict[str, int] = {}

    def env(self) -> dict[str, str]:
        """The environment the Slurm client commands need to reach this cluster."""
        return {"SLURM_CONF": str(self.conf)}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlurmCluster:
        """Start munged, slurmctld and slurmd; return when the node is idle."""
        self.base = Path(tempfile.mkdtemp(prefix="dp02-slurm-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        atexit.register(self.stop)
        try:
            self._start_munge()
            self._write_conf()
            env = {**os.environ, **self.env()}
            for daemon in ("slurmctld", "slurmd"):
                subprocess.run([self.bins[daemon], "-f", str(self.conf)], env=env, check=True,
                               capture_output=True, timeout=60)
                self.pids[daemon] = self._read_pid(self.base / f"{daemon}.pid", daemon)
            self._wait_idle(env)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_munge(self) -> None:
        assert self.base is not None
        munge = pwd.getpwnam("munge")
        mdir = self.base / "munge"
        mdir.mkdir(mode=0o700)
        key = mdir / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        for path in (mdir, key):
            os.chown(path, munge.pw_uid, munge.pw_gid)
        self.munge_socket = mdir / "munge.socket"
        # The socket's directory must be reachable by the Slurm daemons and clients.
        os.chmod(mdir, 0o711)
        subprocess.run(
            ["runuser", "-u", "munge", "--", self.bins["munged"], "--force",
             f"--socket={self.munge_socket}", f"--key-file={key}",
             f"--pid-file={mdir / 'munged.pid'}", f"--log-file={mdir / 'munged.log'}",
             f"--seed-file={mdir / 'munged.seed'}"],
            check=True, capture_output=True, timeout=30,
        )
        self.pids["munged"] = self._read_pid(mdir / "munged.pid", "munged")

    def _write_conf(self) -> None:
        assert self.base is not None
        ctld_port, d_port = _free_ports(2)
        for sub in ("state", "spool"):
            (self.base / sub).mkdir()
        mem_mb = 1024
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        mem_mb = int(int(line.split()[1]) / 1024 * 0.8)
        except OSError:
            pass
        b = self.base
        self.conf = b / "slurm.conf"
        self.conf.write_text(
            "# dp02 throwaway single-node test cluster\n"
            f"ClusterName=dp02test{os.getpid()}\n"
            f"SlurmctldHost={self.node}\n"
            "SlurmUser=root\n"
            "AuthType=auth/munge\n"
            "CredType=cred/munge\n"
            f"AuthInfo=socket={self.munge_socket}\n"
            f"SlurmctldPort={ctld_port}\n"
            f"SlurmdPort={d_port}\n"
            f"StateSaveLocation={b / 'state'}\n"
            f"SlurmdSpoolDir={b / 'spool'}\n"
            f"SlurmctldPidFile={b / 'slurmctld.pid'}\n"
            f"SlurmdPidFile={b / 'slurmd.pid'}\n"
            f"SlurmctldLogFile={b / 'slurmctld.log'}\n"
            f"SlurmdLogFile={b / 'slurmd.log'}\n"
            "ProctrackType=proctrack/linuxproc\n"
            "TaskPlugin=task/none\n"
            "SelectType=select/cons_tres\n"
            "SelectTypeParameters=CR_Core\n"
            "ReturnToService=2\n"
            "JobAcctGatherType=jobacct_gather/none\n"
            "AccountingStorageType=accounting_storage/none\n"
            "MpiDefault=none\n"
            "SchedulerType=sched/backfill\n"
            "MinJobAge=600\n"
            f"NodeName={self.node} CPUs={os.cpu_count() or 1} RealMemory={mem_mb} State=UNKNOWN\n"
            f"PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE "
            "State=UP\n"
        )

    @staticmethod
    def _read_pid(path: Path, what: str) -> int:
        for _ in range(100):
            try:
                return int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.1)
        raise RuntimeError(f"{what} wrote no pid file {path}")

    def _wait_idle(self, env: dict[str, str]) -> None:
        # Waiting for the daemons to come up is the one wait on time here (they have no
        # readiness notification): up to 60 s for sinfo to report the node idle.
        out = ""
        for _ in range(120):
            res = subprocess.run(["sinfo", "-h", "-n", self.node, "-o", "%t"], env=env,
                                 capture_output=True, text=True, check=False)
            out = res.stdout.strip() + res.stderr.strip()
            if res.returncode == 0 and out.startswith("idle"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"the Slurm test node did not become idle: {out}\n{self.logs()}")

    def logs(self) -> str:
        """The last lines of the daemons' logs (for failure messages)."""
        text = ""
        if self.base is None:
            return text
        for name in ("slurmctld.log", "slurmd.log", "munge/munged.log"):
            path = self.base / name
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-15:]
                text += f"--- {name}\n" + "\n".join(lines) + "\n"
        return text

    def stop(self) -> None:
        """Stop the daemons by pid (SIGTERM, then SIGKILL) and remove the directory."""
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.pop(name, None)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        base, self.base = self.base, None
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A started single-node Slurm cluster; skipped without Slurm (failed under CI=true)."""
    try:
        cluster = SlurmCluster()
    except SlurmUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Slurm test cluster unavailable under CI=true: {exc}")
        pytest.skip(f"Slurm test cluster unavailable: {exc}")
    with cluster:
        yield cluster


def main(argv: list[str] | None = None) -> int:
    """Command line: ``run -- CMD ARGS...``.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        The command's exit status (77 when Slurm is unavailable).
    """
    parser = argparse.ArgumentParser(prog="slurmcluster.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="start a cluster, run a command with SLURM_CONF, stop")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        with SlurmCluster() as cluster:
            return subprocess.call(command, env={**os.environ, **cluster.env()})
    except SlurmUnavailable as exc:
        print(f"slurmcluster: {exc}", file=sys.stderr)
        return 77


if __name__ == "__main__":
    sys.exit(main())
