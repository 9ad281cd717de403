"""Read a daf_butler export file (``export.yaml``) without daf_butler.

The preflight, the import check and the verification all read the calibration export;
this is the one reader they share.
"""

from __future__ import annotations

from typing import Any


def yaml_loader() -> Any:
    """Return a fast YAML loader class that accepts daf_butler's custom tags.

    The export file carries tags such as ``!uuid``, ``!lsst.daf.butler.Timespan``
    and ``!butler_time/tai/iso``; they are read as the plain value of the node.
    ``yaml.CSafeLoader`` (libyaml) is used when available.

    Returns
    -------
    loader : `type`
        A `yaml.SafeLoader` subclass.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class ExportLoader(base):  # type: ignore[misc,valid-type]
        """Safe loader reading unknown tags as plain values."""

    def plain(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    ExportLoader.add_multi_constructor("!", plain)
    ExportLoader.add_multi_constructor("tag:", plain)
    return ExportLoader


def load_export(path: str) -> dict[str, Any]:
    """Parse a ``butler export`` YAML file.

    Parameters
    ----------
    path : `str`
        The ``export.yaml``.

    Returns
    -------
    export : `dict`
        The parsed document.

    Raises
    ------
    ValueError
        The file is not a mapping with a ``data`` list.
    """
    import yaml

    with open(path, "rb") as stream:
        doc = yaml.load(stream, Loader=yaml_loader())  # noqa: S506 - a safe loader subclass
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise ValueError("it is not a butler export file (no 'data' list at the top)")
    return doc
