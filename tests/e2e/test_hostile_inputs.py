"""Hostile inputs (issue 17): bad input files, bad settings, passwords in URLs, files that
verify must not miss. One test per case, each on both runtimes (``mini_tree`` is per
runtime), each asserting the exit status (make's, and the step's own ``Error N``), a message
naming the bad input, no traceback, no stamp for the step that refused, and the inputs'
checksums unchanged (tests/e2e/hostile.py).

Every case runs ``make check-inputs``, never a build. The bad-file cases share one run per
runtime: one tree holding one bad file per case (each raw case in its own visit directory),
checked once, each case then asserting that its own file is named with its own problem,
which also shows that check-inputs reports every problem at once. The export cases each need
a tree of their own. The verify cases share one repository per runtime, built with the
daf_butler API (tests/python/_verify_fixture.py: the same collections and datasets as the real
steps, in seconds instead of minutes), and run the verify step (``bin/verify``, what make
runs) after adding one file to the inputs.

The unreadable-file cases need a user who cannot read a file root can: ``nobody`` through
``setpriv`` where it can run the runtime's Python, otherwise root without the capabilities
that let root read any file (``setpriv --bounding-set=-dac_override,-dac_read_search``): on
this machine both runtimes' interpreters live under /root (mode 700), out of nobody's reach.
When neither works the cases are skipped, and under ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
from conftest import ROOT, Build, checksums
from hostile import assert_refused, assert_unchanged, own_tree

sys.path.insert(0, str(ROOT / "tests"))
import runtimes  # noqa: E402

SECRET = "Zq9xK"
"""Part of every password below: it must appear in no output and no file."""


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def raw_files(tree: Path) -> list[Path]:
    return sorted(tree.glob("raw/y*-wfd/*/lsst_a_*.fits"))


def rel(tree: Path, path: Path, under: str) -> str:
    """A path as the messages name it: relative to DP02_RAW, DP02_CALIB, ..."""
    return str(path.relative_to(tree / under))


def check_inputs(build: Build, env: dict[str, str] | None = None,
                 target: str = "check-inputs") -> subprocess.CompletedProcess:
    return build.make(target, check=False, env=env)


def refused_by_make(result: subprocess.CompletedProcess, build: Build, step: str,
                    *names: str, status: int) -> str:
    """`assert_refused` for a step run by make: make exits 2 whenever a step fails, and says
    the step's own exit status (``Error N``), which must be ``status`` (1: the inputs are
    bad, 2: the settings)."""
    console = assert_refused(result, build, step, *names, status=2)
    assert f"] Error {status}" in console, console
    return console


@pytest.fixture
def case(mini_tree: Path, tmp_path: Path, runtime: str) -> tuple[Path, Build]:
    """A private copy of the miniature tree and a build of it (nothing run yet)."""
    tree = own_tree(mini_tree, tmp_path)
    base = tmp_path / "build"
    base.mkdir()
    return tree, Build(base, tree, runtime=runtime)


# ---------------------------------------------------------------------------
# Bad files: one tree per runtime holding one bad file per case, one check-inputs run
# ---------------------------------------------------------------------------


def cut(path: Path, size: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:size])


def raw_in_visit(tree: Path, index: int) -> Path:
    """The first raw of the index-th visit directory (each case breaks its own visit)."""
    visits = sorted(p for p in tree.glob("raw/y*-wfd/*") if p.is_dir())
    return sorted(visits[index].glob("lsst_a_*.fits"))[0]


def raw_empty(tree: Path) -> list[str]:
    raw = raw_in_visit(tree, 0)
    cut(raw, 0)
    return [f"{rel(tree, raw, 'raw')} (empty, 0 bytes)", "raw.files"]


def raw_half(tree: Path) -> list[str]:
    # 5760 bytes (header and data blocks) cut to 2880: whole blocks, the header complete;
    # only astropy, reading where the data should be, sees it.
    raw = raw_in_visit(tree, 1)
    cut(raw, raw.stat().st_size // 2)
    return [f"{rel(tree, raw, 'raw')} (truncated: astropy finds HDU 0 of 1 ending at byte "
            "5760, and the file has 2880 bytes)", "raw.files"]


def raw_odd_size(tree: Path) -> list[str]:
    raw = raw_in_visit(tree, 2)
    cut(raw, 4000)
    return [f"{rel(tree, raw, 'raw')} (4000 bytes, not a whole number of 2880-byte FITS "
            "blocks", "raw.files"]


def raw_not_fits(tree: Path) -> list[str]:
    raw = raw_in_visit(tree, 3)
    raw.write_bytes(b"<html>404 Not Found</html>".ljust(2880, b" "))
    return [f"{rel(tree, raw, 'raw')} (astropy cannot read it as FITS", "raw.files"]


def raw_dangling(tree: Path) -> list[str]:
    raw = raw_in_visit(tree, 4)
    raw.unlink()
    raw.symlink_to(raw.parent / "elsewhere" / raw.name)
    return [f"{rel(tree, raw, 'raw')} (a dangling symbolic link", "raw.files"]


def raw_directory(tree: Path) -> list[str]:
    raw = raw_in_visit(tree, 5)
    raw.unlink()
    raw.mkdir()
    return [f"{rel(tree, raw, 'raw')} (a directory, not a file)", "raw.files"]


def index_empty(tree: Path) -> list[str]:
    index = raw_in_visit(tree, 0).parent / "_index.json"
    index.write_bytes(b"")
    return [f"{rel(tree, index, 'raw')} (empty, 0 bytes)", "raw.index-readable"]


def refcat_entry(tree: Path, index: int) -> Path:
    """The index-th refcat file, removed: its name is taken by a bad entry."""
    victim = sorted((tree / "refcats" / "cal_ref_cat").glob("*.fits"))[index]
    victim.unlink()
    return victim


REFCATS_BROKEN = 4
"""Refcat cases in the broken tree: each replaces one of the good files."""


def refcat_names(victim: Path, why: str, expected: int) -> list[str]:
    return [f"{victim.name} ({why}", "refcat.files",
            f"{expected - REFCATS_BROKEN} refcat files (complete <htm7>.fits)",
            f"EXPECTED_REFCATS={expected}"]


def refcat_dangling(tree: Path, expected: int) -> list[str]:
    victim = refcat_entry(tree, 0)
    victim.symlink_to(victim.parent / "gone" / victim.name)
    return refcat_names(victim, "a dangling symbolic link", expected)


def refcat_directory(tree: Path, expected: int) -> list[str]:
    victim = refcat_entry(tree, 1)
    victim.mkdir()
    return refcat_names(victim, "a directory, not a file", expected)


def refcat_half(tree: Path, expected: int) -> list[str]:
    victim = refcat_entry(tree, 2)
    source = sorted(victim.parent.glob("*.fits"))[-1]
    victim.write_bytes(source.read_bytes()[:source.stat().st_size // 2])
    # Cut in the binary table's header: astropy finds no END card.
    return refcat_names(victim, "astropy cannot read it as FITS (Header missing END card)",
                        expected)


def refcat_empty(tree: Path, expected: int) -> list[str]:
    victim = refcat_entry(tree, 3)
    victim.write_bytes(b"")
    return refcat_names(victim, "empty, 0 bytes", expected)


def calib_file_empty(tree: Path) -> list[str]:
    victim = sorted((tree / "calib" / "2.2i").rglob("flat_*"))[3]
    victim.write_bytes(b"")
    return [f"{rel(tree, victim, 'calib')} (empty, 0 bytes)", "calib.files"]


def calib_file_dangling(tree: Path) -> list[str]:
    victim = sorted((tree / "calib" / "2.2i").rglob("bias_*"))[0]
    victim.unlink()
    victim.symlink_to(tree / "nowhere" / victim.name)
    return [f"{rel(tree, victim, 'calib')} (a dangling symbolic link", "calib.files"]


def truth_file_cut(tree: Path) -> list[str]:
    victim = sorted((tree / "truth_summary" / "truth_parquet").glob("*.parq"))[0]
    cut(victim, victim.stat().st_size // 2)
    return [f"{victim.name} (pyarrow cannot read it as Parquet", "truth.files"]


FILE_CASES: dict[str, Callable[[Path], list[str]]] = {
    "raw-empty": raw_empty, "raw-half": raw_half, "raw-odd-size": raw_odd_size,
    "raw-not-fits": raw_not_fits, "raw-dangling-link": raw_dangling,
    "raw-directory": raw_directory, "index-empty": index_empty,
    "calib-file-empty": calib_file_empty, "calib-file-dangling-link": calib_file_dangling,
    "truth-file-cut": truth_file_cut}
REFCAT_CASES: dict[str, Callable[[Path, int], list[str]]] = {
    "refcat-dangling-link": refcat_dangling, "refcat-directory": refcat_directory,
    "refcat-half": refcat_half, "refcat-empty": refcat_empty}


class Broken:
    """One check-inputs run on a tree broken in every way of FILE_CASES and REFCAT_CASES."""

    def __init__(self, build: Build, tree: Path, before: dict[str, str],
                 result: subprocess.CompletedProcess, names: dict[str, list[str]]) -> None:
        self.build, self.tree, self.before = build, tree, before
        self.result, self.names = result, names


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path, runtime: str) -> Broken:
    """The miniature tree with one bad file per case, checked once (per runtime).

    Each case breaks its own file (its own visit directory for the raws), so that every
    case is named in the same run: check-inputs reports every problem at once.
    """
    base = tmp_path_factory.mktemp(f"hostile-files-{runtime}")
    tree = own_tree(mini_tree, base)
    expected = len(list((tree / "refcats" / "cal_ref_cat").glob("*.fits")))
    names = {case: make(tree) for case, make in FILE_CASES.items()}
    names.update({case: make(tree, expected) for case, make in REFCAT_CASES.items()})
    build = Build(base / "build", tree, runtime=runtime)
    before = checksums(tree)
    result = check_inputs(build, env={"EXPECTED_REFCATS": str(expected)})
    return Broken(build, tree, before, result, names)


@pytest.mark.parametrize("how", [*FILE_CASES, *REFCAT_CASES])
def test_bad_input_file(broken: Broken, how: str) -> None:
    refused_by_make(broken.result, broken.build, "check-inputs", *broken.names[how], status=1)
    assert_unchanged(broken.tree, broken.before)


# ---------------------------------------------------------------------------
# Files root can read and the build user cannot
# ---------------------------------------------------------------------------


def _works(prefix: list[str], python: str, env: dict[str, str]) -> bool:
    """Whether the runtime's Python runs under ``prefix`` as the build starts it (a program
    executing it by its path)."""
    try:
        return subprocess.run([*prefix, "env", python, "-c", "import astropy.io.fits"],
                              env=env, capture_output=True, timeout=60,
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class OtherUser:
    """A user who cannot read a file root can, and how to make such a file."""

    def __init__(self, prefix: list[str], name: str, home: Path | None) -> None:
        self.prefix, self.name, self.home = prefix, name, home

    def hide(self, path: Path) -> None:
        """Make ``path`` readable by root only, as far as this user is concerned."""
        if self.name == "nobody":
            os.chown(path, 0, 0)
        else:  # root without CAP_DAC_OVERRIDE reads its own files: give it to nobody
            nobody = pwd.getpwnam("nobody")
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        path.chmod(0o600)


def other_user(runtime: str, home: Path) -> OtherUser | None:
    """``nobody`` (setpriv) when it can run the runtime's Python, else root without the
    capabilities that let root read any file; `None` when neither works."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    python = runtimes.python(runtime)
    nobody = pwd.getpwnam("nobody")
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    as_nobody = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                 "--clear-groups", "--"]
    if _works(as_nobody, python, {**os.environ, "HOME": str(home)}):
        return OtherUser(as_nobody, "nobody", home)
    no_dac = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search",
              "--"]
    if _works(no_dac, python, dict(os.environ)):
        return OtherUser(no_dac, "root without CAP_DAC_OVERRIDE", None)
    return None


UNREADABLE = {"raw": ("raw", "raw.files"), "refcat": ("refcats/cal_ref_cat", "refcat.files"),
              "calib": ("calib", "calib.files")}


@pytest.fixture(scope="module")
def unreadable(runtime: str, mini_tree: Path) -> Iterator[tuple[Broken, OtherUser]]:
    """One raw, one refcat and one calibration file readable by root only; check-inputs run
    once as a user who cannot read them. In a directory every user can traverse (pytest's
    is root's, mode 700)."""
    base = Path(tempfile.mkdtemp(prefix="dp02-hostile-"))
    try:
        base.chmod(0o755)
        (base / "home").mkdir()
        user = other_user(runtime, base / "home")
        if user is None:
            reason = ("neither nobody (setpriv) nor root without CAP_DAC_OVERRIDE can run "
                      f"{runtimes.python(runtime)} here")
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason}, and under CI=true the unreadable-file cases must run")
            pytest.skip(reason)
        tree = own_tree(mini_tree, base)
        for directory, _dirs, _files in os.walk(base / "inputs"):
            Path(directory).chmod(0o755)
        build_dir = base / "build"
        build_dir.mkdir(mode=0o777)
        build_dir.chmod(0o777)
        victims = {"raw": raw_in_visit(tree, 2),
                   "refcat": sorted((tree / "refcats" / "cal_ref_cat").glob("*.fits"))[0],
                   "calib": sorted((tree / "calib" / "2.2i").rglob("*.ecsv"))[0]}
        names = {}
        for what, victim in victims.items():
            user.hide(victim)
            under, check = UNREADABLE[what]
            names[what] = [f"{rel(tree, victim, under)} (not readable by this user", check]
        build = Build(build_dir, tree, runtime=runtime)
        before = checksums(tree)
        env = build.run_env({"HOME": str(user.home)} if user.home else None)
        result = subprocess.run([*user.prefix, "make", "-C", str(ROOT), "VENV=/nonexistent",
                                 "check-inputs"], env=env, capture_output=True, text=True,
                                check=False)
        yield Broken(build, tree, before, result, names), user
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("what", UNREADABLE)
def test_unreadable_file(unreadable: tuple[Broken, OtherUser], what: str) -> None:
    broken, _user = unreadable
    console = refused_by_make(broken.result, broken.build, "check-inputs", *broken.names[what],
                              "chmod a+r", status=1)
    assert "runtime.astropy" not in console
    assert_unchanged(broken.tree, broken.before)


# ---------------------------------------------------------------------------
# Calibrations
# ---------------------------------------------------------------------------


def export_lines(tree: Path) -> list[str]:
    return (tree / "calib" / "export.yaml").read_text().splitlines(keepends=True)


def cut_export_half(tree: Path) -> list[str]:
    lines = export_lines(tree)
    (tree / "calib" / "export.yaml").write_text("".join(lines[:len(lines) // 2]))
    return ["export.yaml parses", "but is incomplete", "certified in no CALIBRATION",
            "calib.unnamed-files", "are not named by its export.yaml"]


def cut_export_before_datasets(tree: Path) -> list[str]:
    lines = export_lines(tree)
    first = next(i for i, line in enumerate(lines) if line.startswith("- type: dataset_type"))
    (tree / "calib" / "export.yaml").write_text("".join(lines[:first]))
    return ["export.yaml parses but names no dataset (0 datasets)", "calib.unnamed-files"]


def cut_export_associations(tree: Path) -> list[str]:
    lines = export_lines(tree)
    last = next(i for i, line in enumerate(lines) if line.startswith("- type: associations"))
    (tree / "calib" / "export.yaml").write_text("".join(lines[:last]))
    return ["16 of its 16 calibration datasets are certified in no CALIBRATION collection"]


def empty_export(tree: Path) -> list[str]:
    (tree / "calib" / "export.yaml").write_bytes(b"")
    return ["export.yaml is empty, 0 bytes"]


EXPORT_CASES: dict[str, Callable[[Path], list[str]]] = {
    "export-cut-in-half": cut_export_half,
    "export-cut-before-datasets": cut_export_before_datasets,
    "export-without-associations": cut_export_associations,
    "export-empty": empty_export}


@pytest.mark.parametrize("how", EXPORT_CASES)
def test_export_cut_short(case: tuple[Path, Build], how: str) -> None:
    """An export.yaml cut short still parses: what it lost is named, nothing is imported."""
    tree, build = case
    names = EXPORT_CASES[how](tree)
    before = checksums(tree)
    result = check_inputs(build)
    refused_by_make(result, build, "check-inputs", *names, status=1)
    assert_unchanged(tree, before)


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------

SETTING_CASES = {
    "jobs-zero": ({"JOBS": "0"}, ["JOBS=0 is not a positive whole number"]),
    "jobs-word": ({"JOBS": "four"}, ["JOBS=four is not a positive whole number"]),
    "transfer-move": ({"TRANSFER": "move"}, ["TRANSFER=move is refused"]),
    "transfer-typo": ({"TRANSFER": "drect"},
                      ["TRANSFER=drect is not a transfer mode of this runtime's butler",
                       "did you mean direct?"]),
    "raw-years-empty": ({"RAW_YEARS": ""}, ["the setting RAW_YEARS is empty"]),
    "raw-years-parent": ({"RAW_YEARS": "y1-wfd ../y2-wfd"}, ["RAW_YEARS holds ../y2-wfd"]),
    "raw-years-path": ({"RAW_YEARS": "y1-wfd/00000001"}, ["RAW_YEARS holds y1-wfd/00000001"]),
    "raw-years-twice": ({"RAW_YEARS": "y1-wfd y2-wfd y1-wfd"},
                        ["RAW_YEARS names y1-wfd more than once"]),
    "instrument-empty": ({"INSTRUMENT": ""}, ["INSTRUMENT is empty"]),
    "truth-summary-word": ({"TRUTH_SUMMARY": "maybe"}, ["TRUTH_SUMMARY=maybe is not one of"]),
    "expected-visits-word": ({"EXPECTED_VISITS": "lots"},
                             ["EXPECTED_VISITS=lots is not a whole number"]),
    "dry-run-no": ({"DRY_RUN": "no"}, ["DRY_RUN=no would make a dry run"]),
    "chain-children-twice": ({"DEFAULTS_CHAIN_CHILDREN": "refcats skymaps refcats"},
                             ["DEFAULTS_CHAIN_CHILDREN names refcats more than once"]),
}


@pytest.mark.parametrize("how", SETTING_CASES)
def test_bad_setting(mini_tree: Path, tmp_path: Path, runtime: str, how: str) -> None:
    """Refused by check-inputs before anything is read or written."""
    env, names = SETTING_CASES[how]
    build = Build(tmp_path, mini_tree, runtime=runtime)
    before = checksums(mini_tree)
    result = check_inputs(build, env=env)
    console = refused_by_make(result, build, "check-inputs", *names,
                              "nothing was run" if how != "raw-years-empty" else "RAW_YEARS",
                              status=2)
    assert "check_inputs.py" not in console
    assert not (build.state / "logs").exists()
    assert_unchanged(mini_tree, before)


def test_bad_settings_stop_a_dry_run_at_once(mini_tree: Path, tmp_path: Path,
                                              runtime: str) -> None:
    """DRY_RUN=1 make repo: check-inputs refuses every bad setting, all at once, before the
    dry run shows any command."""
    build = Build(tmp_path, mini_tree, runtime=runtime)
    before = checksums(mini_tree)
    result = build.make("repo", check=False, env={"DRY_RUN": "1", "JOBS": "-1",
                                                  "TRANSFER": "copyy"})
    console = refused_by_make(result, build, "check-inputs", "JOBS=-1", "TRANSFER=copyy",
                              status=2)
    assert "check_inputs.py" not in console and "butler create" not in console
    assert not build.state.exists() or not any(build.state.rglob("*.done"))
    assert_unchanged(mini_tree, before)


def test_truth_summary_elsewhere(mini_tree: Path, tmp_path: Path, runtime: str) -> None:
    """A typo in DP02_TRUTH_SUMMARY stops check-inputs, not truth-summary after the raws."""
    build = Build(tmp_path, mini_tree, runtime=runtime)
    before = checksums(mini_tree)
    result = check_inputs(build, env={"DP02_TRUTH_SUMMARY": str(mini_tree / "truth_sumary")})
    refused_by_make(result, build, "check-inputs",
                    f"DP02_TRUTH_SUMMARY={mini_tree / 'truth_sumary'} does not exist",
                    "set TRUTH_SUMMARY=no", status=1)
    assert_unchanged(mini_tree, before)


def test_unknown_key_in_env_file_warns(mini_tree: Path, tmp_path: Path, runtime: str) -> None:
    """A typo in .env (JOB for JOBS) does not stop the build, and says which key it means."""
    build = Build(tmp_path, mini_tree, runtime=runtime)
    env_file = tmp_path / "settings.env"
    env_file.write_text("JOB=4\nREFCAT_COLECTION=refcats\n")
    result = check_inputs(build, env={"ENV_FILE": str(env_file)})
    console = result.stdout + result.stderr
    assert result.returncode == 0, console
    assert f"warning: JOB in {env_file} is not a setting of the toolkit, so it is ignored: " \
           "did you mean JOBS?" in console
    assert "REFCAT_COLECTION" in console and "did you mean REFCAT_COLLECTION?" in console
    assert "Traceback" not in console


# ---------------------------------------------------------------------------
# Passwords in URLs
# ---------------------------------------------------------------------------

PASSWORD_URLS = {
    "plain": f"postgresql+psycopg2://dp02:{SECRET}@db.example:5432/dp02",
    "percent-encoded": f"postgresql+psycopg2://dp02:{SECRET}%2F%40%3A@db.example:5432/dp02",
    "slash": f"postgresql+psycopg2://dp02:{SECRET}/x@db.example:5432/dp02",
    "at": f"postgresql+psycopg2://dp02:{SECRET}@x@db.example:5432/dp02",
    "hash": f"postgresql+psycopg2://dp02:{SECRET}#x@db.example:5432/dp02",
    "question-mark": f"postgresql+psycopg2://dp02:{SECRET}?x@db.example:5432/dp02",
    "colon": f"postgresql+psycopg2://dp02:{SECRET}:x@db.example:5432/dp02",
    "query": f"postgresql+psycopg2://dp02@db.example:5432/dp02?sslmode=require&password={SECRET}",
}


def no_secret_in_files(top: Path) -> None:
    for path in top.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"the password is in {path}"


@pytest.mark.parametrize("how", PASSWORD_URLS)
def test_password_in_registry_url(mini_tree: Path, tmp_path: Path, runtime: str,
                                  how: str) -> None:
    build = Build(tmp_path, mini_tree, runtime=runtime, registry_db=PASSWORD_URLS[how])
    before = checksums(mini_tree)
    result = check_inputs(build)
    host = "db.example" if how != "at" else "cannot be told apart from the password"
    console = refused_by_make(result, build, "check-inputs", "REGISTRY_DB carries a password",
                              "user 'dp02'", host, "db-auth", status=2)
    assert SECRET not in console
    no_secret_in_files(tmp_path)
    assert_unchanged(mini_tree, before)


def test_password_in_inputs_base_url(mini_tree: Path, tmp_path: Path, runtime: str) -> None:
    build = Build(tmp_path, mini_tree, runtime=runtime)
    before = checksums(mini_tree)
    result = check_inputs(build, env={
        "INPUTS_BASE_URL": f"https://operator:{SECRET}@mirror.example/lsstdata"})
    console = refused_by_make(result, build, "check-inputs",
                              "INPUTS_BASE_URL carries a password",
                              "user 'operator' at host 'mirror.example'", status=2)
    assert SECRET not in console
    no_secret_in_files(tmp_path)
    assert_unchanged(mini_tree, before)


# ---------------------------------------------------------------------------
# verify: the registry against the directory listings, not only the tables
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory, mini_tree: Path,
             runtime: str) -> Build:
    """A repository of the miniature tree that verify passes, one per runtime."""
    base = tmp_path_factory.mktemp(f"hostile-verify-{runtime}")
    tree = base / "inputs" / "dp0.2"
    shutil.copytree(mini_tree, tree, symlinks=True)
    build = Build(base, tree, runtime=runtime)
    code = ("import sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[1])\n"
            "import _verify_fixture\n_verify_fixture.build_repo(Path(sys.argv[2]), "
            "Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5].split())\n")
    subprocess.run([build.python, "-c", code, str(ROOT / "tests" / "python"), str(tree),
                    str(build.repo), str(build.state), build.env["RAW_YEARS"]],
                   env=build.env, check=True, capture_output=True)
    result = run_verify(build)
    assert result.returncode == 0, result.stdout + result.stderr
    (build.state / "stamps" / "verify.done").unlink()
    return build


def run_verify(build: Build) -> subprocess.CompletedProcess:
    """The verify step (bin/verify, what make runs), on the build's settings."""
    return subprocess.run([str(ROOT / "bin" / "verify")], env=build.run_env(),
                          capture_output=True, text=True, check=False)


def refcat_link(tree: Path) -> tuple[Path, list[str]]:
    link = tree / "refcats" / "cal_ref_cat" / "131072.fits"
    link.symlink_to(tree / "gone.fits")
    return link, ["refcats:listing", "131072 (a dangling symbolic link"]


def raw_not_indexed(tree: Path) -> tuple[Path, list[str]]:
    raw = raw_files(tree)[0]
    extra = raw.with_name(raw.name.replace("R22_S11", "R22_S10"))
    shutil.copy(raw, extra)
    return extra, ["raws:listing", f"{rel(tree, raw.parent, 'raw')} (not in its index: "
                   f"{extra.name})"]


def truth_not_ingested(tree: Path) -> tuple[Path, list[str]]:
    parquet = tree / "truth_summary" / "truth_parquet"
    extra = parquet / "truth_patchint_tract9999.parq"
    shutil.copy(sorted(parquet.iterdir())[0], extra)
    return extra, ["truth-summary:listing", "tract in the directory but not in the "
                   "registry: 9999"]


VERIFY_CASES = {"refcat-dangling-link": refcat_link, "raw-not-in-index": raw_not_indexed,
                "truth-file-not-ingested": truth_not_ingested}


@pytest.mark.parametrize("how", VERIFY_CASES)
def test_verify_names_a_file_the_registry_lacks(verified: Build, how: str) -> None:
    tree = verified.inputs
    added, names = VERIFY_CASES[how](tree)
    try:
        before = checksums(tree)
        result = run_verify(verified)
        assert_refused(result, verified, "verify", *names, status=1)
        assert_unchanged(tree, before)
    finally:
        added.unlink()
