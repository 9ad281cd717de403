"""Stand-ins for the LSST stack commands, for tests only.

This package is a stand-in for the LSST stack (obs_base, obs_lsst,
pipe_tasks, skymap), which cannot be installed in the lite runtime.  It
provides, as a ``butler`` command plugin (``resources.yaml`` for
``DAF_BUTLER_PLUGINS``), simplified versions of ``write-curated-calibrations``,
``register-skymap``, ``ingest-raws`` and ``define-visits`` behind the real
click parsers of obs_base and pipe_tasks (``stack-cli/``, see ``cli.py``),
and a test instrument class for ``butler register-instrument``
(``tests.stack_standins.instrument.MiniLsstCamImSim``).  Under daf_butler 23
(``resources-v23.yaml``) it also provides obs_base 23's
``register-instrument``.

They write the collections, dimension records and datasets that the real
commands write and that later steps of the toolkit read, for the miniature
DP0.2 input tree.  Production code must neither import nor mention them.
"""
