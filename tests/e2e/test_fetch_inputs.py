"""`make fetch-inputs` against a real nginx on 127.0.0.1 serving archives made from the
miniature tree: a full fetch then `make repo`, a resumed download (checked in the access
log), and every failure (checksum, truncation, escaping members, 404, 500, full disk)
giving one clear message and leaving nothing half-written."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Iterator

import pytest
from conftest import ROOT, Build

sys.path.insert(0, str(ROOT / "tests"))
import holdpoint  # noqa: E402
from nginxserver import ServedNginx, nginx  # noqa: E402, F401

ARCHIVES = {
    # name: (target, member prefix inside the archive, what goes in)
    "dp02_raw_wfd_indexes.tar.gz": "raw",
    "dp02_calib.tar.gz": "calib",
    "dp02_refcat.tar.gz": "refcats",
    "dp02_refcat.ecsv.tar.gz": "refcats",
    "dp02_truth_summary.tar": "truth_summary",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tar_dir(archive: Path, base: Path, names: list[Path], mode: str = "w:gz") -> None:
    """Write ``archive`` with the given paths (relative to ``base``), directories first."""
    with tarfile.open(archive, mode) as tar:
        for rel in names:
            tar.add(base / rel, arcname=str(rel), recursive=False)


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def published(nginx: ServedNginx, current_mini_tree: Path) -> dict[str, str]:  # noqa: F811
    """The five archives, in the published names, made from the miniature tree and served
    under /files/; returns name -> FETCH_ARCHIVES word (with sha256)."""
    root = nginx.root
    top = current_mini_tree
    rels = sorted(p.relative_to(top) for p in top.rglob("*"))
    # Index files with their directories, under raw/ (stripped on unpack).
    index = [r for r in rels if r.parts[0] == "raw" and (r.name == "_index.json" or
                                                         (top / r).is_dir())]
    tar_dir(root / "dp02_raw_wfd_indexes.tar.gz", top, index)
    tar_dir(root / "dp02_calib.tar.gz", top, [r for r in rels if r.parts[0] == "calib"])
    # The refcats without a top directory: cal_ref_cat/NNNNNN.fits.
    refcats = top / "refcats"
    tar_dir(root / "dp02_refcat.tar.gz", refcats,
            sorted(p.relative_to(refcats) for p in refcats.rglob("*")
                   if p.relative_to(refcats).parts[0] == "cal_ref_cat"))
    with tarfile.open(root / "dp02_refcat.ecsv.tar.gz", "w:gz") as tar:
        add_bytes(tar, "refcat.ecsv", b"# %ECSV 1.0\n# ---\nfilename htm7\n")
    tar_dir(root / "dp02_truth_summary.tar", top,
            [r for r in rels if r.parts[0] == "truth_summary"], mode="w")
    return {name: f"{name}:{target}:{sha256(root / name)}" for name, target in ARCHIVES.items()}


class Fetch:
    """One fetch-inputs run's places and settings (DP02_TOP, STATE_DIR, DOWNLOAD_DIR)."""

    def __init__(self, base: Path, nginx: ServedNginx, archives: str,  # noqa: F811
                 url_path: str = "/files", **extra: str) -> None:
        self.build = Build(base, base / "top")
        # Not the miniature tree's place: make must not write a miniature tree there.
        self.build.env["MINI_DIR"] = str(base / "no-mini-tree")
        self.top = base / "top"
        self.state = self.build.state
        self.downloads = Path(extra.get("DOWNLOAD_DIR", self.state / "downloads"))
        self.env = {"INPUTS_BASE_URL": nginx.url + url_path, "FETCH_ARCHIVES": archives,
                    **extra}

    def run(self, **env: str) -> subprocess.CompletedProcess:
        return self.build.make("fetch-inputs", check=False, env={**self.env, **env})

    def assert_clean_failure(self, result: subprocess.CompletedProcess, *words: str) -> None:
        """Non-zero exit, one error paragraph naming ``words``, no stamp, nothing half-made."""
        assert result.returncode != 0, result.stderr
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1, result.stderr
        for word in words:
            assert word in errors[0], (word, errors[0])
        assert "run 'make fetch-inputs" in errors[0] or "FORCE=yes" in errors[0] or \
            "get a good copy" in errors[0], errors[0]
        assert not (self.state / "stamps" / "fetch-inputs.done").exists()
        if self.top.exists():
            assert not [p for p in self.top.iterdir() if p.name.startswith(".fetch-")]


def test_full_fetch_then_build(tmp_path: Path, nginx: ServedNginx,  # noqa: F811
                               published: dict[str, str], current_mini_tree: Path) -> None:
    fetch = Fetch(tmp_path, nginx, " ".join(published.values()))
    top = fetch.top
    # The operator copies the raw images (not published as an archive) and the sky map
    # config (from GitHub) first; the index files then merge into the raw tree.
    shutil.copytree(current_mini_tree / "raw", top / "raw",
                    ignore=shutil.ignore_patterns("_index.json"))
    shutil.copytree(current_mini_tree / "skymaps", top / "skymaps")
    shutil.copy(current_mini_tree / "visits.txt", top / "visits.txt")
    nginx.clear_log()
    result = fetch.run()
    assert result.returncode == 0, result.stderr
    for rel in ("calib/export.yaml", "refcats/refcat.ecsv", "truth_summary/truth_tables.csv"):
        assert (top / rel).is_file(), rel
    assert sorted(p.name for p in (top / "refcats" / "cal_ref_cat").iterdir()) == \
        sorted(p.name for p in (current_mini_tree / "refcats" / "cal_ref_cat").iterdir())
    for index in current_mini_tree.glob("raw/*/*/_index.json"):
        assert (top / index.relative_to(current_mini_tree)).read_bytes() == index.read_bytes()
    assert not [p for p in top.iterdir() if p.name.startswith(".")]
    record = json.loads((fetch.state / "downloads.json").read_text())
    for name, word in published.items():
        assert record["archives"][name]["sha256"] == word.rsplit(":", 1)[1]
        assert record["archives"][name]["unpacked"]["target"].startswith(str(top))
    assert "merged into" in result.stderr
    assert (fetch.state / "stamps" / "fetch-inputs.done").exists()
    gets = [r for r in nginx.requests() if r["method"] == "GET"]
    assert len(gets) == len(published) and all(r["status"] == 200 for r in gets)

    # A second run downloads nothing.
    nginx.clear_log()
    again = fetch.run()
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("already unpacked") == len(published)
    assert nginx.requests() == []

    # The fetched tree builds and verifies (stand-ins for the stack commands).
    build = fetch.build
    built = build.make("repo")
    assert "verify ... done" in built.stderr


def big_archive(tmp_path: Path, nginx: ServedNginx,  # noqa: F811
                name: str) -> tuple[Fetch, Path, int]:
    """Serve a 3 MiB archive ``name`` (one file, random bytes) for a resume test.

    Returns the fetch run (target ``bigdata``, the archive's sha256 listed), the directory
    it was made from, and half its size."""
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "data.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    tar_dir(nginx.root / name, payload, [Path("data.bin")])
    fetch = Fetch(tmp_path / "run", nginx, f"{name}:bigdata:{sha256(nginx.root / name)}")
    return fetch, payload, (nginx.root / name).stat().st_size // 2


def assert_resumed(fetch: Fetch, nginx: ServedNginx, name: str, half: int,  # noqa: F811
                   payload: Path) -> None:
    """Run fetch-inputs over a partial download of ``half`` bytes: it must ask for the rest
    only (one Range request in the access log, 206, the bytes adding up) and unpack it."""
    size = (nginx.root / name).stat().st_size
    nginx.clear_log()
    result = fetch.run()
    assert result.returncode == 0, result.stderr
    assert f"resuming at byte {half}" in result.stderr
    gets = [r for r in nginx.requests() if r["method"] == "GET"]
    assert len(gets) == 1, nginx.requests()
    assert gets[0]["range"] == f"bytes={half}-" and gets[0]["status"] == 206
    assert half + gets[0]["bytes"] == size
    assert sha256(fetch.downloads / name) == sha256(nginx.root / name)
    assert (fetch.top / "bigdata" / "data.bin").read_bytes() == \
        (payload / "data.bin").read_bytes()


def test_resume_with_a_range_request(tmp_path: Path, nginx: ServedNginx) -> None:  # noqa: F811
    name = "resume-test.tar.gz"
    fetch, payload, half = big_archive(tmp_path, nginx, name)
    fetch.downloads.mkdir(parents=True)
    # An interrupted download, deterministically: the first half only, in the partial file.
    subprocess.run(["curl", "--fail", "--silent", "--show-error", "--range", f"0-{half - 1}",
                    "--output", str(fetch.downloads / f"{name}.part"),
                    f"{nginx.url}/files/{name}"], check=True)
    assert (fetch.downloads / f"{name}.part").stat().st_size == half
    assert_resumed(fetch, nginx, name, half, payload)


def test_download_killed_half_way_then_resumed(tmp_path: Path,
                                               nginx: ServedNginx) -> None:  # noqa: F811
    """A real `make fetch-inputs` SIGKILLed in the middle of a download, then run again.

    The curl double (tests/doubles/curl-hold-double) fetches the first half with the real
    curl and announces it on a FIFO; the test kills make's whole process group there, so the
    kill falls half-way whatever the load. The rerun, with the real curl, must ask for the
    rest only (the server's access log: one Range request, 206, the bytes adding up).
    """
    name = "killed-test.tar.gz"
    fetch, payload, half = big_archive(tmp_path, nginx, name)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "curl").symlink_to(ROOT / "tests" / "doubles" / "curl-hold-double")
    fifo = tmp_path / "hold.fifo"
    os.mkfifo(fifo)
    real_curl = shutil.which("curl")
    assert real_curl
    env = {**fetch.env, "PATH": f"{shim}:{fetch.build.run_env()['PATH']}",
           "CURL_DOUBLE_REAL": real_curl, "CURL_HOLD_BYTES": str(half),
           "CURL_HOLD_FIFO": str(fifo)}
    fetch.build.base.mkdir(parents=True, exist_ok=True)
    proc = fetch.build.popen("fetch-inputs", env=env)
    held = holdpoint.read_holds(fifo, proc)
    assert held, fetch.build.output.read_text()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    part = fetch.downloads / f"{name}.part"
    assert part.stat().st_size == half
    assert not (fetch.downloads / name).exists()
    assert not (fetch.state / "stamps" / "fetch-inputs.done").exists()
    assert not (fetch.top / "bigdata").exists()
    assert_resumed(fetch, nginx, name, half, payload)


def test_corrupted_archive(tmp_path: Path, nginx: ServedNginx,  # noqa: F811
                           published: dict[str, str]) -> None:
    name = "dp02_calib.tar.gz"
    wrong = "0" * 64
    fetch = Fetch(tmp_path, nginx, f"{name}:calib:{wrong}")
    result = fetch.run()
    fetch.assert_clean_failure(result, name, "corrupted", wrong)
    assert not (fetch.top / "calib").exists()


def test_archive_changed_since_first_use(tmp_path: Path, nginx: ServedNginx,  # noqa: F811
                                         published: dict[str, str]) -> None:
    name = "dp02_calib.tar.gz"
    fetch = Fetch(tmp_path, nginx, f"{name}:calib")  # no published checksum
    assert fetch.run().returncode == 0
    shutil.rmtree(fetch.top / "calib")
    (fetch.state / "stamps" / "fetch-inputs.done").unlink()
    local = fetch.downloads / name
    data = bytearray(local.read_bytes())
    data[len(data) // 2] ^= 0xFF
    local.write_bytes(bytes(data))
    result = fetch.run()
    fetch.assert_clean_failure(result, name, "changed since it was first used", "downloads.json")
    assert not (fetch.top / "calib").exists()


def test_truncated_archive(tmp_path: Path, nginx: ServedNginx,  # noqa: F811
                           published: dict[str, str]) -> None:
    name = "dp02_calib.tar.gz"
    full = nginx.root / name
    (nginx.short / name).write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    fetch = Fetch(tmp_path, nginx, f"{name}:calib", url_path="/headfull")
    result = fetch.run()
    fetch.assert_clean_failure(result, name, "truncated", str(full.stat().st_size))
    assert not (fetch.top / "calib").exists()
    assert not (fetch.downloads / name).exists()


def test_members_escaping_the_target(tmp_path: Path, nginx: ServedNginx) -> None:  # noqa: F811
    name = "escape-test.tar.gz"
    with tarfile.open(nginx.root / name, "w:gz") as tar:
        add_bytes(tar, "calib/export.yaml", b"data: []\n")
        add_bytes(tar, "../evil.txt", b"owned\n")
        link = tarfile.TarInfo("calib/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
        hard = tarfile.TarInfo("calib/hard")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "../../outside"
        tar.addfile(hard)
    fetch = Fetch(tmp_path / "run", nginx, f"{name}:calib")
    result = fetch.run()
    fetch.assert_clean_failure(result, name, "refused", "../evil.txt", "/etc/passwd",
                               "../../outside")
    assert not (fetch.top / "calib").exists()
    assert not list(tmp_path.rglob("evil.txt"))


@pytest.mark.parametrize("url_path, name, status", [
    ("/files", "no-such-archive.tar.gz", "404"),
    ("/error500", "dp02_calib.tar.gz", "500"),
])
def test_server_errors(tmp_path: Path, nginx: ServedNginx, published: dict[str, str],  # noqa: F811
                       url_path: str, name: str, status: str) -> None:
    fetch = Fetch(tmp_path, nginx, f"{name}:calib", url_path=url_path)
    result = fetch.run()
    fetch.assert_clean_failure(result, f"{nginx.url}{url_path}/{name}", status,
                               "INPUTS_BASE_URL")
    assert not (fetch.top / "calib").exists()
    assert not list(fetch.downloads.glob("*")) if fetch.downloads.exists() else True


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (needs root; fails under CI when it cannot be mounted)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the full-disk tests mount a tmpfs and need root")
        pytest.skip("the full-disk tests mount a tmpfs and need root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_download(tmp_path: Path, nginx: ServedNginx, small_fs: Path) -> None:  # noqa: F811
    payload = tmp_path / "payload"
    payload.mkdir()
    (payload / "data.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    name = "fulldisk-download.tar.gz"
    tar_dir(nginx.root / name, payload, [Path("data.bin")])
    fetch = Fetch(tmp_path / "run", nginx, f"{name}:bigdata", DOWNLOAD_DIR=str(small_fs))
    result = fetch.run()
    fetch.assert_clean_failure(result, name, f"DOWNLOAD_DIR={small_fs}", "Free space")
    assert not (fetch.top / "bigdata").exists()


def test_full_disk_unpack(tmp_path: Path, nginx: ServedNginx, small_fs: Path) -> None:  # noqa: F811
    name = "fulldisk-unpack.tar.gz"
    with tarfile.open(nginx.root / name, "w:gz") as tar:  # 3 MiB of zeros: a tiny archive
        add_bytes(tar, "bigdata/zeros.bin", bytes(3 * 1024 * 1024))
    fetch = Fetch(tmp_path / "run", nginx, f"{name}:bigdata")
    fetch.build.env["DP02_TOP"] = str(small_fs / "top")
    fetch.top = small_fs / "top"
    result = fetch.run()
    fetch.assert_clean_failure(result, name, "No space left on device", "DP02_TOP")
    assert not (fetch.top / "bigdata").exists()
    assert (fetch.downloads / name).exists()  # the download is kept for the next run


def test_merge_conflict_needs_force(tmp_path: Path, nginx: ServedNginx,  # noqa: F811
                                    published: dict[str, str], current_mini_tree: Path) -> None:
    name = "dp02_raw_wfd_indexes.tar.gz"
    fetch = Fetch(tmp_path, nginx, f"{name}:raw")
    shutil.copytree(current_mini_tree / "raw", fetch.top / "raw")
    indexes = sorted((fetch.top / "raw").glob("*/*/_index.json"))
    indexes[0].write_text("{}\n")  # differs from the archive's
    indexes[1].unlink()            # missing: would be added
    result = fetch.run()
    fetch.assert_clean_failure(result, name, "FORCE=yes", str(indexes[0].relative_to(
        fetch.top / "raw")))
    assert indexes[0].read_text() == "{}\n" and not indexes[1].exists()  # nothing changed
    forced = fetch.run(FORCE="yes")
    assert forced.returncode == 0, forced.stderr
    for index in indexes[:2]:
        assert index.read_bytes() == (current_mini_tree / index.relative_to(fetch.top)).read_bytes()
    assert "1 replaced (FORCE=yes)" in forced.stderr
