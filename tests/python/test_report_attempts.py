"""Unit tests of the build report's attempts (``py/report.py``): stamps, logs, rotated logs.

A step that runs again moves its earlier log to ``<step>.log.1``, ``.2``, ...
(``bin/lib/dp02.sh``); the report must draw each of those attempts, without an
intermediate report having seen them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))

import report  # noqa: E402


def write_log(path: Path, step: str, start: str, ending: str | None) -> None:
    lines = [f"# step {step} started {start} (toolkit abc1234)", "$ butler something"]
    if ending:
        lines.append(ending)
    path.write_text("\n".join(lines) + "\n")


def test_rotated_logs_are_earlier_attempts(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    stamps = tmp_path / "stamps"
    logs.mkdir()
    stamps.mkdir()
    step = "refcats"
    # Attempt 1 failed, attempt 2 was interrupted (no ending), attempt 3 succeeded.
    write_log(logs / f"{step}.log.1", step, "2026-12-01T10:00:00Z",
              f"# step {step} FAILED (exit 1) 2026-12-01T10:00:05Z")
    write_log(logs / f"{step}.log.2", step, "2026-12-01T10:01:00Z", None)
    write_log(logs / f"{step}.log", step, "2026-12-01T10:02:00Z",
              f"# step {step} done 2026-12-01T10:02:07Z in 7.0 s")
    (stamps / f"{step}.done").write_text(
        f"step: {step}\nstart: 2026-12-01T10:02:00Z\nend: 2026-12-01T10:02:07Z\n"
        "duration_s: 7.0\nresult: done\ntoolkit_revision: abc1234\nstack: lite\ncommands:\n")
    # A stray file that is not a rotated log is ignored.
    (logs / f"{step}.log.bak").write_text("not a log\n")
    got = report.collect_steps([step, "chain"], str(tmp_path))
    attempts = [(a["status"], a["source"]) for a in got["attempts"] if a["step"] == step]
    assert attempts == [("failed", "earlier log"), ("interrupted", "earlier log"),
                        ("done", "stamp")]
    failed = got["attempts"][0]
    assert failed["exit"] == 1 and failed["seconds"] == 5.0
    rows = {row["step"]: row for row in got["steps"]}
    assert rows[step]["state"] == "done" and rows[step]["attempts"] == 3
    assert rows["chain"]["state"] == "pending" and rows["chain"]["attempts"] == 0


def test_an_earlier_report_does_not_double_an_attempt(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    step = "create"
    write_log(logs / f"{step}.log.1", step, "2026-12-01T09:00:00Z",
              f"# step {step} FAILED (exit 2) 2026-12-01T09:00:01Z")
    write_log(logs / f"{step}.log", step, "2026-12-01T09:05:00Z",
              f"# step {step} FAILED (exit 2) 2026-12-01T09:05:01Z")
    first = report.collect_steps([step], str(tmp_path))
    again = report.collect_steps([step], str(tmp_path), previous=first["attempts"])
    assert len(first["attempts"]) == len(again["attempts"]) == 2
    assert [a["status"] for a in again["attempts"]] == ["failed", "failed"]
    assert again["steps"][0]["state"] == "failed"
