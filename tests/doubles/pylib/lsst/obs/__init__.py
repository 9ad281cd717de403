"""Test double (bats only): lets ``lsst.obs.lsst`` be found, see lsst/obs/lsst/__init__.py."""
