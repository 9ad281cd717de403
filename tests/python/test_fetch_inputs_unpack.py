"""py/fetch_inputs.py without a server: the FETCH_ARCHIVES words, the member check, the
unpack and the merge (the downloads are tested against nginx under tests/e2e)."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "py"))

import fetch_inputs  # noqa: E402


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_parse_archives() -> None:
    sha = "ab" * 32
    assert fetch_inputs.parse_archives(f"a.tar.gz:calib b.tar:raw:{sha.upper()}") == [
        {"name": "a.tar.gz", "target": "calib", "sha256": ""},
        {"name": "b.tar", "target": "raw", "sha256": sha}]
    for bad in ("a.tar.gz", "a.tar.gz:..", "a.tar.gz:x/y", "../a:calib", "a:calib:xyz",
                "a:calib a:raw"):
        with pytest.raises(ValueError):
            fetch_inputs.parse_archives(bad)


@pytest.mark.parametrize("info, problem", [
    (member("calib/export.yaml"), None),
    (member("./calib/2.2i/bias.fits"), None),
    (member("calib/link", tarfile.SYMTYPE, "2.2i/bias.fits"), None),
    (member("calib/a/up", tarfile.SYMTYPE, "../export.yaml"), None),
    (member("calib/hard", tarfile.LNKTYPE, "calib/export.yaml"), None),
    (member("/etc/cron.d/x"), "absolute"),
    (member("../evil"), "'..'"),
    (member("calib/../../evil"), "'..'"),
    (member("calib/passwd", tarfile.SYMTYPE, "/etc/passwd"), "absolute path"),
    (member("calib/out", tarfile.SYMTYPE, "../../outside"), "out of the target"),
    (member("calib/hard", tarfile.LNKTYPE, "../outside"), "hard link"),
    (member("calib/dev", tarfile.CHRTYPE), "device"),
])
def test_member_problem(info: tarfile.TarInfo, problem: str | None) -> None:
    found = fetch_inputs.member_problem(info)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def make_tar(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_unpack_new_then_merge(tmp_path: Path) -> None:
    top = tmp_path / "top"
    archive = tmp_path / "idx.tar.gz"
    make_tar(archive, {"raw/y1-wfd/00001472/_index.json": b"{}",
                       "raw/y2-wfd/00000002/_index.json": b"[]"})
    entry = {"name": "idx.tar.gz", "target": "raw", "sha256": ""}
    result = fetch_inputs.unpack(entry, str(archive), str(top), False, lambda text: None)
    assert result["mode"] == "new"
    assert (top / "raw" / "y1-wfd" / "00001472" / "_index.json").read_bytes() == b"{}"
    # Again: everything already there, nothing moved.
    again = fetch_inputs.unpack(entry, str(archive), str(top), False, lambda text: None)
    assert again["mode"] == "merge" and again["added"] == 0 and again["same"] == 2
    (top / "raw" / "y1-wfd" / "00001472" / "_index.json").write_bytes(b"local")
    with pytest.raises(fetch_inputs.FetchError, match="FORCE=yes"):
        fetch_inputs.unpack(entry, str(archive), str(top), False, lambda text: None)
    assert (top / "raw" / "y1-wfd" / "00001472" / "_index.json").read_bytes() == b"local"
    forced = fetch_inputs.unpack(entry, str(archive), str(top), True, lambda text: None)
    assert forced["replaced"] == ["y1-wfd/00001472/_index.json"]
    assert (top / "raw" / "y1-wfd" / "00001472" / "_index.json").read_bytes() == b"{}"
    assert sorted(p.name for p in top.iterdir()) == ["raw"]  # no temporary directory left


def test_unpack_refuses_escaping_members_and_writes_nothing(tmp_path: Path) -> None:
    top = tmp_path / "top"
    archive = tmp_path / "bad.tar.gz"
    make_tar(archive, {"calib/export.yaml": b"x", "../evil": b"x"})
    entry = {"name": "bad.tar.gz", "target": "calib", "sha256": ""}
    with pytest.raises(fetch_inputs.FetchError, match="refused"):
        fetch_inputs.unpack(entry, str(archive), str(top), False, lambda text: None)
    assert list(top.iterdir()) == [] and not (tmp_path / "evil").exists()
