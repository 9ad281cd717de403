"""A throwaway PostgreSQL cluster for tests.

The cluster is made with the Debian PostgreSQL server binaries
(``/usr/lib/postgresql/<version>/bin``, package ``postgresql``), listens on a free
loopback port (127.0.0.1 only) and demands SCRAM password authentication over TCP, so
that tests exercise the db-auth file for real. It has:

- a login role with a random password (``PgCluster.user`` / ``PgCluster.password``);
- a database owned by that role with ``btree_gist`` created by the superuser
  (``PgCluster.dbname``);
- a second database owned by the role *without* ``btree_gist``
  (``PgCluster.dbname_no_gist``), for negative tests.

``initdb`` refuses to run as root, so when the tests run as root the server runs as the
unprivileged ``postgres`` system user (through ``runuser``), in a temporary directory
owned by that user. The superuser is reached only through the Unix socket in that
temporary directory (``trust``); TCP needs a password.

Python API::

    from pgcluster import PgCluster
    with PgCluster() as pg:
        pg.write_db_auth(tmp_path / "db-auth.yaml")
        ... pg.url, pg.url_no_gist, pg.password ...

The pytest fixture ``pg_cluster`` (session scope) yields a started ``PgCluster`` and
skips when the server binaries are missing, unless ``CI`` is set (then it fails).

Command line (for bats and Makefile-level tests)::

    python tests/pgcluster.py start DIR   # start; print `export ...` lines; return
    python tests/pgcluster.py stop DIR    # stop (immediate) and remove everything
    python tests/pgcluster.py run [--dir DIR] -- CMD ARGS...
                                          # start, run CMD with the exports, stop

``start`` writes ``DIR/env.sh`` (the same export lines), ``DIR/db-auth.yaml`` (mode 600)
and ``DIR/cluster.json`` (mode 600, includes the password, for tests that must grep for
it). The password is never exported in the environment.
"""

from __future__ import annotations

import argparse
import atexit
import glob
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

__all__ = ["PgCluster", "PgClusterUnavailable", "find_pg_bindir", "pg_cluster"]

#: Role and database names of every throwaway cluster.
ROLE = "dp02test"
DBNAME = "dp02"
DBNAME_NO_GIST = "dp02_nogist"
#: The superuser made by initdb; reachable only over the Unix socket.
SUPERUSER = "postgres"


class PgClusterUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or the user to run them) are not available."""


def find_pg_bindir() -> Path:
    """Return the directory of the PostgreSQL server binaries.

    ``PG_BINDIR`` wins; otherwise the newest ``/usr/lib/postgresql/*/bin`` that has
    ``initdb`` and ``pg_ctl``.

    Returns
    -------
    bindir : `pathlib.Path`
        Directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Raises
    ------
    PgClusterUnavailable
        Raised when no such directory exists.
    """
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    found = glob.glob("/usr/lib/postgresql/*/bin")
    found.sort(key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")])
    candidates.extend(Path(p) for p in reversed(found))
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "pg_ctl").is_file():
            return cand
    raise PgClusterUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin "
        "or PG_BINDIR: install the Debian package 'postgresql' (apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A throwaway PostgreSQL cluster on a free loopback port.

    Parameters
    ----------
    bindir : `str` or `pathlib.Path`, optional
        PostgreSQL server binaries; found with `find_pg_bindir` by default.
    run_as : `str`, optional
        System user that runs the server when the caller is root (default
        ``postgres``). Ignored when the caller is not root.

    Attributes
    ----------
    host, port, user, password, dbname, dbname_no_gist
        Where and how to connect over TCP.
    url, url_no_gist : `str`
        ``postgresql+psycopg2://USER@127.0.0.1:PORT/DB`` (no password).
    base : `pathlib.Path`
        The temporary directory holding data directory, socket and log.
    """

    def __init__(self, bindir: str | Path | None = None, run_as: str = "postgres") -> None:
        self.bindir = Path(bindir) if bindir else find_pg_bindir()
        self.run_as = run_as
        self.host = "127.0.0.1"
        self.port = 0
        self.user = ROLE
        self.password = secrets.token_urlsafe(24)
        self.dbname = DBNAME
        self.dbname_no_gist = DBNAME_NO_GIST
        self.base: Path | None = None
        self._started = False

    # ------------------------------------------------------------------ properties

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database with btree_gist, without password."""
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{self.dbname}"

    @property
    def url_no_gist(self) -> str:
        """SQLAlchemy URL of the database without btree_gist, without password."""
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{self.dbname_no_gist}"

    @property
    def datadir(self) -> Path:
        assert self.base is not None
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        assert self.base is not None
        return self.base

    @property
    def logfile(self) -> Path:
        assert self.base is not None
        return self.base / "postgres.log"

    # ------------------------------------------------------------------ helpers

    def _prefix(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return ["runuser", "-u", self.run_as, "--"]

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = self._prefix() + args
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, cwd="/"
        )
        if proc.returncode != 0:
            out = proc.stdout.decode(errors="replace")
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}{self._log_tail()}"
            )
        return proc

    def _log_tail(self) -> str:
        try:
            return "\n--- postgres.log (tail) ---\n" + "".join(
                self.logfile.read_text(errors="replace").splitlines(True)[-30:]
            )
        except (OSError, AssertionError):
            return ""

    def superuser_connect(self, dbname: str = "postgres") -> Any:
        """Connect as the superuser over the Unix socket (trust); autocommit on.

        Parameters
        ----------
        dbname : `str`
            Database to connect to.

        Returns
        -------
        connection : `psycopg2.extensions.connection`
            Open connection; close it when done.
        """
        import psycopg2

        conn = psycopg2.connect(
            host=str(self.sockdir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            connect_timeout=10,
        )
        conn.autocommit = True
        return conn

    def connect(self, dbname: str | None = None) -> Any:
        """Connect as the test role over TCP with its password.

        Parameters
        ----------
        dbname : `str`, optional
            Database (default: the one with btree_gist).

        Returns
        -------
        connection : `psycopg2.extensions.connection`
            Open connection; close it when done.
        """
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname or self.dbname,
            connect_timeout=10,
        )

    # ------------------------------------------------------------------ lifecycle

    def _prepare_base(self) -> None:
        if os.geteuid() == 0:
            import pwd

            try:
                pw = pwd.getpwnam(self.run_as)
            except KeyError:
                raise PgClusterUnavailable(
                    f"running as root, and the system user '{self.run_as}' that should run the "
                    "server does not exist: install the Debian package 'postgresql' (it makes it)"
                ) from None
            if shutil.which("runuser") is None:
                raise PgClusterUnavailable("running as root, and 'runuser' (util-linux) is missing")
        # Short path: the Unix socket path must stay under ~107 bytes.
        self.base = Path(tempfile.mkdtemp(prefix="dp02-pg-", dir="/tmp"))
        if os.geteuid() == 0:
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base, 0o700)

    def start(self) -> PgCluster:
        """Create and start the cluster, the role and the two databases.

        Returns
        -------
        self : `PgCluster`
            The started cluster.
        """
        if self._started:
            return self
        self._prepare_base()
        atexit.register(self.stop)
        try:
            self._initdb()
            last: Exception | None = None
            for _ in range(5):  # the free port may be taken in between: retry
                self.port = _free_port()
                try:
                    self._pg_ctl_start()
                    break
                except RuntimeError as exc:
                    last = exc
                    if "could not bind" not in str(exc) and "Address already in use" not in str(
                        exc
                    ):
                        raise
            else:
                raise RuntimeError(f"could not start PostgreSQL on a free port: {last}")
            self._started = True
            self._setup_sql()
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ]
        )
        # Explicit authentication rules: trust on the (private) socket for the superuser,
        # SCRAM over TCP on loopback, nothing else.
        hba = (
            "# dp02 throwaway test cluster\n"
            f"local all {SUPERUSER} trust\n"
            "host  all all 127.0.0.1/32 scram-sha-256\n"
        )
        conf = (
            "\n# dp02 throwaway test cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.sockdir}'\n"
            "password_encryption = 'scram-sha-256'\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
            "max_connections = 100\n"
            "shared_buffers = 32MB\n"
            "dynamic_shared_memory_type = mmap\n"
            "log_min_messages = warning\n"
        )
        # Written by the server user: the data directory is 700 and owned by it.
        self._write_as_server_user(self.datadir / "pg_hba.conf", hba, append=False)
        self._write_as_server_user(self.datadir / "postgresql.conf", conf, append=True)

    def _write_as_server_user(self, path: Path, text: str, append: bool) -> None:
        mode = "a" if append else "w"
        with open(path, mode) as f:  # root can write anywhere; ownership stays
            f.write(text)

    def _pg_ctl_start(self) -> None:
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-o",
                f"-p {self.port}",
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )

    def _setup_sql(self) -> None:
        from psycopg2 import sql

        conn = self.superuser_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(self.user)),
                    (self.password,),
                )
                for db in (self.dbname, self.dbname_no_gist):
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(db), sql.Identifier(self.user)
                        )
                    )
        finally:
            conn.close()
        conn = self.superuser_connect(self.dbname)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``) and remove everything.

        Safe to call more than once and on a half-started cluster.
        """
        base, self.base = self.base, None
        self._started = False
        if base is None:
            return
        datadir = base / "data"
        if (datadir / "postmaster.pid").exists():
            cmd = self._prefix() + [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-m",
                "immediate",
                "-w",
                "stop",
            ]
            try:
                subprocess.run(
                    cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, cwd="/"
                )
            except (OSError, subprocess.SubprocessError):
                pass
            self._kill_leftover(datadir)
        shutil.rmtree(base, ignore_errors=True)

    @staticmethod
    def _kill_leftover(datadir: Path) -> None:
        # pg_ctl failed or timed out: kill the postmaster named in postmaster.pid.
        try:
            pid = int((datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ credentials

    def db_auth_entries(self) -> list[dict[str, str]]:
        """The db-auth entries for this cluster (URL without ``+driver``, as DbAuth needs).

        Returns
        -------
        entries : `list` [`dict` [`str`, `str`]]
            One entry matching every database of the cluster on its host and port.
        """
        return [
            {
                "url": f"postgresql://{self.host}:{self.port}/*",
                "username": self.user,
                "password": self.password,
            }
        ]

    def write_db_auth(self, path: str | Path, entries: list[dict[str, str]] | None = None) -> Path:
        """Write an lsst db-auth YAML file (mode 600) for this cluster.

        Parameters
        ----------
        path : `str` or `pathlib.Path`
            File to write (its parent is created).
        entries : `list` [`dict`], optional
            Entries to write instead of `db_auth_entries`.

        Returns
        -------
        path : `pathlib.Path`
            The file written.
        """
        import yaml

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(entries if entries is not None else self.db_auth_entries(), f)
        os.chmod(path, 0o600)
        return path

    def env(self, db_auth: str | Path | None = None) -> dict[str, str]:
        """Environment variables describing the cluster (never the password).

        Parameters
        ----------
        db_auth : `str` or `pathlib.Path`, optional
            db-auth file to name in ``LSST_DB_AUTH``.

        Returns
        -------
        env : `dict` [`str`, `str`]
            ``DP02_PG_*`` variables, plus ``LSST_DB_AUTH`` when ``db_auth`` is given.
        """
        env = {
            "DP02_PG_HOST": self.host,
            "DP02_PG_PORT": str(self.port),
            "DP02_PG_USER": self.user,
            "DP02_PG_DBNAME": self.dbname,
            "DP02_PG_DBNAME_NO_GIST": self.dbname_no_gist,
            "DP02_PG_URL": self.url,
            "DP02_PG_URL_NO_GIST": self.url_no_gist,
        }
        if db_auth is not None:
            env["LSST_DB_AUTH"] = str(db_auth)
        return env


# ---------------------------------------------------------------------- pytest fixture

try:
    import pytest
except ImportError:  # the command line works without pytest
    pytest = None  # type: ignore[assignment]


def _pg_cluster_fixture() -> Iterator[PgCluster]:
    try:
        cluster = PgCluster()
    except PgClusterUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(
                f"CI is set and the PostgreSQL test cluster cannot run: {exc}", pytrace=False
            )
        pytest.skip(f"PostgreSQL test cluster unavailable: {exc}")
    try:
        cluster.start()
    except PgClusterUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(
                f"CI is set and the PostgreSQL test cluster cannot run: {exc}", pytrace=False
            )
        pytest.skip(f"PostgreSQL test cluster unavailable: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


if pytest is not None:
    pg_cluster = pytest.fixture(scope="session")(_pg_cluster_fixture)
else:  # pragma: no cover
    pg_cluster = None


# ---------------------------------------------------------------------- command line


def _exports(env: dict[str, str]) -> str:
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())


def _cmd_start(state_dir: Path) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    state = state_dir / "cluster.json"
    if state.exists():
        print(
            f"pgcluster: {state} exists: a cluster was started there; run 'stop {state_dir}' first",
            file=sys.stderr,
        )
        return 2
    cluster = PgCluster().start()
    # The cluster outlives this process: do not stop it at exit.
    atexit.unregister(cluster.stop)
    auth = cluster.write_db_auth(state_dir / "db-auth.yaml")
    env = cluster.env(db_auth=auth)
    env["DP02_PG_DIR"] = str(state_dir)
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(
            {
                "base": str(cluster.base),
                "bindir": str(cluster.bindir),
                "run_as": cluster.run_as,
                "port": cluster.port,
                "user": cluster.user,
                "password": cluster.password,
                "dbname": cluster.dbname,
                "dbname_no_gist": cluster.dbname_no_gist,
                "env": env,
            },
            f,
            indent=1,
        )
    (state_dir / "env.sh").write_text(_exports(env))
    sys.stdout.write(_exports(env))
    return 0


def _cmd_stop(state_dir: Path) -> int:
    state = state_dir / "cluster.json"
    if not state.exists():
        print(
            f"pgcluster: no cluster started in {state_dir} (no cluster.json); nothing to stop",
            file=sys.stderr,
        )
        return 0
    info = json.loads(state.read_text())
    cluster = PgCluster(bindir=info["bindir"], run_as=info["run_as"])
    cluster.base = Path(info["base"])
    cluster.stop()
    for name in ("cluster.json", "db-auth.yaml", "env.sh"):
        (state_dir / name).unlink(missing_ok=True)
    try:
        state_dir.rmdir()
    except OSError:
        pass
    return 0


def _cmd_run(state_dir: Path | None, command: list[str]) -> int:
    if not command:
        print("pgcluster: run needs a command after --", file=sys.stderr)
        return 2
    own_dir = state_dir is None
    if state_dir is None:
        state_dir = Path(tempfile.mkdtemp(prefix="dp02-pgrun-"))
    cluster = PgCluster()

    def _on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        cluster.start()
        auth = cluster.write_db_auth(state_dir / "db-auth.yaml")
        env = dict(os.environ)
        env.update(cluster.env(db_auth=auth))
        env["DP02_PG_DIR"] = str(state_dir)
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        cluster.stop()
        if own_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
        else:
            (state_dir / "db-auth.yaml").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``start DIR``, ``stop DIR``, ``run [--dir DIR] -- CMD...``.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="pgcluster.py", description="A throwaway PostgreSQL cluster for the dp02 tests."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start a cluster; print export lines (also in DIR/env.sh)")
    p.add_argument("dir", type=Path)
    p = sub.add_parser("stop", help="stop the cluster started in DIR and remove it")
    p.add_argument("dir", type=Path)
    p = sub.add_parser("run", help="start, run a command with the exports, stop")
    p.add_argument("--dir", type=Path, default=None)
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "start":
            return _cmd_start(args.dir.absolute())
        if args.cmd == "stop":
            return _cmd_stop(args.dir.absolute())
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return _cmd_run(args.dir.absolute() if args.dir else None, command)
    except PgClusterUnavailable as exc:
        print(f"pgcluster: {exc}", file=sys.stderr)
        return 77  # "skipped" for automake-style harnesses


if __name__ == "__main__":
    sys.exit(main())
