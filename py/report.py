"""The build report: one self-contained HTML page (and its data as JSON) about a build.

``make report`` (``bin/report``) writes ``STATE_DIR/reports/build.html`` and
``STATE_DIR/reports/build.json`` from what the build left behind, at any point of it:

- **Timeline:** one row per step of ``make repo`` (one per raw year), a bar per attempt,
  from the stamps (``STATE_DIR/stamps/<step>.done``: start, end, duration, result) and the
  logs (``STATE_DIR/logs/<step>.log``: its ``# step ... started/FAILED/done`` lines). A
  step that runs again rotates its log (``<step>.log.1`` the oldest attempt, then ``.2``,
  ...), so every attempt has a bar; attempts seen by an earlier report (the previous
  ``build.json``) are kept too, for logs removed since.
- **Counts:** expected vs found of every check of ``verify.json`` and ``check-inputs.json``
  (mismatches first), raws per year and raws/s per year, datasets per dataset type.
- **Environment:** toolkit revision, stack (from the stamps), runtime, registry kind
  (host and database name only, never credentials), ``TRANSFER``, ``JOBS``.
- **Collections:** the collection tree of the registry.

The registry is read with a read-only Butler, only through calls that exist at daf_butler
23 and today (``registry.queryCollections``, ``getCollectionType``,
``getCollectionChain``, ``queryDatasetTypes``, ``queryDatasets``); a missing or partial
repository leaves those sections empty with the reason, and the report is still written.
Runs on Python 3.8 (the v23 stack): heavy imports are inside the functions.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import html
import io
import json
import os
import re
import sys
import time
from typing import Any

import url_credentials

REPORT_VERSION = 1
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STARTED = re.compile(r"^# step (?P<step>\S+) started (?P<time>\S+)")
FAILED = re.compile(r"^# step (?P<step>\S+) FAILED \(exit (?P<status>\d+)\) (?P<time>\S+)")
INTERRUPTED = re.compile(
    r"^# step (?P<step>\S+) INTERRUPTED \(exit (?P<status>\d+)\) (?P<time>\S+)")
DONE = re.compile(r"^# step (?P<step>\S+) done (?P<time>\S+) in (?P<duration>[0-9.]+) s")
INGESTED = re.compile(r"Ingested (\d+) distinct Butler dataset")
VISIT_DIR = re.compile(r"\A[0-9]{8}\Z")
FIGURE_SLOT = "@@TIMELINE-PNG@@"

# Colours of the attempts by status (and the legend's words for them).
STATUS_COLOURS = {
    "done": "#2e7d32",
    "already-done": "#9ccc65",
    "failed": "#c62828",
    "interrupted": "#ef6c00",
    "superseded": "#9e9e9e",
}
STATUS_WORDS = {
    "done": "done",
    "already-done": "done (the registry already held the work)",
    "failed": "failed",
    "interrupted": "interrupted (or still running)",
    "superseded": "done, since reset or rerun",
}


# ---------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Hide the password of every URL in ``text``, and every known secret.

    Parameters
    ----------
    text : `str`
        Any text that goes into the report.
    secrets : `list` [`str`], optional
        Strings that must never appear (passwords of the db-auth file); those shorter
        than 4 characters are left alone (they would match ordinary text).

    Returns
    -------
    text : `str`
        ``scheme://user:***@host...`` instead of ``scheme://user:password@host...``.
    """
    text = url_credentials.redact(text)
    for secret in secrets or []:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def db_auth_secrets() -> list[str]:
    """Return the passwords of the db-auth file, to keep them out of the report.

    The file (``LSST_DB_AUTH`` or ``~/.lsst/db-auth.yaml``) is read only to know what to
    scrub; nothing of it is written anywhere.

    Returns
    -------
    secrets : `list` [`str`]
        The ``password`` values (empty when there is no readable file).
    """
    path = os.environ.get("LSST_DB_AUTH") or os.path.expanduser("~/.lsst/db-auth.yaml")
    try:
        import yaml

        with open(path) as stream:
            entries = yaml.safe_load(stream)
    except Exception:  # noqa: BLE001 -- no file, unreadable or not YAML: nothing to scrub
        return []
    if not isinstance(entries, list):
        return []
    return [str(e["password"]) for e in entries if isinstance(e, dict) and e.get("password")]


def registry_description(registry_db: str, repo: str, namespace: str = "") -> dict[str, Any]:
    """Describe the registry by kind, host and database name, never credentials.

    Parameters
    ----------
    registry_db : `str`
        ``REGISTRY_DB`` (empty for SQLite inside the repository).
    repo : `str`
        ``REPO``.
    namespace : `str`, optional
        ``REGISTRY_NAMESPACE``.

    Returns
    -------
    description : `dict`
        ``kind`` (``SQLite`` or ``PostgreSQL``), and ``file`` or ``host``, ``port``,
        ``database``, ``namespace``.
    """
    if not registry_db:
        return {"kind": "SQLite", "file": os.path.join(repo, "gen3.sqlite3")}
    from urllib.parse import urlsplit

    scheme = registry_db.split("://", 1)[0].lower() if "://" in registry_db else ""
    kind = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(scheme.split("+")[0],
                                                                 scheme or "unknown")
    credentials = url_credentials.inspect_url(registry_db)
    if credentials.password:
        # Refused before any step runs; should one get here, it is described from what
        # SQLAlchemy parses, and only when its host can be told apart from the password.
        port, database = None, ""
        if credentials.host:
            try:
                from sqlalchemy.engine import make_url

                parsed = make_url(registry_db)
                port, database = parsed.port, parsed.database or ""
            except Exception:  # noqa: BLE001 - not parsable: described by its host alone
                pass
        return {"kind": kind, "driver": scheme, "host": credentials.host or "", "port": port,
                "database": database, "namespace": namespace}
    parts = urlsplit(registry_db)
    try:
        port = parts.port
    except ValueError:
        port = None
    return {
        "kind": kind,
        "driver": parts.scheme,
        "host": parts.hostname or "",
        "port": port,
        "database": parts.path.lstrip("/"),
        "namespace": namespace,
    }


# ---------------------------------------------------------------------------
# Stamps and logs
# ---------------------------------------------------------------------------


def parse_time(text: str) -> float | None:
    """Return the epoch seconds of a ``YYYY-MM-DDTHH:MM:SSZ`` time, or None."""
    try:
        moment = datetime.datetime.strptime(text, TIME_FORMAT)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def format_time(epoch: float | None) -> str:
    """Return ``YYYY-MM-DDTHH:MM:SSZ`` for epoch seconds (empty for None)."""
    if epoch is None:
        return ""
    return time.strftime(TIME_FORMAT, time.gmtime(epoch))


def read_stamp(path: str) -> dict[str, Any] | None:
    """Read a stamp file (``key: value`` lines, then the ``commands:`` list).

    Parameters
    ----------
    path : `str`
        ``STATE_DIR/stamps/<step>.done``.

    Returns
    -------
    stamp : `dict` or None
        Its fields as strings, ``commands`` as a list; None when there is no stamp.
    """
    try:
        with open(path) as stream:
            lines = stream.read().splitlines()
    except OSError:
        return None
    stamp: dict[str, Any] = {"commands": []}
    in_commands = False
    for line in lines:
        if in_commands and line.startswith("  - "):
            stamp["commands"].append(line[4:])
            continue
        in_commands = False
        key, sep, value = line.partition(": ")
        if line == "commands:":
            in_commands = True
        elif sep:
            stamp[key] = value
    return stamp


def read_log(path: str) -> dict[str, Any] | None:
    """Read the step lines of a step log.

    Parameters
    ----------
    path : `str`
        ``STATE_DIR/logs/<step>.log``.

    Returns
    -------
    log : `dict` or None
        ``start`` (epoch), ``outcome`` (``done``, ``failed`` or None when the log has no
        ending), ``end`` (epoch of the ending line, else the file's modification time),
        ``exit`` (the failure's exit status), ``duration_s`` (of the done line) and
        ``ingested`` (datasets the ingest commands reported, None when they said
        nothing). None when there is no log or it has no start line.
    """
    try:
        with open(path, errors="replace") as stream:
            lines = stream.read().splitlines()
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    if not lines:
        return None
    first = STARTED.match(lines[0])
    if not first:
        return None
    log: dict[str, Any] = {"start": parse_time(first.group("time")), "outcome": None,
                           "end": mtime, "exit": None, "duration_s": None, "ingested": None}
    for line in lines[1:]:
        found = INGESTED.search(line)
        if found:
            log["ingested"] = (log["ingested"] or 0) + int(found.group(1))
    last = lines[-1]
    failed, done = FAILED.match(last), DONE.match(last)
    stopped = INTERRUPTED.match(last)
    if stopped:
        # Ctrl-C or SIGTERM: an interrupted attempt (outcome None) that ended at that line.
        log.update(end=parse_time(stopped.group("time")) or mtime,
                   exit=int(stopped.group("status")))
    elif failed:
        log.update(outcome="failed", end=parse_time(failed.group("time")) or mtime,
                   exit=int(failed.group("status")))
    elif done:
        log.update(outcome="done", end=parse_time(done.group("time")) or mtime,
                   duration_s=float(done.group("duration")))
    return log


def rotated_logs(logs_dir: str, step: str) -> list[str]:
    """Return the rotated logs of a step's earlier attempts, oldest first.

    Parameters
    ----------
    logs_dir : `str`
        ``STATE_DIR/logs``.
    step : `str`
        The step.

    Returns
    -------
    paths : `list` [`str`]
        ``<step>.log.1``, ``<step>.log.2``, ... that exist, in order of their number.
    """
    prefix = step + ".log."
    try:
        names = os.listdir(logs_dir)
    except OSError:
        return []
    numbered = [(int(n[len(prefix):]), n) for n in names
                if n.startswith(prefix) and n[len(prefix):].isdigit()]
    return [os.path.join(logs_dir, n) for _, n in sorted(numbered)]


def log_status(log: dict[str, Any], done: str = "superseded") -> str:
    """Return the status of the attempt a log describes: failed, interrupted, or ``done``.

    Parameters
    ----------
    log : `dict`
        What `read_log` read.
    done : `str`, optional
        The status of a log that ended in success: ``superseded`` when a later attempt (or
        the stamp) stands for the step, ``done`` when this log is the latest word.

    Returns
    -------
    status : `str`
        ``failed``, ``interrupted`` (no ending, or a signal's INTERRUPTED line) or ``done``.
    """
    return {"failed": "failed", "done": done}.get(log["outcome"] or "", "interrupted")


def log_attempt(step: str, log: dict[str, Any], status: str, source: str) -> dict[str, Any]:
    """Return the attempt that a step log (`read_log`) describes.

    Parameters
    ----------
    step : `str`
        The step.
    log : `dict`
        What `read_log` read.
    status : `str`
        ``failed``, ``interrupted`` or ``superseded``.
    source : `str`
        Where it was seen (``log``, ``earlier log``).

    Returns
    -------
    attempt : `dict`
        ``step``, ``status``, ``start``, ``seconds``, ``end``, ``source``, ``exit``.
    """
    seconds = (log["duration_s"] if log["duration_s"] is not None
               else max(0.0, log["end"] - log["start"]))
    return {"step": step, "status": status, "start": log["start"], "seconds": seconds,
            "end": log["start"] + seconds, "source": source, "exit": log["exit"]}


def collect_tasks(years: list[str], state_dir: str) -> list[dict[str, Any]]:
    """Every attempt of every Slurm array task of the raws (``SCHEDULER=slurm``).

    Each task is one chunk of a year's visit directories, run as ``bin/raws --chunk``,
    whose step log is ``STATE_DIR/logs/raws/<year>-<NNNN>.log`` (rotated like the steps',
    ``.1`` the oldest attempt).

    Parameters
    ----------
    years : `list` [`str`]
        ``RAW_YEARS``.
    state_dir : `str`
        ``STATE_DIR``.

    Returns
    -------
    tasks : `list` [`dict`]
        One attempt per log: ``step`` (``raws-<year>``), ``task`` (``<year>-<NNNN>``),
        ``status`` (``done``, ``failed``, ``interrupted``; ``superseded`` for an earlier
        success), ``start``, ``seconds``, ``end``, ``source``, ``exit``. Empty when the raws
        did not run on Slurm.
    """
    logs_dir = os.path.join(state_dir, "logs", "raws")
    try:
        names = sorted(os.listdir(logs_dir))
    except OSError:
        return []
    tasks = []
    for year in years:
        pattern = re.compile(rf"\A{re.escape(year)}-[0-9]+\Z")
        for task in sorted({n[:-4] for n in names if n.endswith(".log") and pattern.match(n[:-4])}):
            paths = rotated_logs(logs_dir, task) + [os.path.join(logs_dir, task + ".log")]
            for number, path in enumerate(paths):
                log = read_log(path)
                if log is None or log["start"] is None:
                    continue
                latest = number == len(paths) - 1
                attempt = log_attempt(f"raws-{year}", log,
                                      log_status(log, "done" if latest else "superseded"),
                                      "task log" if latest else "earlier task log")
                attempt["task"] = task
                tasks.append(attempt)
    return tasks


def timeline_rows(steps: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> list[str]:
    """Return the labels of the timeline's rows: each step, its Slurm tasks under it.

    Parameters
    ----------
    steps : `list` [`dict`]
        The step rows, in order.
    tasks : `list` [`dict`]
        `collect_tasks`.

    Returns
    -------
    labels : `list` [`str`]
        ``check-inputs``, ..., ``raws-y1-wfd``, ``  task y1-wfd-0000``, ..., ``visits``, ...
    """
    labels = []
    for row in steps:
        labels.append(row["step"])
        for task in sorted({t["task"] for t in tasks if t["step"] == row["step"]}):
            labels.append(f"  task {task}")
    return labels


def collect_steps(steps: list[str], state_dir: str,
                  previous: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every step's state and every attempt seen, from the stamps, the logs and the last report.

    Parameters
    ----------
    steps : `list` [`str`]
        The steps of ``make repo``, in order (``bin/config steps``).
    state_dir : `str`
        ``STATE_DIR``.
    previous : `list` [`dict`], optional
        The ``attempts`` of the previous ``build.json``: those not seen now are kept.

    Returns
    -------
    result : `dict`
        ``steps``: one row per step (state ``done``, ``failed``, ``interrupted`` or
        ``pending``, the stamp's fields); ``attempts``: every attempt (step, status, start,
        end, seconds, source).
    """
    rows: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for step in steps:
        stamp = read_stamp(os.path.join(state_dir, "stamps", step + ".done"))
        log = read_log(os.path.join(state_dir, "logs", step + ".log"))
        row: dict[str, Any] = {"step": step, "state": "pending", "start": "", "end": "",
                               "duration_s": "", "result": "", "toolkit_revision": "",
                               "stack": "", "ingested": None, "exit": None}
        stamp_start = None
        if stamp is not None:
            stamp_start = parse_time(stamp.get("start", ""))
            try:
                seconds = float(stamp.get("duration_s", ""))
            except ValueError:
                seconds = 0.0
            already = stamp.get("result", "done") != "done"
            row.update(state="done", start=stamp.get("start", ""), end=stamp.get("end", ""),
                       duration_s=stamp.get("duration_s", ""),
                       result=stamp.get("result", ""),
                       toolkit_revision=stamp.get("toolkit_revision", ""),
                       stack=stamp.get("stack", ""))
            if stamp_start is not None:
                attempts.append({"step": step, "status": "already-done" if already else "done",
                                 "start": stamp_start, "seconds": seconds,
                                 "end": stamp_start + seconds, "source": "stamp"})
        if log is not None and log["start"] is not None:
            if log["outcome"] == "done" and log["start"] == stamp_start:
                row["ingested"] = log["ingested"]
            else:
                status = log_status(log)
                attempts.append(log_attempt(step, log, status, "log"))
                if stamp is None and status in ("failed", "interrupted"):
                    row.update(state=status, start=format_time(log["start"]),
                               end=format_time(log["end"]) if status == "failed" else "",
                               exit=log["exit"])
        # Earlier attempts whose logs were rotated (<step>.log.1 the oldest, bin/lib/dp02.sh).
        for old_log in rotated_logs(os.path.join(state_dir, "logs"), step):
            earlier = read_log(old_log)
            if earlier is None or earlier["start"] is None or earlier["start"] == stamp_start:
                continue
            attempts.append(log_attempt(step, earlier, log_status(earlier), "earlier log"))
        rows.append(row)
    seen = {(a["step"], a["start"]) for a in attempts}
    for old in previous or []:
        try:
            key = (str(old["step"]), float(old["start"]))
            float(old["seconds"])
        except (KeyError, TypeError, ValueError):
            continue
        if key in seen or key[0] not in steps:
            continue
        seen.add(key)
        kept = dict(old)
        kept["source"] = "earlier report"
        if kept.get("status") in ("done", "already-done"):
            kept["status"] = "superseded"
        attempts.append(kept)
    attempts.sort(key=lambda a: (steps.index(a["step"]), a["start"]))
    for row in rows:
        row["attempts"] = sum(1 for a in attempts if a["step"] == row["step"])
    return {"steps": rows, "attempts": attempts}


# ---------------------------------------------------------------------------
# Checks (verify.json, check-inputs.json)
# ---------------------------------------------------------------------------


def load_json(path: str) -> dict[str, Any] | None:
    """Return the JSON document at ``path``, or None when it is missing or unreadable."""
    try:
        with open(path) as stream:
            doc = json.load(stream)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def collect_checks(reports_dir: str) -> dict[str, Any]:
    """Expected vs found of every check of the verify and check-inputs reports.

    Parameters
    ----------
    reports_dir : `str`
        ``STATE_DIR/reports``.

    Returns
    -------
    checks : `dict`
        ``rows`` (source, check, expected, found, status, ok, note), mismatches and
        errors first, then warnings, then the rest in report order; ``sources``: each
        report's creation time, or why it is missing; ``figures``: check-inputs' figures.
    """
    rows: list[dict[str, Any]] = []
    sources: dict[str, str] = {}
    verify = load_json(os.path.join(reports_dir, "verify.json"))
    if verify is None:
        sources["verify"] = "not written yet (make verify)"
    else:
        sources["verify"] = str(verify.get("created", ""))
        for check in verify.get("checks", []):
            ok = bool(check.get("ok"))
            rows.append({"source": "verify", "check": str(check.get("check", "")),
                         "expected": check.get("expected", ""),
                         "found": check.get("found", ""),
                         "status": "ok" if ok else "MISMATCH", "ok": ok,
                         "note": str(check.get("detail", ""))})
    inputs = load_json(os.path.join(reports_dir, "check-inputs.json"))
    figures: dict[str, Any] = {}
    if inputs is None:
        sources["check-inputs"] = "not written yet (make check-inputs)"
    else:
        sources["check-inputs"] = str(inputs.get("created", ""))
        figures = inputs.get("figures") or {}
        for check in inputs.get("checks", []):
            details = check.get("details") or {}
            status = str(check.get("status", ""))
            rows.append({"source": "check-inputs", "check": str(check.get("check", "")),
                         "expected": details.get("expected", ""),
                         "found": details.get("found", ""), "status": status,
                         "ok": status in ("ok", "skipped"),
                         "note": str(check.get("summary", ""))})
    rank = {"MISMATCH": 0, "error": 0, "warning": 1}
    order = sorted(range(len(rows)), key=lambda i: (rank.get(rows[i]["status"], 2), i))
    return {"rows": [rows[i] for i in order], "sources": sources, "figures": figures}


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------


def count_results(results: Any) -> int:
    """Count query results with the query's own count when it has one (millions of raws)."""
    counter = getattr(results, "count", None)
    if counter is not None:
        try:
            return int(counter(exact=True))
        except TypeError:
            pass
    return sum(1 for _ in results)


def year_exposures(raw_dir: str, years: list[str]) -> dict[str, list[int]]:
    """Return the visit ids (8-digit directory names) of each year's directory."""
    out: dict[str, list[int]] = {}
    for year in years:
        try:
            with os.scandir(os.path.join(raw_dir, year)) as entries:
                out[year] = sorted(int(e.name) for e in entries
                                   if VISIT_DIR.match(e.name) and e.is_dir())
        except OSError:
            out[year] = []
    return out


def collect_registry(repo: str, raw_collection: str, instrument: str, raw_dir: str,
                     years: list[str]) -> dict[str, Any]:
    """Datasets per dataset type and per run, raws and exposures per year, the collections.

    Parameters
    ----------
    repo : `str`
        ``REPO``; opened read-only.
    raw_collection, instrument : `str`
        ``RAW_COLLECTION``, ``INSTRUMENT``.
    raw_dir : `str`
        ``DP02_RAW`` (its year directories say which exposures belong to which year).
    years : `list` [`str`]
        ``RAW_YEARS``.

    Returns
    -------
    registry : `dict`
        ``available`` (bool) and ``reason`` when not; ``datasets_per_type``,
        ``collections`` (name to type, children, datasets per type),
        ``raws_per_year`` (year to raws and exposures found).
    """
    if not os.path.isfile(os.path.join(repo, "butler.yaml")):
        return {"available": False, "reason": f"no repository yet ({repo} has no butler.yaml)"}
    from lsst.daf.butler import Butler, CollectionType

    registry = Butler(repo, writeable=False).registry
    dataset_types = sorted(dt.name for dt in registry.queryDatasetTypes() if "." not in dt.name)
    collections: dict[str, dict[str, Any]] = {}
    per_type: dict[str, int] = {name: 0 for name in dataset_types}
    for name in sorted(registry.queryCollections()):
        ctype = registry.getCollectionType(name)
        entry: dict[str, Any] = {"type": ctype.name}
        if ctype == CollectionType.CHAINED:
            entry["children"] = [str(c) for c in registry.getCollectionChain(name)]
        elif ctype == CollectionType.RUN:
            counts: dict[str, int] = {}
            for dataset_type in dataset_types:
                n = count_results(registry.queryDatasets(dataset_type, collections=[name]))
                if n:
                    counts[dataset_type] = n
                    per_type[dataset_type] += n
            entry["datasets"] = counts
        collections[name] = entry
    raws: dict[str, dict[str, Any]] = {}
    ids = year_exposures(raw_dir, years)
    have_raws = raw_collection in collections and "raw" in dataset_types
    for year in years:
        mine = ids.get(year) or []
        if not mine or not have_raws:
            raws[year] = {"raws": 0, "exposures": 0}
            continue
        low, high = mine[0], mine[-1]
        where = f"exposure >= {low} AND exposure <= {high}"
        others = any(low <= v <= high for y, vs in ids.items() if y != year for v in vs)
        refs = registry.queryDatasets("raw", collections=[raw_collection], where=where,
                                      instrument=instrument)
        if others:
            # Years whose visit ids interleave: count this year's exposures one by one.
            wanted = set(mine)
            exposures = [int(ref.dataId["exposure"]) for ref in refs]
            mine_found = [e for e in exposures if e in wanted]
            raws[year] = {"raws": len(mine_found), "exposures": len(set(mine_found))}
        else:
            records = registry.queryDimensionRecords("exposure", where=where,
                                                     instrument=instrument)
            raws[year] = {"raws": count_results(refs), "exposures": count_results(records)}
    return {"available": True, "datasets_per_type": per_type, "collections": collections,
            "raws_per_year": raws}


def collection_tree(collections: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Nest the collections: the roots are those no chain holds.

    Parameters
    ----------
    collections : `dict` [`str`, `dict`]
        Name to ``type``, ``children`` (CHAINED), ``datasets`` (RUN).

    Returns
    -------
    tree : `list` [`dict`]
        Nodes ``name``, ``type``, ``datasets``, ``children`` (nodes), sorted by name.
    """
    held = {c for entry in collections.values() for c in entry.get("children", [])}

    def node(name: str, path: tuple) -> dict[str, Any]:
        entry = collections.get(name, {"type": "missing"})
        children = [] if name in path else [
            node(c, path + (name,)) for c in entry.get("children", [])]
        return {"name": name, "type": entry.get("type", ""),
                "datasets": entry.get("datasets", {}), "children": children}

    return [node(name, ()) for name in sorted(collections) if name not in held]


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------


def package_version(name: str) -> str:
    """Return an installed distribution's version without importing it (or 'not installed')."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover -- Python < 3.8
        return "unknown"
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def describe_runtime(settings: dict[str, str]) -> dict[str, str]:
    """Where the report runs: container, host stack or lite runtime.

    Parameters
    ----------
    settings : `dict` [`str`, `str`]
        The toolkit settings given to the report (``RUNTIME``, ``STACK_IMAGE``).

    Returns
    -------
    runtime : `dict` [`str`, `str`]
        ``kind`` and what is known of it (image, digest, stack tag, Python).
    """
    out = {"python": sys.version.split()[0],
           "daf_butler": package_version("lsst-daf-butler"),
           "matplotlib": package_version("matplotlib")}
    distrib = os.environ.get("LSST_DISTRIB_DIR", "")
    tag = os.path.basename(os.path.dirname(distrib)) if distrib else ""
    image = settings.get("STACK_IMAGE", "")
    digest = image.split("@", 1)[1] if "@" in image else "unknown (STACK_IMAGE has no @digest)"
    if os.environ.get("DP02_IN_CONTAINER"):
        out.update(kind="container", lsst_distrib=tag or "unknown",
                   image="the toolkit image (its name is not visible inside the container)",
                   toolkit_image_revision=os.environ.get("DP02_TOOLKIT_REVISION", "unknown"))
    elif settings.get("RUNTIME") == "container":
        out.update(kind="container (the build ran in it; this report on the host)",
                   image=image, digest=digest)
    elif distrib:
        out.update(kind="host (a site stack)", lsst_distrib=tag)
    else:
        out.update(kind="lite (the PyPI daf_butler runtime, make install)",
                   prefix=sys.prefix)
    return out


# ---------------------------------------------------------------------------
# The timeline figure
# ---------------------------------------------------------------------------


def time_unit(span: float) -> tuple:
    """Return (divisor, unit name) for an x axis spanning ``span`` seconds."""
    if span <= 180:
        return 1.0, "s"
    if span <= 3 * 3600:
        return 60.0, "min"
    if span <= 3 * 86400:
        return 3600.0, "h"
    return 86400.0, "days"


def human_seconds(seconds: float) -> str:
    """Return a duration as people read it: ``4.8 s``, ``12 min``, ``3.2 h``."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def timeline_png(steps: list[dict[str, Any]], attempts: list[dict[str, Any]],
                 tasks: list[dict[str, Any]] | None = None) -> bytes:
    """Draw the Gantt chart of the attempts, one row per step, with matplotlib's Agg.

    Parameters
    ----------
    steps : `list` [`dict`]
        The step rows (their order is the rows' order; pending ones are labelled).
    attempts : `list` [`dict`]
        Every attempt: step, status, start (epoch), seconds.
    tasks : `list` [`dict`], optional
        The Slurm array tasks' attempts (`collect_tasks`): a row per task under its year.

    Returns
    -------
    png : `bytes`
        The figure as PNG.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    tasks = tasks or []
    names = timeline_rows(steps, tasks)
    everything = attempts + tasks
    t0 = min((a["start"] for a in everything), default=0.0)
    t1 = max((a["start"] + a["seconds"] for a in everything), default=t0 + 1.0)
    span = max(t1 - t0, 1.0)
    scale, unit = time_unit(span)
    fig = Figure(figsize=(11, 1.4 + 0.32 * len(names)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    minimum = span / 400.0
    for a in everything:
        y = names.index(f"  task {a['task']}" if "task" in a else a["step"])
        left = (a["start"] - t0) / scale
        width = max(a["seconds"], minimum) / scale
        ax.barh(y, width, left=left, height=0.6, color=STATUS_COLOURS.get(a["status"], "#607d8b"),
                edgecolor="black", linewidth=0.4)
    for row in steps:
        y = names.index(row["step"])
        mine = [a for a in attempts if a["step"] == row["step"]]
        if mine:
            last = mine[-1]
            label = human_seconds(last["seconds"])
            if last["status"] == "failed":
                label += f" FAILED (exit {last.get('exit')})"
            elif last["status"] == "interrupted":
                label += " interrupted"
            if row["state"] == "pending":
                label += " (now pending)"
            ax.text((last["start"] + max(last["seconds"], minimum) - t0) / scale + span / scale
                    / 150, y, label, va="center", fontsize=8)
        else:
            ax.text(0, y, " pending", va="center", fontsize=8, style="italic", color="#616161")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=9)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, span / scale * 1.18)
    ax.set_xlabel(f"{unit} since {format_time(t0) if everything else 'the start'} (UTC)")
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    present = [s for s in STATUS_COLOURS if any(a["status"] == s for a in everything)]
    handles = [Patch(facecolor=STATUS_COLOURS[s], edgecolor="black", linewidth=0.4,
                     label=STATUS_WORDS[s]) for s in present]
    if any(row["state"] == "pending" for row in steps):
        handles.append(Patch(facecolor="white", edgecolor="#9e9e9e", label="pending (no bar)"))
    if handles:
        ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                  ncol=len(handles), frameon=False, borderaxespad=0.2)
    ax.set_title("Steps of make repo: one bar per attempt", fontsize=11, loc="left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #212121; max-width: 1200px; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #bdbdbd; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #d0d0d0; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eeeeee; } td.num { text-align: right; }
#checks td:nth-child(-n+2), #steps td:first-child { white-space: nowrap; }
tr.bad td { background: #ffebee; } tr.warn td { background: #fff8e1; }
tr.pending td { color: #757575; font-style: italic; }
.state-done { color: #2e7d32; } .state-failed { color: #c62828; font-weight: bold; }
.state-interrupted { color: #ef6c00; font-weight: bold; }
img.figure { max-width: 100%; border: 1px solid #e0e0e0; }
ul.tree { list-style: none; padding-left: 1.2em; } .ctype { color: #616161; font-size: 0.85em; }
.summary { font-size: 1.05em; } .muted { color: #757575; }
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text (None as empty)."""
    return html.escape("" if value is None else str(value))


def table(headers: list[str], rows: list[list[Any]], row_classes: list[str] | None = None,
          table_id: str = "", numeric: tuple = ()) -> str:
    """Render a plain HTML table; cells are escaped, ``numeric`` columns right-aligned."""
    out = [f'<table{f" id={chr(34)}{table_id}{chr(34)}" if table_id else ""}>',
           "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr>"]
    for i, row in enumerate(rows):
        cls = (row_classes or [""] * len(rows))[i]
        cells = "".join(
            f'<td{" class=" + chr(34) + "num" + chr(34) if j in numeric else ""}>{esc(c)}</td>'
            for j, c in enumerate(row))
        out.append(f'<tr{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{cells}</tr>')
    out.append("</table>")
    return "\n".join(out)


def render_tree(nodes: list[dict[str, Any]]) -> str:
    """Render the collection tree as nested lists."""
    if not nodes:
        return ""
    items = []
    for n in nodes:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(n["datasets"].items()))
        items.append(f'<li><code>{esc(n["name"])}</code> <span class="ctype">{esc(n["type"])}'
                     f'{" &middot; " + esc(counts) if counts else ""}</span>'
                     f'{render_tree(n["children"])}</li>')
    return '<ul class="tree">' + "".join(items) + "</ul>"


def render_html(doc: dict[str, Any], png: bytes | None) -> str:
    """Render the whole report page (self-contained: inline CSS, the figure embedded).

    Parameters
    ----------
    doc : `dict`
        The report document (what ``build.json`` holds).
    png : `bytes` or None
        The timeline figure, or None when it could not be drawn.

    Returns
    -------
    page : `str`
        The HTML document.
    """
    steps = doc["timeline"]["steps"]
    states = [r["state"] for r in steps]
    summary = (f"{states.count('done')} of {len(steps)} steps done, "
               f"{states.count('failed')} failed, {states.count('interrupted')} interrupted, "
               f"{states.count('pending')} pending")
    verify_rows = [r for r in doc["counts"]["checks"]["rows"] if r["source"] == "verify"]
    if verify_rows:
        bad = [r["check"] for r in verify_rows if not r["ok"]]
        summary += "; verify: " + (("mismatches: " + ", ".join(bad)) if bad else "all checks match")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>DP0.2 build report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>DP0.2 build report</h1>",
             f'<p class="muted">Written {esc(doc["created"])} by py/report.py &middot; REPO '
             f'<code>{esc(doc["repo"])}</code> &middot; STATE_DIR '
             f'<code>{esc(doc["state_dir"])}</code></p>',
             f'<p class="summary" id="summary">{esc(summary)}</p>']
    # Timeline.
    parts.append('<h2 id="timeline">Timeline</h2>')
    if png is not None:
        # The image goes in after redaction (main): a secret must not match base64 text.
        parts.append(f'<img class="figure" alt="Gantt chart of the steps" '
                     f'src="data:image/png;base64,{FIGURE_SLOT}">')
    else:
        parts.append(f'<p class="muted">No figure: {esc(doc["errors"].get("timeline", ""))}</p>')
    parts.append('<p class="muted">Times come from the stamps and the step logs. A step '
                 "that runs again keeps its earlier log as &lt;step&gt;.log.1, .2, ..., so "
                 "each attempt is a bar: from its stamp, its log or an earlier log, or from "
                 "an earlier report.</p>")
    rows, classes = [], []
    for r in steps:
        rows.append([r["step"], r["state"] + (" (already there)" if r["result"] not in ("", "done")
                                             else ""),
                     r["start"], r["end"], f"{r['duration_s']} s" if r["duration_s"] else "",
                     r["result"], r["attempts"]])
        classes.append({"failed": "bad", "interrupted": "warn", "pending": "pending"}.get(
            r["state"], ""))
    parts.append(table(["step", "state", "start (UTC)", "end (UTC)", "duration", "result",
                        "attempts"], rows, classes, table_id="steps", numeric=(4, 6)))
    timeline_data = json.dumps(doc["timeline"], sort_keys=True).replace("</", "<\\/")
    parts.append(f'<script type="application/json" id="timeline-data">{timeline_data}</script>')
    # Counts.
    counts = doc["counts"]
    parts.append('<h2 id="counts">Counts</h2>')
    sources = "; ".join(f"{k}: {v}" for k, v in counts["checks"]["sources"].items())
    parts.append(f"<h3>Checks: expected vs found</h3><p class=\"muted\">Reports: {esc(sources)}. "
                 "Mismatches and errors first, then warnings.</p>")
    crow, ccls = [], []
    for r in counts["checks"]["rows"]:
        crow.append([r["source"], r["check"], r["expected"], r["found"], r["status"], r["note"]])
        ccls.append("bad" if r["status"] in ("MISMATCH", "error") else
                    "warn" if r["status"] == "warning" else "")
    parts.append(table(["report", "check", "expected", "found", "status", "note"], crow, ccls,
                       table_id="checks"))
    parts.append("<h3>Raws per year</h3>")
    parts.append(table(["year", "visit directories (inputs)", "exposures (registry)",
                        "raws (registry)", "raws ingested by the last run", "duration",
                        "raws/s"],
                       [[y["year"], y["visit_dirs"], y["exposures"], y["raws"], y["ingested"],
                         f"{y['duration_s']} s" if y["duration_s"] != "" else "", y["rate"]]
                        for y in counts["raws_per_year"]], table_id="raws",
                       numeric=(1, 2, 3, 4, 5, 6)))
    parts.append("<h3>Datasets per dataset type</h3>")
    registry = doc["registry"]
    if registry.get("available"):
        parts.append(table(["dataset type", "datasets (all RUN collections)"],
                           [[k, v] for k, v in sorted(counts["datasets_per_type"].items())],
                           table_id="datasets", numeric=(1,)))
    else:
        parts.append(f'<p class="muted">{esc(registry.get("reason", ""))}</p>')
    # Environment.
    env = doc["environment"]
    parts.append('<h2 id="environment">Environment</h2>')
    erows = [["toolkit revision (now)", env["toolkit_revision"]]]
    stamped = [r["step"] for r in steps if r["stack"] or r["toolkit_revision"]]

    def which(steps_of: list[str]) -> str:
        if steps_of == stamped and len(stamped) > 1:
            return f"every stamped step ({len(stamped)}: {stamped[0]} .. {stamped[-1]})"
        return ", ".join(steps_of)

    for value, steps_of in env["stamp_revisions"].items():
        erows.append(["toolkit revision (stamps)", f"{value}: {which(steps_of)}"])
    for value, steps_of in env["stacks"].items():
        erows.append(["stack (stamps)", f"{value}: {which(steps_of)}"])
    for key, value in env["runtime"].items():
        erows.append([f"runtime: {key}", value])
    for key, value in env["registry"].items():
        if value not in ("", None):
            erows.append([f"registry: {key}", value])
    for key in ("TRANSFER", "JOBS", "RAW_YEARS", "PROFILE"):
        erows.append([key, env["settings"].get(key, "")])
    parts.append(table(["what", "value"], erows, table_id="environment-table"))
    parts.append('<p class="muted">Runtime: where this report was written (make repo writes it '
                 "where the build ran). Each step's stack is in its stamp. The registry is "
                 "described by host and database only, never credentials.</p>")
    # Collections.
    parts.append('<h2 id="collections">Collections</h2>')
    if registry.get("available"):
        parts.append(render_tree(doc["collections"]) or '<p class="muted">No collection.</p>')
    else:
        parts.append(f'<p class="muted">{esc(registry.get("reason", ""))}</p>')
    if doc["errors"]:
        parts.append('<h2 id="problems">Problems while writing this report</h2>')
        parts.append(table(["part", "error"], [[k, v] for k, v in doc["errors"].items()]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def raws_per_year(years: list[str], steps: list[dict[str, Any]], figures: dict[str, Any],
                  registry: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per year: visit directories, exposures and raws found, ingest rate.

    The rate is the raws the last run of ``raws-<year>`` reported ingesting (its log's
    ``Ingested N distinct Butler datasets``) over that run's stamp duration; when the log
    says nothing of it, the raws found in the registry are used for a run that did the
    ingest (stamp result ``done``).
    """
    per_dir = figures.get("visit_dirs_per_year") or {}
    found = registry.get("raws_per_year") or {}
    out = []
    for year in years:
        row = next((r for r in steps if r["step"] == f"raws-{year}"), {})
        registry_year = found.get(year) or {}
        ingested = row.get("ingested")
        if ingested is None and row.get("result") == "done" and registry_year:
            ingested = registry_year.get("raws")
        rate = ""
        try:
            seconds = float(row.get("duration_s", ""))
        except ValueError:
            seconds = 0.0
        if ingested and seconds > 0 and row.get("result") == "done":
            rate = f"{ingested / seconds:.1f}"
        out.append({"year": year, "visit_dirs": per_dir.get(year, ""),
                    "exposures": registry_year.get("exposures", ""),
                    "raws": registry_year.get("raws", ""),
                    "ingested": "" if ingested is None else ingested,
                    "duration_s": row.get("duration_s", ""), "rate": rate})
    return out


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        description="Write the build report (HTML page and JSON) from the stamps, logs, "
                    "check reports and registry of a build.")
    parser.add_argument("--state-dir", required=True, help="STATE_DIR")
    parser.add_argument("--repo", required=True, help="REPO")
    parser.add_argument("--steps", required=True, help="the steps of make repo, in order")
    parser.add_argument("--raw", default="", help="DP02_RAW")
    parser.add_argument("--raw-years", default="", help="RAW_YEARS")
    parser.add_argument("--raw-collection", default="", help="RAW_COLLECTION")
    parser.add_argument("--instrument", default="", help="INSTRUMENT")
    parser.add_argument("--registry-db", default="", help="REGISTRY_DB (never with a password)")
    parser.add_argument("--namespace", default="", help="REGISTRY_NAMESPACE")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting shown in the Environment part (repeatable)")
    parser.add_argument("--toolkit-revision", default="unknown", help="the toolkit's revision")
    parser.add_argument("--html", default="",
                        help="output page (default STATE_DIR/reports/build.html)")
    parser.add_argument("--json", default="",
                        help="output data (default STATE_DIR/reports/build.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Collect everything, write the page and the JSON atomically.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0 when the report was written (parts that could not be read are named in it).
    """
    args = build_parser().parse_args(argv)
    reports = os.path.join(args.state_dir, "reports")
    html_path = args.html or os.path.join(reports, "build.html")
    json_path = args.json or os.path.join(reports, "build.json")
    steps = args.steps.split()
    years = args.raw_years.split()
    settings = dict(s.partition("=")[::2] for s in args.setting)
    errors: dict[str, str] = {}
    secrets = db_auth_secrets()
    previous = load_json(json_path) or {}
    timeline = collect_steps(steps, args.state_dir,
                             (previous.get("timeline") or {}).get("attempts"))
    timeline["slurm_tasks"] = collect_tasks(years, args.state_dir)
    checks = collect_checks(reports)
    try:
        registry = collect_registry(args.repo, args.raw_collection, args.instrument,
                                    args.raw, years)
    except Exception as exc:  # noqa: BLE001 -- a partial repository must not stop the report
        reason = f"the registry could not be read: {type(exc).__name__}: {exc}"
        registry = {"available": False, "reason": reason}
        errors["registry"] = reason
    stamp_revisions: dict[str, list[str]] = {}
    stacks: dict[str, list[str]] = {}
    for row in timeline["steps"]:
        if row["toolkit_revision"]:
            stamp_revisions.setdefault(row["toolkit_revision"], []).append(row["step"])
        if row["stack"]:
            stacks.setdefault(row["stack"], []).append(row["step"])
    doc: dict[str, Any] = {
        "report": "build",
        "version": REPORT_VERSION,
        "created": format_time(time.time()),
        "repo": args.repo,
        "state_dir": args.state_dir,
        "timeline": timeline,
        "counts": {
            "checks": checks,
            "raws_per_year": raws_per_year(years, timeline["steps"], checks["figures"],
                                           registry),
            "datasets_per_type": registry.get("datasets_per_type", {}),
        },
        "environment": {
            "toolkit_revision": args.toolkit_revision,
            "stamp_revisions": stamp_revisions,
            "stacks": stacks,
            "runtime": describe_runtime(settings),
            "registry": registry_description(args.registry_db, args.repo, args.namespace),
            "settings": settings,
        },
        "registry": {k: v for k, v in registry.items() if k in ("available", "reason")},
        "collections": collection_tree(registry.get("collections", {})),
        "errors": errors,
    }
    png = None
    try:
        png = timeline_png(timeline["steps"], timeline["attempts"], timeline["slurm_tasks"])
    except Exception as exc:  # noqa: BLE001 -- the tables still say everything
        errors["timeline"] = f"the figure could not be drawn: {type(exc).__name__}: {exc}"
    page = redact(render_html(doc, png), secrets)
    if png is not None:
        page = page.replace(FIGURE_SLOT, base64.b64encode(png).decode("ascii"), 1)
    data = redact(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n", secrets)
    from atomic_write import write_text

    write_text(json_path, data)
    write_text(html_path, page)
    print(f"report: {html_path} ({len(page) // 1024} KiB), data {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
