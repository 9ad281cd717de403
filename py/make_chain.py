"""Define a CHAINED collection: ``PARENT`` = ``CHILD...``, in that order.

Uses only registry calls that exist at daf_butler 23 and today (``registerCollection``,
``getCollectionType``, ``setCollectionChain``). Refuses, before changing anything, when a
child does not exist or when ``PARENT`` exists with another type; rerunning is a no-op.
"""

from __future__ import annotations

import argparse
import sys


class ChainError(Exception):
    """The chain cannot be defined as asked."""


def make_chain(repo: str, parent: str, children: list[str]) -> str:
    """Define the chain and say what was done.

    Parameters
    ----------
    repo : `str`
        Butler repository.
    parent : `str`
        Name of the CHAINED collection.
    children : `list` [`str`]
        Its children, in search order.

    Returns
    -------
    outcome : `str`
        ``"unchanged"``, ``"created"`` or ``"redefined"``.

    Raises
    ------
    ChainError
        A child is missing, a child is repeated, or ``parent`` is not CHAINED.
    """
    from lsst.daf.butler import Butler, CollectionType

    if len(set(children)) != len(children):
        raise ChainError(f"the children of {parent} repeat a name: {' '.join(children)}.")
    if parent in children:
        raise ChainError(f"{parent} cannot be a child of itself.")
    butler = Butler(repo, writeable=True)
    registry = butler.registry
    existing = set(registry.queryCollections())
    missing = [c for c in children if c not in existing]
    if missing:
        raise ChainError(
            f"cannot define {parent}: the child collection(s) {', '.join(missing)} do not exist "
            f"in {repo}. Run the steps that make them first, or fix DEFAULTS_CHAIN_CHILDREN."
        )
    if parent in existing:
        ctype = registry.getCollectionType(parent)
        if ctype != CollectionType.CHAINED:
            raise ChainError(
                f"{parent} already exists in {repo} as a {ctype.name} collection, not CHAINED. "
                "Choose another DEFAULTS_CHAIN, or remove that collection if it is a mistake."
            )
        if list(registry.getCollectionChain(parent)) == list(children):
            return "unchanged"
        outcome = "redefined"
    else:
        registry.registerCollection(parent, CollectionType.CHAINED)
        outcome = "created"
    registry.setCollectionChain(parent, list(children))
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="butler repository")
    parser.add_argument("parent", help="CHAINED collection to define")
    parser.add_argument("children", nargs="+", help="child collections, in order")
    args = parser.parse_args(argv)
    try:
        outcome = make_chain(args.repo, args.parent, args.children)
    except ChainError as exc:
        print(f"make_chain: error: {exc}", file=sys.stderr)
        return 2
    print(f"make_chain: {args.parent} = {' '.join(args.children)} ({outcome})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
