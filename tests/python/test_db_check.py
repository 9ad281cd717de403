"""Tests of py/db_check.py and bin/db-check against a throwaway PostgreSQL cluster.

The cluster (tests/pgcluster.py) demands SCRAM passwords over TCP, so every success here
proves that the password came from the db-auth file. Every test also checks that the
password appears in no output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "py"))

import db_check  # noqa: E402
import pgcluster  # noqa: E402

pg_cluster = pgcluster.pg_cluster
VENV_BIN = Path(sys.executable).parent


def _env(**kw: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LSST_DB_AUTH", "REGISTRY_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = kw.pop("HOME", None) or env.get("HOME", "/nonexistent")
    for k, v in kw.items():
        if v is not None:
            env[k] = v
    return env


def run_db_check(
    url: str, auth: Path | None, namespace: str = "", secret: str = "", script: bool = False
) -> subprocess.CompletedProcess:
    """Run py/db_check.py (or bin/db-check) and assert the secret is in no output."""
    env = _env(
        REGISTRY_DB=url, REGISTRY_NAMESPACE=namespace, LSST_DB_AUTH=str(auth) if auth else None
    )
    if script:
        cmd = [str(ROOT / "bin" / "db-check")]
        env["ENV_FILE"] = "/nonexistent/.env"
    else:
        cmd = [sys.executable, str(ROOT / "py" / "db_check.py")]
    proc = subprocess.run(
        cmd,
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    # The error paragraph is wrapped at 100 columns: search the unwrapped text.
    proc.err = " ".join(proc.stderr.split())  # type: ignore[attr-defined]
    if secret:
        assert secret not in proc.stdout
        assert secret not in proc.stderr
        assert secret not in proc.err  # type: ignore[attr-defined]
    return proc


@pytest.fixture()
def auth(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> Path:
    return pg_cluster.write_db_auth(tmp_path / "db-auth.yaml")


# ------------------------------------------------------------------ no server needed


def test_sqlite_nothing_to_check(tmp_path: Path) -> None:
    proc = run_db_check("", None)
    assert proc.returncode == 0
    assert "SQLite, nothing to check" in proc.stdout


def test_password_in_url_refused() -> None:
    secret = "s3cr3t-Pw-in-url"
    proc = run_db_check(
        f"postgresql+psycopg2://me:{secret}@db.example.org:5432/reg", None, secret=secret
    )
    assert proc.returncode != 0
    assert "carries a password" in proc.err
    assert "db-auth" in proc.err


def test_bare_postgresql_refused(tmp_path: Path) -> None:
    proc = run_db_check("postgresql://me@db.example.org:5432/reg", tmp_path / "none.yaml")
    assert proc.returncode != 0
    assert "psycopg (v3)" in proc.err
    assert "postgresql+psycopg2://me@db.example.org:5432/reg" in proc.err


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://me@h/db",
        "postgresql+asyncpg://me@h/db",
        "mysql+pymysql://me@h/db",
        "sqlite:////tmp/x.sqlite3",
    ],
)
def test_other_drivers_refused(url: str, tmp_path: Path) -> None:
    proc = run_db_check(url, tmp_path / "none.yaml")
    assert proc.returncode != 0
    assert "error:" in proc.err


def test_missing_db_auth_file(tmp_path: Path) -> None:
    proc = run_db_check("postgresql+psycopg2://me@h:5432/db", tmp_path / "missing.yaml")
    assert proc.returncode != 0
    assert "does not exist" in proc.err and "missing.yaml" in proc.err


def test_db_auth_entry_with_driver_rejected(tmp_path: Path) -> None:
    path = tmp_path / "db-auth.yaml"
    path.write_text("- {url: 'postgresql+psycopg2://h:5432/db', username: me, password: zzPWzz}\n")
    path.chmod(0o600)
    proc = run_db_check("postgresql+psycopg2://me@h:5432/db", path, secret="zzPWzz")
    assert proc.returncode != 0
    assert "without a driver" in proc.err


def test_run_checks_library() -> None:
    results = db_check.run_checks("", "", None)
    assert [r.ok for r in results] == [True]
    results = db_check.run_checks("postgresql://u@h/db", "", "/nonexistent")
    assert results[-1].name == "driver" and not results[-1].ok


# ------------------------------------------------------------------ on the real cluster


def test_success(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    proc = run_db_check(pg_cluster.url, auth, secret=pg_cluster.password)
    assert proc.returncode == 0, proc.stderr
    names = [line.split(":")[2].strip() for line in proc.stdout.splitlines()]
    assert names == ["url", "driver", "db-auth", "server", "btree_gist"]
    assert proc.stderr == ""


def test_success_library(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    results = db_check.run_checks(pg_cluster.url, "some_ns", str(auth))
    assert all(r.ok for r in results), results
    assert results[-1].name == "namespace"
    assert "does not exist yet" in results[-1].message
    assert not any(pg_cluster.password in r.message for r in results)


def test_success_through_bin_script(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    proc = run_db_check(
        pg_cluster.url, auth, namespace="ns_x", secret=pg_cluster.password, script=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok: btree_gist" in proc.stdout
    assert "schema ns_x does not exist yet" in proc.stdout


def test_existing_namespace(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    conn = pg_cluster.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS ns_exists")
        conn.commit()
    finally:
        conn.close()
    proc = run_db_check(pg_cluster.url, auth, namespace="ns_exists", secret=pg_cluster.password)
    assert proc.returncode == 0, proc.stderr
    assert "schema ns_exists exists" in proc.stdout


def test_db_auth_mode_644_refused(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    auth.chmod(0o644)
    proc = run_db_check(pg_cluster.url, auth, secret=pg_cluster.password)
    assert proc.returncode != 0
    assert "mode 644" in proc.err and "chmod 600" in proc.err


def test_default_db_auth_path(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> None:
    pg_cluster.write_db_auth(tmp_path / ".lsst" / "db-auth.yaml")
    env = _env(REGISTRY_DB=pg_cluster.url, HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "py" / "db_check.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(tmp_path / ".lsst" / "db-auth.yaml") in proc.stdout


def test_no_entry_for_url(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> None:
    path = pg_cluster.write_db_auth(
        tmp_path / "db-auth.yaml",
        entries=[
            {
                "url": "postgresql://other.example.org/*",
                "username": "x",
                "password": pg_cluster.password,
            }
        ],
    )
    proc = run_db_check(pg_cluster.url, path, secret=pg_cluster.password)
    assert proc.returncode != 0
    assert "no entry" in proc.err and "other.example.org" in proc.err


def test_localhost_does_not_match_127(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    url = pg_cluster.url.replace("127.0.0.1", "localhost")
    proc = run_db_check(url, auth, secret=pg_cluster.password)
    assert proc.returncode != 0
    assert "no entry" in proc.err


def test_wrong_password(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> None:
    path = pg_cluster.write_db_auth(
        tmp_path / "db-auth.yaml",
        entries=[
            {
                "url": f"postgresql://127.0.0.1:{pg_cluster.port}/*",
                "username": pg_cluster.user,
                "password": "Wrong-Password-1234",
            }
        ],
    )
    proc = run_db_check(pg_cluster.url, path, secret="Wrong-Password-1234")
    assert proc.returncode != 0
    assert "authentication failed" in proc.err
    assert pg_cluster.password not in proc.stderr + proc.stdout


def test_unreachable_port(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> None:
    # An entry without port matches any port; the port below has no server.
    path = pg_cluster.write_db_auth(
        tmp_path / "db-auth.yaml",
        entries=[
            {
                "url": "postgresql://127.0.0.1/*",
                "username": pg_cluster.user,
                "password": pg_cluster.password,
            }
        ],
    )
    port = pgcluster._free_port()
    url = pg_cluster.url.replace(f":{pg_cluster.port}/", f":{port}/")
    proc = run_db_check(url, path, secret=pg_cluster.password)
    assert proc.returncode != 0
    assert f"cannot reach the PostgreSQL server at 127.0.0.1:{port}" in proc.err


def test_database_does_not_exist(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    url = pg_cluster.url.rsplit("/", 1)[0] + "/no_such_db"
    proc = run_db_check(url, auth, secret=pg_cluster.password)
    assert proc.returncode != 0
    assert "database no_such_db does not exist" in proc.err


def test_no_btree_gist_prints_sql(pg_cluster: pgcluster.PgCluster, auth: Path) -> None:
    proc = run_db_check(pg_cluster.url_no_gist, auth, secret=pg_cluster.password)
    assert proc.returncode != 0
    text = proc.err
    assert "CREATE EXTENSION IF NOT EXISTS btree_gist;" in text
    assert pg_cluster.dbname_no_gist in text


# ------------------------------------------------------------------ daf_butler end to end


def test_butler_create_through_db_auth(
    pg_cluster: pgcluster.PgCluster, auth: Path, tmp_path: Path
) -> None:
    """daf_butler finds the password in the db-auth file: the URL has none."""
    import yaml

    namespace = "test_butler_create"
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "registry": {"db": pg_cluster.url, "namespace": namespace},
                "datastore": {"cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore"},
            }
        )
    )
    repo = tmp_path / "repo"
    env = _env(LSST_DB_AUTH=str(auth))
    proc = subprocess.run(
        [str(VENV_BIN / "butler"), "create", str(repo), "--seed-config", str(seed), "--override"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert pg_cluster.password not in proc.stdout + proc.stderr
    butler_yaml = (repo / "butler.yaml").read_text()
    assert pg_cluster.url in butler_yaml
    assert pg_cluster.password not in butler_yaml

    script = (
        "from lsst.daf.butler import Butler, CollectionType\n"
        "import sys\n"
        "b = Butler.from_config(sys.argv[1], writeable=True)\n"
        "b.registry.registerCollection('dp02/test-run', CollectionType.RUN)\n"
        "print(sorted(b.registry.queryCollections()))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(repo)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "dp02/test-run" in proc.stdout

    # The tables are in the namespace of the real database.
    conn = pg_cluster.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = %s", (namespace,))
            assert cur.fetchone()[0] > 10
    finally:
        conn.close()

    # Without the db-auth file, the same repository cannot be opened: no password is sent.
    env_noauth = _env(LSST_DB_AUTH=str(tmp_path / "absent.yaml"))
    proc = subprocess.run(
        [sys.executable, "-c", script, str(repo)],
        env=env_noauth,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "password" in proc.stderr.lower()


# ------------------------------------------------------------------ the fixture itself


@pytest.mark.parametrize("ci", ["", "true"])
def test_fixture_skips_without_server_unless_ci(ci: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PG_BINDIR", raising=False)
    monkeypatch.setattr(pgcluster.glob, "glob", lambda pattern: [])
    monkeypatch.setenv("CI", ci)
    gen = pgcluster._pg_cluster_fixture()
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match="postgresql"):
        next(gen)
