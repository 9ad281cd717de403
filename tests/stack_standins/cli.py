"""``butler`` command plugin: stand-ins for four LSST stack commands.

Stand-in for the LSST stack, for tests only.  The commands have the names,
arguments and options of obs_base and pipe_tasks at v23:

- ``write-curated-calibrations REPO INSTRUMENT [--collection C] [--label L]...``
- ``register-skymap REPO [-C CONFIGFILE] [-c k=v]...``
- ``ingest-raws REPO LOCATIONS... [--regex R] [-c k=v] [-C FILE] [--output-run RUN]
  [-t MODE] [-j N] [--ingest-task T]``
- ``define-visits REPO INSTRUMENT [-C FILE] [--collections C] [-j N]``

Enable with ``DAF_BUTLER_PLUGINS=<checkout>/tests/stack_standins/resources.yaml``
and ``PYTHONPATH=<checkout>:<checkout>/py``.
"""

from __future__ import annotations

from typing import Any

import click
from lsst.daf.butler.cli.opt import (
    config_file_option,
    config_option,
    locations_argument,
    options_file_option,
    processes_option,
    regex_option,
    repo_argument,
    run_option,
    transfer_option,
)
from lsst.daf.butler.cli.utils import ButlerCommand, split_commas, typeStrAcceptsMultiple
from lsst.pipe.base.cli.opt import instrument_argument

__all__ = ["define_visits", "ingest_raws", "register_skymap", "write_curated_calibrations"]

fits_re = r"\.fit[s]?\b"


@click.command(short_help="Add an instrument's curated calibrations.", cls=ButlerCommand)
@repo_argument(required=True)
@instrument_argument(required=True)
@click.option(
    "--collection",
    required=False,
    help="Name of the calibration collection that associates datasets with validity ranges.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    help=(
        "Extra strings to include (with automatic delimiters) in all RUN collection names, "
        "as well as the calibration collection name if it is not provided via --collection."
    ),
)
@options_file_option()
def write_curated_calibrations(**kwargs: Any) -> None:
    """Add an instrument's curated calibrations to the data repository (test stand-in)."""
    from .curated import write_curated_calibrations as run

    run(**kwargs)


@click.command(short_help="Make a SkyMap and add it to a repository.", cls=ButlerCommand)
@repo_argument(required=True)
@config_option()
@config_file_option(help="URI to a config file overrides file.")
@options_file_option()
def register_skymap(**kwargs: Any) -> None:
    """Make a SkyMap and add it to a repository (test stand-in)."""
    from .skymap import register_skymap as run

    run(**kwargs)


@click.command(short_help="Ingest raw frames.", cls=ButlerCommand)
@repo_argument(required=True)
@locations_argument(
    help="LOCATIONS specifies files to ingest and/or locations to search for files.", required=True
)
@regex_option(
    default=fits_re,
    help="Regex string used to find files in directories listed in LOCATIONS. "
    "Searches for fits files by default.",
)
@config_option(metavar="TEXT=TEXT", multiple=True)
@config_file_option(type=click.Path(exists=True, writable=False, file_okay=True, dir_okay=False))
@run_option(required=False)
@transfer_option()
@processes_option()
@click.option(
    "--ingest-task",
    default="lsst.obs.base.RawIngestTask",
    help="The fully qualified class name of the ingest task to use (ignored by the stand-in).",
)
@options_file_option()
def ingest_raws(**kwargs: Any) -> None:
    """Ingest raw frames into from a directory into the butler registry (test stand-in)."""
    from .ingest import ingest_raws as run

    run(**kwargs)


@click.command(short_help="Define visits from exposures.", cls=ButlerCommand)
@repo_argument(required=True)
@instrument_argument(required=True)
@config_file_option(
    help="Path to a pex_config override to be included after the Instrument config overrides "
    "are applied."
)
@click.option(
    "--collections",
    help="The collections to be searched (in order) when reading datasets.",
    multiple=True,
    callback=split_commas,
    metavar=typeStrAcceptsMultiple,
)
@processes_option()
@options_file_option()
def define_visits(**kwargs: Any) -> None:
    """Define visits from exposures in the butler registry (test stand-in)."""
    from .visits import define_visits as run

    run(**kwargs)
