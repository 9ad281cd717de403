"""Test double (bats only, on PYTHONPATH through tests/bats/helpers.bash): makes the module
of the default INSTRUMENT_CLASS, lsst.obs.lsst (obs_lsst, part of the LSST stack), findable,
so that bin/register-instrument's check that the class can be loaded passes where butler is
the test double too. It defines nothing: nothing imports a class from it."""
