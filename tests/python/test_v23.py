"""The toolkit's own Python on the v23 runtime (daf_butler 23.0.0, Python 3.8): the parts
that broke there, each run with .venv-v23's interpreter.

The end-to-end tier (tests/e2e, parametrized over both runtimes) covers the rest, among it
``verify`` counting calibrations through the CHAINED calibration collection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import pgcluster  # noqa: E402
import runtimes  # noqa: E402

pg_cluster = pgcluster.pg_cluster


def v23_env(**extra: str) -> dict[str, str]:
    """The environment of a v23-runtime command: its venv first on PATH, no settings file."""
    venv = runtimes.venv("v23")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LSST_DB_AUTH", "REGISTRY_", "DP02_", "MINI_"))}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", ENV_FILE="/nonexistent/.env", **extra)
    return env


def test_runtime_is_v23() -> None:
    out = subprocess.run(
        [runtimes.python("v23"), "-c",
         "import sys; from importlib.metadata import version; "
         "print(sys.version_info[:2], version('lsst-daf-butler'))"],
        capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(3, 8) 23.0.0"


def test_db_check_on_v23(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> None:
    """v23 has no lsst.utils.db_auth: the check must use daf_butler 23's own DbAuth."""
    auth = pg_cluster.write_db_auth(tmp_path / "db-auth.yaml")
    proc = subprocess.run(
        [str(ROOT / "bin" / "db-check")],
        env=v23_env(REGISTRY_DB=pg_cluster.url, LSST_DB_AUTH=str(auth)),
        cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ok: db-auth" in proc.stdout and "ok: btree_gist" in proc.stdout
    assert pg_cluster.password not in proc.stdout + proc.stderr


def test_db_check_on_v23_no_entry(pg_cluster: pgcluster.PgCluster, tmp_path: Path) -> None:
    auth = tmp_path / "db-auth.yaml"
    auth.write_text("- url: postgresql://elsewhere:5432/db\n  username: u\n  password: p\n")
    auth.chmod(0o600)
    proc = subprocess.run(
        [str(ROOT / "bin" / "db-check")],
        env=v23_env(REGISTRY_DB=pg_cluster.url, LSST_DB_AUTH=str(auth)),
        cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "no entry of" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


def test_make_mini_inputs_on_v23(tmp_path: Path) -> None:
    """The container makes its own miniature tree: make mini-inputs on daf_butler 23."""
    out = tmp_path / "dp0.2"
    proc = subprocess.run(
        ["make", "-C", str(ROOT), "VENV=/nonexistent", "mini-inputs"],
        env=v23_env(MINI_DIR=str(out), MINI_YEARS="1", MINI_VISITS="2",
                    MINI_SENSORS="R22_S11"),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(lite formatters)" in proc.stderr + proc.stdout
    export = (out / "calib" / "export.yaml").read_text()
    assert "version: 1.0.1" in export  # the v23 export format
    # The export imports into a fresh v23 repository.
    repo = tmp_path / "repo"
    env = v23_env()
    for cmd in (["butler", "create", str(repo)],
                ["butler", "import", "--export-file", str(out / "calib" / "export.yaml"),
                 str(repo), str(out / "calib")]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(tmp_path))
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", runtimes.NAMES)
def test_py_scripts_help_on_each_runtime(name: str) -> None:
    """Every py/ script starts (its --help) on each runtime's Python."""
    for script in sorted((ROOT / "py").glob("*.py")):
        proc = subprocess.run([runtimes.python(name), str(script), "--help"],
                              cwd=str(ROOT / "py"), capture_output=True, text=True)
        assert proc.returncode == 0, f"{script.name}: {proc.stderr}"
