"""Write the seed config of ``butler create`` from a template in ``etc/``.

SQLite when no registry URL is given, PostgreSQL otherwise (with ``namespace`` when one
is given). The URL must not carry a password: daf_butler reads it from the db-auth file.
"""

from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path

import url_credentials
from atomic_write import write_text

ETC = Path(__file__).resolve().parent.parent / "etc"


def render(registry_db: str, namespace: str) -> str:
    """Return the seed config text.

    Parameters
    ----------
    registry_db : `str`
        PostgreSQL URL without password, or empty for SQLite.
    namespace : `str`
        Optional schema name (PostgreSQL only).

    Returns
    -------
    text : `str`
        The YAML text of the seed config.
    """
    if not registry_db:
        if namespace:
            raise ValueError(
                "REGISTRY_NAMESPACE is set but REGISTRY_DB is empty (SQLite): a namespace is "
                "a PostgreSQL schema. Unset REGISTRY_NAMESPACE or set REGISTRY_DB."
            )
        return (ETC / "butler-seed.sqlite.yaml").read_text()
    refused = url_credentials.refusal("REGISTRY_DB", registry_db)
    if refused is not None:
        raise ValueError(refused)
    template = string.Template((ETC / "butler-seed.postgresql.yaml").read_text())
    text = template.substitute(registry_db=registry_db)
    if namespace:
        text += f"  namespace: {namespace}\n"
    return text


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True, type=Path, help="seed file to write")
    parser.add_argument("--registry-db", default="", help="PostgreSQL URL; empty for SQLite")
    parser.add_argument("--namespace", default="", help="PostgreSQL schema (optional)")
    args = parser.parse_args(argv)
    try:
        text = render(args.registry_db, args.namespace)
    except ValueError as exc:
        print(f"make_seed_config: error: {exc}", file=sys.stderr)
        return 2
    write_text(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
