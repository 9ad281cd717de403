"""The build report (`make report`, written last by `make repo`): its content parsed from
the HTML, its rendering in headless Chromium with the network blocked, a partial build's
pending steps, failed and rerun attempts, and no password anywhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import chromium
import pytest
from conftest import ROOT, SENSORS, VISITS, YEARS, Build

sys.path.insert(0, str(ROOT / "py"))
import report  # noqa: E402


class ReportPage(HTMLParser):
    """The parts of build.html the tests read: tables by id, the timeline data, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self.scripts: dict[str, str] = {}
        self.tags: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            if a.get(name):
                self.links.append(str(a[name]))
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "script":
            self._script = a.get("id") or ""
            self.scripts[self._script] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self.scripts[self._script] += data


def parse(page: Path) -> ReportPage:
    parser = ReportPage()
    parser.feed(page.read_text())
    parser.close()
    return parser


def rows_by_first(table: list[list[str]]) -> dict[str, dict[str, str]]:
    """A table's rows keyed by their first cell, each a dict header -> cell."""
    header, *rows = table
    return {row[0]: dict(zip(header, row)) for row in rows}


def stamp_fields(path: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in path.read_text().splitlines() if ": " in line)


def steps_of(build: Build) -> list[str]:
    return subprocess.run([str(ROOT / "bin" / "config"), "steps"], env=build.env,
                          capture_output=True, text=True, check=True).stdout.split()


def need_chromium() -> str:
    """The chromium command; skipped when missing, but a failure under CI=true."""
    command = chromium.find()
    if command:
        return command
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path,
          runtime: str) -> Iterator[Build]:
    """The miniature repository built by `make repo`, which writes the report last, on
    each runtime (the report runs wherever verify runs, Python 3.8 and daf_butler 23 too)."""
    build = Build(tmp_path_factory.mktemp(f"report-{runtime}"), mini_tree, runtime=runtime)
    build.first = build.make("repo")
    yield build


# ---------------------------------------------------------------- content


def test_make_repo_writes_the_report_last_and_prints_its_path(built: Build) -> None:
    page = built.state / "reports" / "build.html"
    assert f"report: {page}" in built.first.stdout + built.first.stderr
    assert page.stat().st_mtime >= (built.state / "stamps" / "verify.done").stat().st_mtime
    assert (built.state / "reports" / "build.json").exists()
    # Nothing changed since: the report is up to date, make has nothing to do.
    again = built.make("repo")
    assert "Nothing to be done" in again.stdout


def test_every_step_is_in_the_timeline_and_the_table_with_its_stamp_duration(
        built: Build) -> None:
    page = parse(built.state / "reports" / "build.html")
    table = rows_by_first(page.tables["steps"])
    timeline = json.loads(page.scripts["timeline-data"])
    data_steps = {row["step"]: row for row in timeline["steps"]}
    steps = steps_of(built)
    assert list(table) == steps
    assert [row["step"] for row in timeline["steps"]] == steps
    for step in steps:
        stamp = stamp_fields(built.state / "stamps" / f"{step}.done")
        assert table[step]["duration"] == f"{stamp['duration_s']} s", step
        assert table[step]["state"] == "done"
        assert table[step]["start (UTC)"] == stamp["start"]
        assert data_steps[step]["duration_s"] == stamp["duration_s"]
        bars = [a for a in timeline["attempts"] if a["step"] == step]
        assert [(a["status"], a["seconds"]) for a in bars] == [("done", float(stamp["duration_s"]))]
    build_json = json.loads((built.state / "reports" / "build.json").read_text())
    assert build_json["timeline"] == timeline


def test_counts_environment_and_collections(built: Build) -> None:
    page = parse(built.state / "reports" / "build.html")
    checks = page.tables["checks"]
    header, *rows = checks
    verify = json.loads((built.state / "reports" / "verify.json").read_text())
    inputs = json.loads((built.state / "reports" / "check-inputs.json").read_text())
    assert len(rows) == len(verify["checks"]) + len(inputs["checks"])
    by_check = {(r[0], r[1]): dict(zip(header, r)) for r in rows}
    for check in verify["checks"]:
        row = by_check[("verify", check["check"])]
        assert (row["expected"], row["found"], row["status"]) == (
            str(check["expected"]), str(check["found"]), "ok")
    raws = rows_by_first(page.tables["raws"])
    for i in range(1, YEARS + 1):
        year = raws[f"y{i}-wfd"]
        assert year["visit directories (inputs)"] == str(VISITS)
        assert year["exposures (registry)"] == str(VISITS)
        assert year["raws (registry)"] == str(VISITS * len(SENSORS))
        stamp = stamp_fields(built.state / "stamps" / f"raws-y{i}-wfd.done")
        assert year["duration"] == f"{stamp['duration_s']} s"
        rate = VISITS * len(SENSORS) / float(stamp["duration_s"])
        assert year["raws/s"] == f"{rate:.1f}"
    datasets = rows_by_first(page.tables["datasets"])
    assert datasets["raw"]["datasets (all RUN collections)"] == str(YEARS * VISITS * len(SENSORS))
    refcats = len(list(Path(built.env["DP02_TOP"], "refcats", "cal_ref_cat").glob("*.fits")))
    assert datasets["cal_ref_cat_2_2"]["datasets (all RUN collections)"] == str(refcats)
    env = rows_by_first(page.tables["environment-table"])
    revision = stamp_fields(built.state / "stamps" / "verify.done")["toolkit_revision"]
    steps = steps_of(built)
    assert env["toolkit revision (stamps)"]["value"] == (
        f"{revision}: every stamped step ({len(steps)}: {steps[0]} .. {steps[-1]})")
    # The lite runtimes stamp "lite (daf_butler <version>)"; a stack its release tag.
    assert env["stack (stamps)"]["value"].startswith("lite (daf_butler ")
    assert env["registry: kind"]["value"] == "SQLite"
    assert env["TRANSFER"]["value"] == "direct" and env["JOBS"]["value"] == "1"
    text = (built.state / "reports" / "build.html").read_text()
    tree = text.split('id="collections"', 1)[1]
    chain = tree.index("<code>2.2i/defaults</code>")
    for child in ("LSSTCam-imSim/raw/all", "2.2i/calib", "skymaps", "refcats"):
        assert tree.index(f"<code>{child}</code>") > chain


# ---------------------------------------------------------------- the browser


def test_renders_in_headless_chromium_with_no_network(built: Build, tmp_path: Path) -> None:
    need_chromium()
    page = built.state / "reports" / "build.html"
    # Statically: nothing to fetch (embedded data: URIs only, no script or stylesheet link).
    parsed = parse(page)
    remote = [link for link in parsed.links if not link.startswith("data:")]
    assert remote == [], remote
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page.read_text())
    # In the browser, network blocked: a screenshot that is not blank, no page request.
    png = tmp_path / "report.png"
    result = chromium.screenshot(page, png, tmp_path / "chromium")
    assert result["returncode"] == 0, result["stderr"][-2000:]
    assert result["page_requests"] == []
    stats = chromium.not_blank(png)
    assert stats["shape"][:2] == (2000, 1280)
    assert stats["ink"] > 0.05, stats
    assert stats["colours"] > 50, stats
    # The same check does see a page that loads from the network (its loads fail).
    bad = tmp_path / "external.html"
    bad.write_text('<!DOCTYPE html><html><body><p>x</p><img src="https://example.org/a.png">'
                   '<link rel="stylesheet" href="http://example.org/b.css"></body></html>')
    result = chromium.screenshot(bad, tmp_path / "external.png", tmp_path / "chromium-bad")
    assert sorted(result["page_requests"]) == ["http://example.org/b.css",
                                               "https://example.org/a.png"]


def test_a_failing_report_warns_and_does_not_fail_the_build(built: Build) -> None:
    reports = built.state / "reports"
    (reports / "build.html").unlink()
    (reports / "build.json").unlink()
    (reports / "build.json").mkdir()  # the report cannot be written over a directory
    try:
        result = built.make("repo")
        assert result.returncode == 0
        assert "make repo: warning: the build report could not be written" in result.stderr
        assert not (reports / "build.html").exists()
    finally:
        (reports / "build.json").rmdir()
    built.make("report")
    assert (reports / "build.html").exists()


# ---------------------------------------------------------------- partial builds


def test_partial_build_shows_pending_failed_and_rerun_attempts(
        tmp_path: Path, current_mini_tree: Path) -> None:
    build = Build(tmp_path, current_mini_tree)
    build.make("refcats")
    build.make("report")
    steps = steps_of(build)
    later = steps[steps.index("refcats") + 1:]
    assert later and "verify" in later
    page = parse(build.state / "reports" / "build.html")
    table = rows_by_first(page.tables["steps"])
    timeline = json.loads(page.scripts["timeline-data"])
    for step in steps:
        want = "pending" if step in later else "done"
        assert table[step]["state"] == want, step
        bars = [a for a in timeline["attempts"] if a["step"] == step]
        assert len(bars) == (1 if want == "done" else 0), step
    for step in later:
        assert table[step]["duration"] == "" and table[step]["attempts"] == "0"
    summary = (build.state / "reports" / "build.html").read_text()
    assert f"{len(steps) - len(later)} of {len(steps)} steps done" in summary
    assert f"{len(later)} pending" in summary
    assert "not written yet (make verify)" in summary

    # A failed attempt of a year (its ingest fails), then a successful rerun: two bars.
    failing = tmp_path / "failing-butler"
    failing.write_text(
        "#!/bin/sh\nfor a; do [ \"$a\" = --help ] && exec \"$REAL\" \"$@\"; done\n"
        "case \" $* \" in *\" ingest-raws \"*) echo 'simulated ingest failure' >&2; exit 1;; "
        "esac\nexec \"$REAL\" \"$@\"\n")
    failing.chmod(0o755)
    result = build.make("raws-y1-wfd", check=False,
                        env={"BUTLER_DOUBLE_REAL": str(failing),
                             "REAL": build.env["BUTLER_DOUBLE_REAL"]})
    assert result.returncode != 0
    build.make("report")
    page = parse(build.state / "reports" / "build.html")
    assert rows_by_first(page.tables["steps"])["raws-y1-wfd"]["state"] == "failed"
    timeline = json.loads(page.scripts["timeline-data"])
    assert [a["status"] for a in timeline["attempts"] if a["step"] == "raws-y1-wfd"] == ["failed"]
    build.make("raws-y1-wfd")
    build.make("report")
    page = parse(build.state / "reports" / "build.html")
    table = rows_by_first(page.tables["steps"])
    stamp = stamp_fields(build.state / "stamps" / "raws-y1-wfd.done")
    assert table["raws-y1-wfd"]["state"] == "done"
    assert table["raws-y1-wfd"]["attempts"] == "2"
    timeline = json.loads(page.scripts["timeline-data"])
    bars = [a for a in timeline["attempts"] if a["step"] == "raws-y1-wfd"]
    assert [a["status"] for a in bars] == ["failed", "done"]
    assert bars[0]["start"] < bars[1]["start"]
    assert bars[1]["seconds"] == float(stamp["duration_s"])


def test_no_repository_yet(tmp_path: Path, current_mini_tree: Path) -> None:
    build = Build(tmp_path, current_mini_tree)
    result = build.make("report")
    assert "build.html" in result.stdout
    page = parse(build.state / "reports" / "build.html")
    assert {row["state"] for row in rows_by_first(page.tables["steps"]).values()} == {"pending"}
    assert "no repository yet" in (build.state / "reports" / "build.html").read_text()


# ---------------------------------------------------------------- secrets


def test_registry_description_has_no_credentials() -> None:
    url = "postgresql+psycopg2://dp02:s3cret-Pa55@db.example.org:5433/dp02db"
    description = report.registry_description(url, "/repo", "ns")
    assert description == {"kind": "PostgreSQL", "driver": "postgresql+psycopg2",
                           "host": "db.example.org", "port": 5433, "database": "dp02db",
                           "namespace": "ns"}
    assert "s3cret" not in json.dumps(description) and "dp02:" not in json.dumps(description)
    assert report.redact(f"failed: {url}") == (
        "failed: postgresql+psycopg2://dp02:***@db.example.org:5433/dp02db")
    assert report.redact("x hunter22 y", ["hunter22"]) == "x *** y"


def test_no_password_from_the_url_or_the_db_auth_file_reaches_the_report(tmp_path: Path) -> None:
    """Passwords planted where the report reads (a check report, a stamp) come out redacted."""
    password, url_password = "Auth-File-Pa55word", "Url-Pa55word"
    auth = tmp_path / "db-auth.yaml"
    auth.write_text(f"- url: postgresql://db.example.org:5432/dp02\n  username: dp02\n"
                    f"  password: \"{password}\"\n")
    auth.chmod(0o600)
    state = tmp_path / "state"
    (state / "reports").mkdir(parents=True)
    (state / "stamps").mkdir()
    leaky = f"postgresql+psycopg2://dp02:{url_password}@db.example.org:5432/dp02"
    (state / "reports" / "verify.json").write_text(json.dumps({"created": "now", "checks": [
        {"check": "instrument", "expected": leaky, "found": password, "ok": False,
         "detail": f"connected with {password}"}]}))
    (state / "stamps" / "create.done").write_text(
        "step: create\nstart: 2026-01-01T00:00:00Z\nend: 2026-01-01T00:00:05Z\n"
        f"duration_s: 5.0\nresult: done\ntoolkit_revision: abc\nstack: {leaky}\ncommands:\n"
        f"  - butler create {leaky}\n")
    env = dict(os.environ, LSST_DB_AUTH=str(auth), PYTHONPATH=str(ROOT / "py"))
    subprocess.run([sys.executable, str(ROOT / "py" / "report.py"), "--state-dir", str(state),
                    "--repo", str(tmp_path / "no-repo"), "--steps", "create verify",
                    "--registry-db", leaky],
                   env=env, check=True, capture_output=True, text=True)
    for name in ("build.html", "build.json"):
        text = (state / "reports" / name).read_text()
        assert password not in text and url_password not in text, name
        assert "db.example.org" in text and "dp02:***@" in text, name
    # bin/report refuses a REGISTRY_DB with a password, without echoing it.
    result = subprocess.run([str(ROOT / "bin" / "report")], capture_output=True, text=True,
                            env=dict(os.environ, ENV_FILE=str(tmp_path / "none.env"),
                                     REGISTRY_DB=leaky, STATE_DIR=str(state),
                                     REPO=str(tmp_path / "no-repo")), check=False)
    assert result.returncode != 0
    assert "carries a password" in result.stderr and url_password not in result.stderr
