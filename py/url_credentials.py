"""The one rule for credentials in URLs: no setting may carry a password.

A password in ``REGISTRY_DB`` (or in any other setting holding a URL) would end up in
``.env``, in the console, in logs and stamps, and in ``ps``. daf_butler reads the password
from the db-auth file instead, so the toolkit refuses every URL that carries one, in any
form a URL can carry it:

- in the user information, ``scheme://user:password@host``, percent-encoded or not,
  whatever it contains (``/``, ``@``, ``:``, ``#``, ``?``), also an empty one
  (``user:@host``) or one without a user (``:password@host``);
- as a ``password`` query parameter, ``...?password=...`` (libpq reads it), in any case.

The URL is parsed with SQLAlchemy's ``make_url`` (the parser daf_butler uses) and with
``urllib.parse.urlsplit``; a password found by either counts. The two disagree on
passwords holding ``@``, ``/``, ``#`` or ``?`` that are not percent-encoded, so asking
both catches each form. A URL that SQLAlchemy cannot parse while it holds an ``@`` outside
what urllib took for its user information is treated as carrying one. Without SQLAlchemy
(a host whose ``python3`` only runs ``bin/container``: the standard library suffices)
that last rule stands in for it.

Messages name the user and the host, never any part of the password: when the URL holds
more than one ``@`` the host cannot be told apart from the password, and it is not named.

The bash library calls this module (``dp02_require_no_password``, ``dp02_redact``), so
the rule has one home. Values come through the environment, never the command line
(``ps`` shows arguments).

Usage::

    python py/url_credentials.py check NAME...   # the settings NAME... from the environment
    DP02_REDACT_TEXT=... python py/url_credentials.py redact

``check`` prints one paragraph per setting carrying a password and exits 2 (0 when none
does); ``redact`` prints ``DP02_REDACT_TEXT`` with every URL password hidden.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

__all__ = ["UrlCredentials", "inspect_url", "main", "redact", "refusal"]

PASSWORD_QUERY_KEYS = frozenset({"password"})
"""Query parameters that carry a password (libpq's ``password``; compared in lower case)."""


class UrlCredentials(NamedTuple):
    """What a URL says about credentials.

    Attributes
    ----------
    password : `bool`
        The URL carries a password (user information or query parameter).
    user : `str` or `None`
        The user name, when the URL has one.
    host : `str` or `None`
        The host, when it can be told apart from the password (`None` otherwise).
    where : `str`
        Where the password is: ``"user information"``, ``"query"``, ``"unparsable"``
        or ``""`` (no password).
    """

    password: bool
    user: str | None
    host: str | None
    where: str


def _make_url(url: str) -> Any:
    """Parse with SQLAlchemy's ``make_url``; `None` when it cannot (or is not installed)."""
    try:
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover - both runtimes have SQLAlchemy
        return None
    try:
        return make_url(url)
    except Exception:  # noqa: BLE001 - ArgumentError, ValueError (bad port): not parsable
        return None


def _urlsplit(url: str) -> Any:
    """Parse with ``urllib.parse.urlsplit``; `None` when it cannot."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket
        return None


def _query_keys(sa_url: Any, parts: Any) -> set[str]:
    """The query parameter names of a URL, in lower case, from both parsers."""
    from urllib.parse import parse_qsl

    keys: set[str] = set()
    if sa_url is not None:
        keys.update(str(k).lower() for k in sa_url.query)
    if parts is not None:
        keys.update(k.lower() for k, _v in parse_qsl(parts.query, keep_blank_values=True))
    return keys


def inspect_url(url: str) -> UrlCredentials:
    """Tell whether a URL carries a password, and who and where it is for.

    Parameters
    ----------
    url : `str`
        Any setting value; one without ``://`` is not a URL and carries no password.

    Returns
    -------
    credentials : `UrlCredentials`
    """
    if "://" not in url:
        return UrlCredentials(False, None, None, "")
    sa_url = _make_url(url)
    parts = _urlsplit(url)
    user = None
    if sa_url is not None and sa_url.username is not None:
        user = str(sa_url.username)
    elif parts is not None and parts.username is not None:
        user = parts.username
    after_scheme = url.split("://", 1)[1]
    # With several '@' (a password holding one, unencoded) the parsers may take a piece of
    # the password for the host: name no host then.
    host = None
    if after_scheme.count("@") <= 1:
        if sa_url is not None and sa_url.host:
            host = str(sa_url.host)
        elif parts is not None and parts.hostname:
            host = parts.hostname
    in_userinfo = ((sa_url is not None and sa_url.password is not None)
                   or (parts is not None and parts.password is not None))
    if in_userinfo:
        return UrlCredentials(True, user, host, "user information")
    if _query_keys(sa_url, parts) & PASSWORD_QUERY_KEYS:
        return UrlCredentials(True, user, host, "query")
    # SQLAlchemy could not parse it (or is not installed: a host that only runs the
    # container), and an '@' lies outside what urllib took for the user information: a
    # password holding '/', '#' or '?' unencoded may be there.
    if sa_url is None and "@" in after_scheme and (parts is None or "@" not in parts.netloc):
        return UrlCredentials(True, user, None, "unparsable")
    return UrlCredentials(False, user, host, "")


def describe(credentials: UrlCredentials) -> str:
    """Name the user and host of a URL, never its password.

    Parameters
    ----------
    credentials : `UrlCredentials`
        From `inspect_url`.

    Returns
    -------
    text : `str`
        E.g. ``user 'dp02' at host 'dbhost'``.
    """
    if credentials.where == "unparsable":
        return "a user and host that cannot be told apart from the password"
    who = f"user {credentials.user!r}" if credentials.user else "no user name"
    if credentials.host:
        return f"{who} at host {credentials.host!r}"
    return f"{who}, at a host that cannot be told apart from the password"


def refusal(name: str, value: str) -> str | None:
    """Return the paragraph refusing a setting that carries a password, or `None`.

    Parameters
    ----------
    name : `str`
        The setting, e.g. ``REGISTRY_DB``.
    value : `str`
        Its value.

    Returns
    -------
    message : `str` or `None`
        One paragraph naming the setting, the user and the host (never the password nor
        the URL) and the fix; `None` when the value carries no password.
    """
    credentials = inspect_url(value)
    if not credentials.password:
        return None
    where = {
        "user information": "in its user information (user:password@host)",
        "query": "as a 'password' query parameter",
        "unparsable": "or may (it cannot be parsed as a URL, and it holds an '@')",
    }[credentials.where]
    fix = ("put the password in a db-auth file (mode 600) named by LSST_DB_AUTH or at "
           "~/.lsst/db-auth.yaml, with an entry {url: ..., username: ..., password: ...}"
           if name == "REGISTRY_DB" else
           "give the credentials to the service some other way (e.g. a .netrc file)")
    return (f"{name} carries a password {where}, for {describe(credentials)}. Passwords "
            f"must never be in a URL or in .env, where they would be shown and written "
            f"(the URL is not repeated here): remove the password from {name} and {fix}.")


def _hide(url: str) -> str:
    """Return ``url`` with its password hidden (``***``), or only its scheme when unsure."""
    scheme = url.split("://", 1)[0]
    credentials = inspect_url(url)
    if not credentials.password:
        return url
    sa_url = _make_url(url)
    if sa_url is not None and credentials.host is not None:
        keys = [k for k in sa_url.query if str(k).lower() in PASSWORD_QUERY_KEYS]
        if keys:
            sa_url = sa_url.difference_update_query(keys)
        return str(sa_url.render_as_string(hide_password=True))
    return f"{scheme}://***"


def _split_token(token: str) -> tuple[str, str, str]:
    """Split a word into (text before the URL, the URL, closing quotes and punctuation)."""
    start = token.find("://")
    while start > 0 and (token[start - 1].isalnum() or token[start - 1] in "+.-"):
        start -= 1
    end = len(token)
    while end > start and token[end - 1] in "'\")],;":
        end -= 1
    return token[:start], token[start:end], token[end:]


def redact(text: str) -> str:
    """Hide the password of every URL in ``text``.

    Words (split on white space) holding ``://`` are parsed as URLs by `inspect_url`;
    one carrying a password is rewritten with ``***`` for it (or reduced to its scheme
    when its host cannot be told apart from the password).

    Parameters
    ----------
    text : `str`
        Any text: a command line, a message, a setting.

    Returns
    -------
    text : `str`
    """
    if "://" not in text:
        return text
    out = []
    word = []
    for char in text + "\n":
        if char.isspace():
            if word:
                token = "".join(word)
                if "://" in token:
                    before, url, after = _split_token(token)
                    token = before + _hide(url) + after
                out.append(token)
                word = []
            out.append(char)
        else:
            word.append(char)
    return "".join(out)[:-1]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring).

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0: no password (``check``) or text printed (``redact``); 2: a password, or bad
        arguments.
    """
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if args[:1] == ["redact"] and len(args) == 1:
        sys.stdout.write(redact(os.environ.get("DP02_REDACT_TEXT", "")))
        return 0
    if args[:1] == ["check"]:
        messages = [m for m in (refusal(n, os.environ.get(n, "")) for n in args[1:]) if m]
        for message in messages:
            print(message)
        return 2 if messages else 0
    print("usage: url_credentials.py check NAME... | redact (text in DP02_REDACT_TEXT)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
