"""Check a PostgreSQL registry before daf_butler uses it (``make db-check``).

The checks, in order; the first failure stops them, since the later ones depend on it:

1. ``url``: the URL carries no password (passwords belong in the db-auth file);
2. ``driver``: the URL names the driver daf_butler supports, ``postgresql+psycopg2://``.
   A bare ``postgresql://`` is refused: SQLAlchemy 2.x maps it to psycopg (v3);
3. ``db-auth``: the db-auth file (``$LSST_DB_AUTH`` or ``~/.lsst/db-auth.yaml``) exists,
   is not accessible by group or others, and has an entry matching the URL, matched with
   lsst.utils' ``DbAuth`` exactly as daf_butler matches it. (Credentials given as JSON in
   ``$LSST_DB_AUTH_CREDENTIALS`` take precedence, as in daf_butler.);
4. ``server``: the server answers with those credentials, telling apart "cannot reach",
   "authentication failed" and "database does not exist";
5. ``btree_gist``: the extension is installed in the database, or the SQL to install it;
6. ``namespace`` (when set): whether the schema exists (informational; ``create`` makes it)
   and, when it does not, that the role may create it.

An empty URL means SQLite: nothing to check. The password is never printed.

Usage::

    python py/db_check.py [--url URL] [--namespace NS] [--db-auth PATH]

The defaults come from ``REGISTRY_DB``, ``REGISTRY_NAMESPACE`` and ``LSST_DB_AUTH``.
Exit status 0 when every check passes, 2 otherwise.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import textwrap
from typing import Any, NamedTuple

import url_credentials

__all__ = ["CheckResult", "main", "run_checks", "redact"]

PROG = "db-check"
DEFAULT_DB_AUTH = "~/.lsst/db-auth.yaml"
CREDS_ENVVAR = "LSST_DB_AUTH_CREDENTIALS"
CONNECT_TIMEOUT = 5
GIST_SQL = "CREATE EXTENSION IF NOT EXISTS btree_gist;"


class CheckResult(NamedTuple):
    """The outcome of one check.

    Attributes
    ----------
    name : `str`
        Short name of the check (``url``, ``driver``, ``db-auth``, ``server``,
        ``btree_gist``, ``namespace``, ``registry``).
    ok : `bool`
        Whether the check passed.
    message : `str`
        One line (ok) or one paragraph (failure) saying what was found and, for a
        failure, how to fix it. Never contains the password.
    """

    name: str
    ok: bool
    message: str


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide URL passwords (`url_credentials.redact`, the toolkit's one rule) and secrets.

    Parameters
    ----------
    text : `str`
        Text to clean.
    secrets : `tuple` [`str`], optional
        Further strings (passwords) to replace with ``***``.

    Returns
    -------
    text : `str`
        The text with every password replaced by ``***``.
    """
    text = url_credentials.redact(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _url_secrets(url: str) -> tuple[str, ...]:
    """Return the passwords both URL parsers find in ``url`` (to scrub them from messages)."""
    from urllib.parse import parse_qsl, urlsplit

    found: list[str] = []
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        found.append(parsed.password or "")
        found += [str(v) for k, v in parsed.query.items() if str(k).lower() == "password"]
    except Exception:  # noqa: BLE001 - not parsable by SQLAlchemy
        pass
    try:
        parts = urlsplit(url)
        found.append(parts.password or "")
        found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
    except ValueError:
        pass
    return tuple(sorted({f for f in found if f}, key=len, reverse=True))


def _check_driver(url: str) -> tuple[CheckResult, Any]:
    """Parse the URL as daf_butler does and check its driver."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        return CheckResult(
            "driver",
            False,
            f"REGISTRY_DB={url} is not a database URL ({exc}). Write "
            "postgresql+psycopg2://USER@HOST:PORT/DATABASE, or leave REGISTRY_DB empty for SQLite.",
        ), None
    driver = parsed.drivername
    if driver == "postgresql+psycopg2":
        return CheckResult(
            "driver", True, "postgresql+psycopg2 (the driver daf_butler supports)"
        ), parsed
    fixed = "postgresql+psycopg2://" + url.split("://", 1)[1] if "://" in url else url
    if driver == "postgresql":
        why = (
            "names no driver: SQLAlchemy 2.x maps a bare postgresql:// to psycopg (v3), "
            "which daf_butler does not support"
        )
    elif driver.startswith("postgresql+") or driver.startswith("postgres"):
        why = f"asks for the driver '{driver}', and daf_butler supports only psycopg2"
    elif driver.startswith("sqlite"):
        return CheckResult(
            "driver",
            False,
            f"REGISTRY_DB={url} is an SQLite URL. For SQLite leave REGISTRY_DB empty (the registry "
            "is then the sqlite file inside REPO); for PostgreSQL write "
            "postgresql+psycopg2://USER@HOST:PORT/DATABASE.",
        ), None
    else:
        why = f"names the database '{driver}', and daf_butler supports only PostgreSQL (and SQLite)"
    return CheckResult(
        "driver",
        False,
        f"REGISTRY_DB={url} {why}. Write the driver explicitly: REGISTRY_DB={fixed}",
    ), None


def _db_auth_api() -> tuple[Any, Any, Any, bool]:
    """Return daf_butler's DbAuth class, its two errors, and whether it reads JSON credentials.

    From release 24 DbAuth lives in ``lsst.utils.db_auth`` (current releases also read
    ``$LSST_DB_AUTH_CREDENTIALS``); at v23 it is ``lsst.daf.butler.registry``'s, which reads
    only the db-auth file.
    """
    try:
        from lsst.utils.db_auth import DbAuth, DbAuthError, DbAuthNotFoundError

        return DbAuth, DbAuthError, DbAuthNotFoundError, True
    except ImportError:  # daf_butler 23 (the v23 stack)
        from lsst.daf.butler.registry import DbAuth, DbAuthError
        from lsst.daf.butler.registry._dbAuth import DbAuthNotFoundError

        return DbAuth, DbAuthError, DbAuthNotFoundError, False


def _load_auth(
    parsed: Any, url: str, auth_path: str | None
) -> tuple[CheckResult, tuple[str, str] | None]:
    """Find the credentials for the URL the way daf_butler does; return (result, (user, pw))."""
    import yaml

    DbAuth, DbAuthError, DbAuthNotFoundError, reads_json = _db_auth_api()
    host, port, database = parsed.host, parsed.port, parsed.database
    if not host or not database:
        missing = "host" if not host else "database name"
        return CheckResult(
            "db-auth",
            False,
            f"REGISTRY_DB={url} names no {missing}. daf_butler then skips the db-auth file "
            "and uses the URL as it is, so no password would be sent. Write "
            "postgresql+psycopg2://USER@HOST:PORT/DATABASE.",
        ), None

    creds_json = os.environ.get(CREDS_ENVVAR) if reads_json else None
    if creds_json:
        source = f"${CREDS_ENVVAR} (JSON; daf_butler prefers it to any db-auth file)"
        try:
            auth = DbAuth()
        except DbAuthError as exc:
            return CheckResult(
                "db-auth",
                False,
                f"{CREDS_ENVVAR} is set but is not valid JSON ({exc.__class__.__name__}). Fix it "
                "(a JSON list of {url, username, password}) or unset it to use the db-auth file.",
            ), None
    else:
        path = os.path.expanduser(auth_path or os.environ.get("LSST_DB_AUTH") or DEFAULT_DB_AUTH)
        source = path
        named = "LSST_DB_AUTH" if (auth_path or os.environ.get("LSST_DB_AUTH")) else "the default"
        entry_hint = _entry_hint(parsed)
        if not os.path.exists(path):
            return CheckResult(
                "db-auth",
                False,
                f"the db-auth file {path} ({named}) does not exist, so daf_butler would connect "
                f"to {url} without a password. Create it with mode 600 holding an entry for this "
                f"database, e.g. {entry_hint}, or point LSST_DB_AUTH at your file.",
            ), None
        if not os.path.isfile(path):
            return CheckResult(
                "db-auth",
                False,
                f"the db-auth path {path} ({named}) is not a file. Point LSST_DB_AUTH at the "
                "YAML file that holds the credentials.",
            ), None
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return CheckResult(
                "db-auth",
                False,
                f"the db-auth file {path} has mode {mode:o}: group or others may access it, and "
                "daf_butler refuses such a file (DbAuthPermissionsError). Run: chmod 600 "
                f"{path}",
            ), None
        try:
            with open(path) as f:
                entries = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as exc:
            return CheckResult(
                "db-auth",
                False,
                f"the db-auth file {path} cannot be read as YAML ({exc.__class__.__name__}). It "
                f"must be a list of entries like {entry_hint}.",
            ), None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            return CheckResult(
                "db-auth",
                False,
                f"the db-auth file {path} is not a YAML list of mappings. It must be a list of "
                f"entries like {entry_hint}.",
            ), None
        auth = DbAuth(authList=entries)

    try:
        user, password = auth.getAuth(parsed.drivername, parsed.username, host, port, database)
    except DbAuthNotFoundError:
        patterns = ", ".join(
            str(e.get("url")) for e in (auth.authList or []) if isinstance(e, dict)
        )
        return CheckResult(
            "db-auth",
            False,
            f"no entry of {source} matches REGISTRY_DB={url} (entries: {patterns or 'none'}), so "
            "daf_butler would connect without a password. Add an entry whose url has the same "
            "host, port and database (globs allowed, no +driver), e.g. "
            f"{_entry_hint(parsed)}. The host must be written as in REGISTRY_DB "
            "(localhost and 127.0.0.1 do not match each other).",
        ), None
    except DbAuthError as exc:
        return CheckResult(
            "db-auth",
            False,
            f"{source} has an entry daf_butler rejects: {exc} Entry urls name only the dialect, "
            f"without a driver: write postgresql://..., not postgresql+psycopg2://..., e.g. "
            f"{_entry_hint(parsed)}.",
        ), None
    except (KeyError, TypeError):
        return CheckResult(
            "db-auth",
            False,
            f"the entry of {source} that matches REGISTRY_DB={url} has no password (or is "
            "malformed). Each entry needs url, username and password, e.g. "
            f"{_entry_hint(parsed)}.",
        ), None
    if not user:
        return CheckResult(
            "db-auth",
            False,
            f"the entry of {source} matching REGISTRY_DB={url} gives no username, and the URL "
            "names none. Add 'username:' to the entry or write USER@ in REGISTRY_DB.",
        ), None
    if not password:
        return CheckResult(
            "db-auth",
            False,
            f"the entry of {source} matching REGISTRY_DB={url} has an empty password. Set the "
            "password of the role in that entry.",
        ), None
    return CheckResult("db-auth", True, f"{source}: entry found for user {user}"), (
        str(user),
        str(password),
    )


def _entry_hint(parsed: Any) -> str:
    port = f":{parsed.port}" if parsed.port else ""
    user = parsed.username or "USER"
    return (
        f"{{url: postgresql://{parsed.host or 'HOST'}{port}/{parsed.database or 'DATABASE'}, "
        f"username: {user}, password: ...}}"
    )


def _connect(parsed: Any, url: str, user: str, password: str) -> tuple[CheckResult, Any]:
    """Connect with psycopg2; classify a failure."""
    try:
        import psycopg2
    except ImportError:
        return CheckResult(
            "server",
            False,
            "the Python package psycopg2 is not installed, and daf_butler needs it for "
            "postgresql+psycopg2:// URLs. Install psycopg2 (or psycopg2-binary) in the runtime "
            "(make install does).",
        ), None
    host, port, database = parsed.host, parsed.port or 5432, parsed.database
    where = f"{host}:{port}"
    try:
        conn = psycopg2.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            dbname=database,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="dp02 db-check",
        )
    except psycopg2.OperationalError as exc:
        text = redact(str(exc).strip(), (password,))
        detail = " ".join(text.split())
        low = text.lower()
        if (
            "password authentication failed" in low
            or "authentication failed" in low
            or "no password supplied" in low
            or getattr(exc, "pgcode", None) in ("28P01", "28000")
        ):
            msg = (
                f"authentication failed for user {user} on {where} (database {database}): the "
                f"server said '{detail}'. Check the password of the db-auth entry for this URL, "
                f"and that the role {user} exists and may log in."
            )
        elif "does not exist" in low and "database" in low:
            msg = (
                f"the server {where} answers, but the database {database} does not exist. Create "
                f'it (as an administrator: CREATE DATABASE "{database}" OWNER "{user}";) or fix '
                "the database name in REGISTRY_DB."
            )
        elif "pg_hba.conf" in low:
            msg = (
                f"the server {where} refuses connections from this host for user {user} to "
                f"database {database} ('{detail}'). An administrator must allow it in pg_hba.conf "
                "(with scram-sha-256 password authentication)."
            )
        else:
            msg = (
                f"cannot reach the PostgreSQL server at {where} ('{detail}'). Check that the "
                "server runs and accepts TCP connections there, the host and port in REGISTRY_DB, "
                "and any firewall in between."
            )
        return CheckResult("server", False, msg), None
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    return CheckResult(
        "server", True, f"{where} answers (PostgreSQL {version}), database {database}, user {user}"
    ), conn


def _check_gist(conn: Any, parsed: Any) -> CheckResult:
    with conn.cursor() as cur:
        # The same query daf_butler runs when it connects.
        cur.execute("SELECT COUNT(*) FROM pg_extension WHERE extname='btree_gist'")
        if cur.fetchone()[0]:
            return CheckResult("btree_gist", True, "installed in the database")
        cur.execute("SELECT COUNT(*) FROM pg_available_extensions WHERE name='btree_gist'")
        available = bool(cur.fetchone()[0])
    db = parsed.database
    msg = (
        f"the extension btree_gist is not installed in the database {db}, and daf_butler refuses "
        "to use a database without it. An administrator (a superuser, or the database owner on "
        f"PostgreSQL 13+ where btree_gist is trusted) must run, connected to the database {db}: "
        f"{GIST_SQL}  For example: psql -h {parsed.host} -p {parsed.port or 5432} -U postgres "
        f"-d {db} -c '{GIST_SQL}'"
    )
    if not available:
        msg += (
            "  The server does not offer btree_gist at all: its contrib modules must be "
            "installed first (Debian: package postgresql-<version>, or postgresql-contrib)."
        )
    return CheckResult("btree_gist", False, msg)


def _check_namespace(conn: Any, namespace: str, user: str) -> CheckResult:
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM pg_namespace WHERE nspname = %s", (namespace,))
        if cur.fetchone()[0]:
            cur.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = %s", (namespace,))
            ntables = cur.fetchone()[0]
            return CheckResult("namespace", True, f"schema {namespace} exists ({ntables} tables)")
        cur.execute("SELECT has_database_privilege(current_user, current_database(), 'CREATE')")
        may_create = cur.fetchone()[0]
        cur.execute("SELECT current_database()")
        db = cur.fetchone()[0]
    if not may_create:
        return CheckResult(
            "namespace",
            False,
            f"the schema {namespace} does not exist and user {user} may not create schemas in the "
            f"database {db}, so create would fail. An administrator must run either "
            f'CREATE SCHEMA "{namespace}" AUTHORIZATION "{user}"; or '
            f'GRANT CREATE ON DATABASE "{db}" TO "{user}";',
        )
    return CheckResult(
        "namespace", True, f"schema {namespace} does not exist yet; create will make it"
    )


def run_checks(url: str, namespace: str = "", auth_path: str | None = None) -> list[CheckResult]:
    """Run the checks on a registry URL; stop at the first failure.

    Parameters
    ----------
    url : `str`
        The registry URL (``REGISTRY_DB``); empty means SQLite.
    namespace : `str`, optional
        The schema (``REGISTRY_NAMESPACE``); empty means the default schema.
    auth_path : `str`, optional
        The db-auth file; default ``$LSST_DB_AUTH`` or ``~/.lsst/db-auth.yaml``.

    Returns
    -------
    results : `list` [`CheckResult`]
        One result per check run; only the last can have ``ok`` false.
    """
    if not url:
        return [CheckResult("registry", True, "REGISTRY_DB is empty: SQLite, nothing to check")]
    results: list[CheckResult] = []
    refused = url_credentials.refusal("REGISTRY_DB", url)
    if refused is not None:
        results.append(CheckResult("url", False, refused))
        return results
    results.append(CheckResult("url", True, f"{url} carries no password"))

    result, parsed = _check_driver(url)
    results.append(result)
    if not result.ok:
        return results

    result, creds = _load_auth(parsed, url, auth_path)
    results.append(result)
    if creds is None:
        return results
    user, pw = creds

    try:
        result, conn = _connect(parsed, url, user, pw)
        results.append(result)
        if conn is None:
            return results
        try:
            result = _check_gist(conn, parsed)
            results.append(result)
            if result.ok and namespace:
                results.append(_check_namespace(conn, namespace, user))
        finally:
            conn.close()
    except Exception as exc:  # e.g. a query refused: one paragraph, never the password
        detail = " ".join(redact(f"{exc.__class__.__name__}: {exc}", (pw,)).split())
        results.append(
            CheckResult(
                "server",
                False,
                f"checking {redact(url)} as user {user} failed unexpectedly ({detail}). Check that "
                "the role may connect to and read the catalog of that database.",
            )
        )
    # Defence in depth: no message may carry the password.
    return [r._replace(message=redact(r.message, (pw,))) for r in results]


def _paragraph(text: str) -> str:
    return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0 when every check passes, 2 otherwise.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check a PostgreSQL registry: URL, driver, db-auth file, server, "
        "btree_gist, namespace.",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("REGISTRY_DB", ""),
        help="registry URL (default $REGISTRY_DB; empty means SQLite)",
    )
    parser.add_argument(
        "--namespace",
        default=os.environ.get("REGISTRY_NAMESPACE", ""),
        help="registry schema (default $REGISTRY_NAMESPACE)",
    )
    parser.add_argument(
        "--db-auth",
        default=os.environ.get("LSST_DB_AUTH") or None,
        help="db-auth file (default $LSST_DB_AUTH or ~/.lsst/db-auth.yaml)",
    )
    args = parser.parse_args(argv)

    status = 0
    try:
        results = run_checks(args.url, args.namespace, args.db_auth)
    except Exception as exc:  # an unexpected failure: still one paragraph, no password
        pw = _url_secrets(args.url)
        results = [
            CheckResult(
                "internal",
                False,
                f"the check of REGISTRY_DB={redact(args.url)} failed unexpectedly: "
                f"{redact(f'{exc.__class__.__name__}: {exc}', pw)}. Please report this.",
            )
        ]
    for r in results:
        if r.ok:
            print(f"{PROG}: ok: {r.name}: {r.message}")
        else:
            sys.stdout.flush()
            print(_paragraph(f"{PROG}: error: {r.message}"), file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
