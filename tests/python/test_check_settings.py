"""py/check_settings.py: every setting validated before the first step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "tests"))

import check_settings  # noqa: E402
import runtimes  # noqa: E402


def known() -> list[str]:
    """DP02_SETTINGS, as the bash library lists them."""
    out = subprocess.run(["bash", "-c", f"source '{ROOT}/bin/lib/dp02.sh'; "
                          "printf '%s\\n' \"${DP02_SETTINGS[@]}\""],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def defaults() -> dict[str, str]:
    """The default settings of the mini profile, resolved by the library."""
    out = subprocess.run([str(ROOT / "bin" / "config"), "show"], capture_output=True,
                         text=True, check=True, cwd=str(ROOT),
                         env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"}).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_defaults_and_profiles_are_valid() -> None:
    names = known()
    assert set(check_settings.CHECKS) <= set(names), "a check for no setting"
    errors, warnings = check_settings.validate(defaults(), names)
    assert errors == [] and warnings == []
    for profile in ("dp02",):
        settings = {**defaults(), "PROFILE": profile, "RAW_YEARS": "y1-wfd y2-wfd y3-wfd "
                    "y4-wfd y5-wfd", "EXPECTED_VISITS": "19852", "EXPECTED_REFCATS": "1213",
                    "INPUTS_BASE_URL": "https://me.lsst.eu/lsstdata"}
        assert check_settings.validate(settings, names) == ([], [])


@pytest.mark.parametrize("name,value,words", [
    ("JOBS", "0", "JOBS=0 is not a positive whole number"),
    ("JOBS", "-3", "JOBS=-3 is not a positive whole number"),
    ("JOBS", "four", "JOBS=four is not a positive whole number"),
    ("JOBS", "4 ", "JOBS=4  is not a positive whole number"),
    ("TRANSFER", "move", "TRANSFER=move is refused"),
    ("TRANSFER", "drect", "did you mean direct?"),
    ("TRANSFER", "", "TRANSFER is empty"),
    ("RAW_YEARS", "", "RAW_YEARS is empty"),
    ("RAW_YEARS", "y1-wfd ../y2-wfd", "RAW_YEARS holds ../y2-wfd"),
    ("RAW_YEARS", "y1-wfd/00001472", "RAW_YEARS holds y1-wfd/00001472"),
    ("RAW_YEARS", "..", "RAW_YEARS holds .."),
    ("RAW_YEARS", "y1-wfd y1-wfd", "RAW_YEARS names y1-wfd more than once"),
    ("INSTRUMENT", "", "INSTRUMENT is empty"),
    ("INSTRUMENT", "LSST Cam", "INSTRUMENT=LSST Cam is not an instrument name"),
    ("INSTRUMENT_CLASS", "LsstCamImSim", "is not a Python class name with its module"),
    ("TRUTH_SUMMARY", "maybe", "TRUTH_SUMMARY=maybe is not one of yes, no"),
    ("DRY_RUN", "no", "DRY_RUN=no would make a dry run"),
    ("EXPECTED_VISITS", "lots", "EXPECTED_VISITS=lots is not a whole number"),
    ("FITS_SAMPLE", "some", "FITS_SAMPLE=some is neither a whole number nor 'all'"),
    ("RAW_COLLECTION", "raw all", "is not a collection name"),
    ("DEFAULTS_CHAIN_CHILDREN", "refcats refcats", "names refcats more than once"),
    ("DEFAULTS_CHAIN_CHILDREN", "2.2i/defaults refcats", "names the chain itself"),
    ("TRUTH_DIMENSIONS", "skymap skymap", "names a dimension twice"),
    ("SKYMAP_COLLECTION", "2.2i/skymaps", "register-skymap always writes the sky map into"),
    ("REGISTRY_DB", "postgresql://dp02@h/db", "is not a PostgreSQL URL that daf_butler"),
    ("REGISTRY_DB", "postgresql+psycopg2://dp02@h", "names no database name"),
    ("REGISTRY_NAMESPACE", "dp02", "REGISTRY_DB is empty (SQLite)"),
    ("RUNTIME", "docker", "RUNTIME=docker is not one of auto, host, container, lite"),
    ("MINI_PIXELS", "5000", "MINI_PIXELS=5000 is out of range: set MINI_PIXELS to 0 to 4096"),
    ("INPUTS_BASE_URL", "https://u:Zq9@mirror/x", "INPUTS_BASE_URL carries a password"),
    ("CONTAINER_ENGINE", "https://u:Zq9@x", "CONTAINER_ENGINE carries a password"),
])
def test_one_bad_setting(name: str, value: str, words: str) -> None:
    settings = {**defaults(), name: value}
    errors, _warnings = check_settings.validate(settings, known())
    assert len(errors) == 1, errors
    assert words in errors[0]
    assert "Zq9" not in errors[0]


def test_slurm_settings_only_with_slurm() -> None:
    settings = {**defaults(), "SLURM_MEM": "4 GB", "CHUNK_VISITS": "0"}
    assert check_settings.validate(settings, known())[0] == []
    errors = check_settings.validate({**settings, "SCHEDULER": "slurm"}, known())[0]
    assert len(errors) == 2
    assert "SLURM_MEM=4 GB is not a Slurm memory size" in errors[1]


def test_unknown_key_names_the_closest() -> None:
    errors, warnings = check_settings.validate(defaults(), known(), ".env",
                                               ["JOB", "REPO", "TRANSFR", "ZZZ_TOP_SECRET"])
    assert errors == []
    assert len(warnings) == 3
    assert warnings[0].startswith("JOB in .env is not a setting") and "JOBS?" in warnings[0]
    assert "did you mean TRANSFER?" in warnings[1]
    assert "did you mean" not in warnings[2]


@pytest.mark.parametrize("runtime", runtimes.NAMES)
def test_transfer_modes_of_the_runtime(runtime: str) -> None:
    """The modes the fast path knows are those the runtime's daf_butler reports."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import check_settings as c; "
            "asked = c.transfer_modes(ask=True); known = c.transfer_modes(); "
            "print(sorted(asked[0]) == sorted(c.KNOWN_TRANSFER_MODES), known[1], asked[1])")
    out = subprocess.run([runtimes.python(runtime), "-c", code, str(ROOT / "py")],
                         capture_output=True, text=True, check=True).stdout
    same, known_origin, asked_origin = out.split(" ", 2)
    assert same == "True"
    assert "asked" in asked_origin and "asked" not in known_origin


def test_main_prints_and_exits_2(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture) -> None:
    for name, value in {**defaults(), "JOBS": "0"}.items():
        monkeypatch.setenv(name, value)
    assert check_settings.main(["--env-file", "x.env", "--env-file-keys", "JOBZ", *known()]) == 2
    err = capsys.readouterr().err
    assert "check-inputs: warning: JOBZ in x.env" in err
    assert "check-inputs: error: JOBS=0" in err


def test_mini_years_limit_is_make_mini_inputs() -> None:
    import make_mini_inputs

    assert check_settings.MAX_MINI_YEARS == make_mini_inputs.MAX_YEARS
