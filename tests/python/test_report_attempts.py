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


def test_slurm_tasks_are_rows_under_their_year(tmp_path: Path) -> None:
    """SCHEDULER=slurm: each array task's log (logs/raws/<year>-<NNNN>.log) is a bar of its
    own, on a row under its year; a task that failed and was resubmitted has both bars."""
    raws = tmp_path / "logs" / "raws"
    raws.mkdir(parents=True)
    for task, start in (("y1-wfd-0000", "10:00:00"), ("y1-wfd-0001", "10:00:01")):
        write_log(raws / f"{task}.log", task, f"2026-12-01T{start}Z",
                  f"# step {task} done 2026-12-01T10:00:30Z in 29.0 s")
    write_log(raws / "y1-wfd-0001.log.1", "y1-wfd-0001", "2026-12-01T09:50:00Z",
              "# step y1-wfd-0001 FAILED (exit 1) 2026-12-01T09:50:10Z")
    write_log(raws / "y2-wfd-0000.log", "y2-wfd-0000", "2026-12-01T10:01:00Z", None)
    (raws / "y1-wfd-0000.out").write_text("job output, not a step log\n")
    (raws / "y3-wfd-0000.log").write_text("# step y3-wfd-0000 started 2026-12-01T10:00:00Z\n")
    tasks = report.collect_tasks(["y1-wfd", "y2-wfd"], str(tmp_path))
    assert [(t["task"], t["status"], t["step"]) for t in tasks] == [
        ("y1-wfd-0000", "done", "raws-y1-wfd"),
        ("y1-wfd-0001", "failed", "raws-y1-wfd"),
        ("y1-wfd-0001", "done", "raws-y1-wfd"),
        ("y2-wfd-0000", "interrupted", "raws-y2-wfd")]
    assert tasks[0]["seconds"] == 29.0
    steps = [{"step": s, "state": "pending"} for s in
             ("refcats", "raws-y1-wfd", "raws-y2-wfd", "visits")]
    assert report.timeline_rows(steps, tasks) == [
        "refcats", "raws-y1-wfd", "  task y1-wfd-0000", "  task y1-wfd-0001",
        "raws-y2-wfd", "  task y2-wfd-0000", "visits"]
    png = report.timeline_png(steps, [], tasks)
    assert png.startswith(b"\x89PNG")
    assert report.collect_tasks(["y1-wfd"], str(tmp_path / "local-build")) == []


def test_ctrl_c_is_an_interrupted_attempt(tmp_path: Path) -> None:
    """A step stopped by a signal ends its log with INTERRUPTED (bin/lib/dp02.sh)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    write_log(logs / "visits.log", "visits", "2026-12-01T11:00:00Z",
              "# step visits INTERRUPTED (exit 130) 2026-12-01T11:00:09Z")
    got = report.collect_steps(["visits"], str(tmp_path))
    (attempt,) = got["attempts"]
    assert attempt["status"] == "interrupted" and attempt["exit"] == 130
    assert attempt["seconds"] == 9.0
    assert got["steps"][0]["state"] == "interrupted"
