"""py/url_credentials.py, the one rule for passwords in URLs, on both runtimes' parsers
(SQLAlchemy 2.1 on the current runtime, 1.4 on v23): every form a URL can carry a password
in is found, the refusal names the user and the host and never any part of the password,
and redaction hides it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import runtimes  # noqa: E402

SECRET = "Zq9"
"""Every password below contains this, so that no output may."""

# (url, carries a password, user, host named in the refusal or None)
CASES = [
    ("postgresql+psycopg2://dp02@db.example:5432/reg", False, "dp02", "db.example"),
    ("postgresql+psycopg2://db.example/reg", False, None, "db.example"),
    ("https://me.lsst.eu/lsstdata", False, None, "me.lsst.eu"),
    ("postgresql+psycopg2://dp02:Zq9pw@db.example:5432/reg", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02:Zq9%2F%40%3A%23%3F@db.example/reg", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02:Zq9/pw@db.example:5432/reg", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02:Zq9#pw@db.example:5432/reg", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02:Zq9?pw@db.example:5432/reg", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02:Zq9:pw@db.example:5432/reg", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02:Zq9@pw@db.example:5432/reg", True, "dp02", None),
    ("postgresql+psycopg2://dp02:pw@Zq9/x@db.example/reg", True, "dp02", None),
    ("postgresql+psycopg2://:Zq9pw@db.example/reg", True, "", "db.example"),
    ("postgresql+psycopg2://dp02@db.example/reg?password=Zq9pw", True, "dp02", "db.example"),
    ("postgresql+psycopg2://dp02@db.example/reg?sslmode=require&PassWord=Zq9", True, "dp02",
     "db.example"),
    ("postgresql+psycopg2://dp02:Zq9@db.example:notaport/reg", True, "dp02", "db.example"),
    ("https://bob:Zq9pw@mirror.example/lsstdata", True, "bob", "mirror.example"),
]

SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import url_credentials as u
out = []
for url in json.loads(sys.argv[2]):
    c = u.inspect_url(url)
    out.append({"password": c.password, "user": c.user, "host": c.host,
                "refusal": u.refusal("REGISTRY_DB", url),
                "redacted": u.redact("$ butler --url " + url + " 'x=" + url + "'\nnext line")})
print(json.dumps(out))
"""


SYSTEM_PYTHON = "/usr/bin/python3"
"""A Python without SQLAlchemy: a host that only runs the container."""


def python_of(name: str) -> str:
    if name != "system-python":
        return runtimes.python(name)
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import sqlalchemy"], capture_output=True,
                           check=False) if Path(SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode == 0:
        pytest.skip(f"no Python without SQLAlchemy at {SYSTEM_PYTHON}")
    return SYSTEM_PYTHON


@pytest.fixture(scope="module", params=[*runtimes.NAMES, "system-python"])
def results(request: pytest.FixtureRequest) -> tuple[str, list[dict]]:
    """The module's answers for every case, computed by that runtime's Python (or by a
    Python without SQLAlchemy)."""
    proc = subprocess.run(
        [python_of(request.param), "-c", SCRIPT, str(ROOT / "py"),
         json.dumps([c[0] for c in CASES])], capture_output=True, text=True, check=True)
    return request.param, json.loads(proc.stdout)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_password_found_and_never_shown(results: tuple[str, list[dict]], index: int) -> None:
    url, password, user, host = CASES[index]
    python, answers = results
    got = answers[index]
    assert got["password"] is password
    redacted = got["redacted"]
    assert redacted.endswith("'\nnext line")
    if not password:
        assert got["refusal"] is None
        assert url in redacted
        return
    refusal = got["refusal"]
    assert SECRET not in refusal and SECRET not in redacted
    assert url not in refusal
    assert refusal.startswith("REGISTRY_DB carries a password")
    assert "db-auth" in refusal
    if "cannot be parsed" in refusal:
        # Without SQLAlchemy, a password holding / # ? is only known to be possible.
        assert python == "system-python" or url.endswith("notaport/reg")
        assert "a user and host that cannot be told apart" in refusal
        return
    if user:
        assert f"user {user!r}" in refusal
    if host:
        assert f"at host {host!r}" in refusal
    else:
        assert "cannot be told apart" in refusal
    assert got["user"] == user


def test_check_command_reads_the_environment(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "REGISTRY_DB": CASES[5][0], "INPUTS_BASE_URL": CASES[2][0]}
    proc = subprocess.run([sys.executable, str(ROOT / "py" / "url_credentials.py"), "check",
                           "REGISTRY_DB", "INPUTS_BASE_URL"], env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2
    assert proc.stdout.count("carries a password") == 1 and SECRET not in proc.stdout
    env["REGISTRY_DB"] = CASES[0][0]
    proc = subprocess.run([sys.executable, str(ROOT / "py" / "url_credentials.py"), "check",
                           "REGISTRY_DB", "INPUTS_BASE_URL"], env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and proc.stdout == ""
