"""Count a repository's datasets per dataset type and summarize it (``make inspect``).

Read-only: the repository is opened with ``writeable=False``, and only the registry
queries daf_butler 23 and the current release share are used. Each dataset is counted once,
in its RUN collection. Writes the per-dataset-type counts (``dataset-counts.txt``) and a
short summary (``summary.txt``, also printed) into the output directory, atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from atomic_write import write_text


def dataset_counts(registry: Any) -> dict[str, int]:
    """Return the number of datasets of each dataset type (0 for a type without any)."""
    from lsst.daf.butler import CollectionType

    runs = list(registry.queryCollections(collectionTypes={CollectionType.RUN}))
    counts: dict[str, int] = {}
    for dataset_type in sorted(registry.queryDatasetTypes(), key=lambda d: d.name):
        counts[dataset_type.name] = 0
        if runs:
            refs = registry.queryDatasets(dataset_type, collections=runs, findFirst=False)
            counts[dataset_type.name] = len({str(ref.id) for ref in refs})
    return counts


def summary(registry: Any, counts: dict[str, int]) -> list[str]:
    """Return the summary lines: collections by type, chains, dataset types, records."""
    from lsst.daf.butler import CollectionType

    by_type: dict[str, int] = {}
    chains = []
    for name in sorted(registry.queryCollections()):
        kind = registry.getCollectionType(name)
        by_type[kind.name] = by_type.get(kind.name, 0) + 1
        if kind == CollectionType.CHAINED:
            chains.append(f"  {name} = {' '.join(registry.getCollectionChain(name))}")
    lines = ["collections: " + (", ".join(f"{n} {k}" for k, n in sorted(by_type.items()))
                                or "none")]
    lines += chains
    lines.append(f"dataset types: {len(counts)}; datasets: "
                 + (", ".join(f"{k} {n}" for k, n in counts.items()) or "none"))
    for element in ("instrument", "detector", "physical_filter"):
        records = list(registry.queryDimensionRecords(element))
        names = sorted(str(getattr(r, "name", None) or getattr(r, "full_name", None) or r.id)
                       for r in records)
        shown = ", ".join(names) if len(names) <= 6 else f"{names[0]} .. {names[-1]}"
        lines.append(f"{element}: {len(records)}" + (f" ({shown})" if names else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : `list` [`str`], optional
        ``REPO OUTDIR``.

    Returns
    -------
    status : `int`
        0, or 2 when ``REPO`` is not a butler repository.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="REPO")
    parser.add_argument("outdir", help="where dataset-counts.txt and summary.txt go")
    args = parser.parse_args(argv)
    if not os.path.isfile(os.path.join(args.repo, "butler.yaml")):
        print(f"inspect_repo: error: {args.repo} is not a butler repository (no butler.yaml).",
              file=sys.stderr)
        return 2
    from lsst.daf.butler import Butler

    registry = Butler(args.repo, writeable=False).registry
    counts = dataset_counts(registry)
    width = max([len(k) for k in counts] + [len("dataset type")])
    table = [f"{'dataset type'.ljust(width)}  count"]
    table += [f"{k.ljust(width)}  {n}" for k, n in counts.items()]
    write_text(os.path.join(args.outdir, "dataset-counts.txt"), "\n".join(table) + "\n")
    text = "\n".join(summary(registry, counts)) + "\n"
    write_text(os.path.join(args.outdir, "summary.txt"), text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
