"""Download the published DP0.2 input archives and unpack them (``make fetch-inputs``).

Opt-in, and the one exception, with ``make raw-indexes``, to "the inputs are
read-only": it writes into ``DP02_TOP`` only when the operator runs it.

For each archive of ``FETCH_ARCHIVES`` (``NAME:TARGET[:SHA256]`` words):

1. ``curl -sSI`` asks the server for the size (``Content-Length``);
2. ``curl --fail --location --retry 3 --continue-at -`` downloads it into
   ``DOWNLOAD_DIR/NAME.part``: an interrupted download resumes with an HTTP
   Range request from where it stopped (progress bar on a terminal only);
3. the size must equal the server's ``Content-Length``; then the file is
   renamed to ``DOWNLOAD_DIR/NAME``;
4. its sha256 is compared with the profile's, when given, and with the one
   recorded in ``STATE_DIR/downloads.json`` the first time it was used
   (recorded then);
5. every member is checked before anything is written: no absolute name, no
   ``..``, no symbolic or hard link pointing out of the target, no device;
6. it is unpacked into a temporary directory next to the target
   (``DP02_TOP/.fetch-TARGET.XXXXXX``), then renamed to ``DP02_TOP/TARGET``;
   when the target exists (the raw tree, into which the index files go), the
   files are merged into it: a file already there with the same content is
   left alone, a differing one is a conflict, reported, and nothing is moved
   unless ``--force`` (``FORCE=yes``).

An archive whose members all lie under one directory named as the target
(``calib/...`` for target ``calib``) is unpacked without that level.

Exit status: 0 done, 1 an archive failed (the message names it and the fix),
2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime
import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from typing import Any

from atomic_write import write_text

RECORD_VERSION = 1
CHUNK = 4 * 1024 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
TARGET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")

CURL_EXIT = {
    6: "the host name could not be resolved",
    7: "the server could not be reached",
    18: "the transfer ended before the end of the file",
    22: "the server answered with an HTTP error",
    23: "the downloaded data could not be written (disk full?)",
    28: "the transfer timed out",
    33: "the server does not accept Range requests, so the download cannot resume",
    35: "the TLS handshake failed",
    56: "the connection was broken",
    60: "the server's TLS certificate could not be verified",
}


class FetchError(Exception):
    """One archive could not be fetched; the message says which, why and the fix."""


# ---------------------------------------------------------------------------
# The list of archives
# ---------------------------------------------------------------------------


def parse_archives(text: str) -> list[dict[str, str]]:
    """Parse ``FETCH_ARCHIVES``: ``NAME:TARGET[:SHA256]`` words.

    Parameters
    ----------
    text : `str`
        The setting.

    Returns
    -------
    archives : `list` [`dict`]
        ``name``, ``target`` (a directory name under ``DP02_TOP``) and ``sha256``
        (empty when not given), in order.

    Raises
    ------
    ValueError
        A word is malformed (the message names it).
    """
    archives = []
    seen = set()
    for word in text.split():
        parts = word.split(":")
        if len(parts) not in (2, 3):
            raise ValueError(f"{word!r} is not NAME:TARGET or NAME:TARGET:SHA256")
        name, target = parts[0], parts[1]
        sha = parts[2].lower() if len(parts) == 3 else ""
        if not NAME_RE.match(name):
            raise ValueError(f"{word!r}: {name!r} is not a plain file name")
        if not TARGET_RE.match(target) or target in (".", ".."):
            raise ValueError(f"{word!r}: {target!r} is not a plain directory name under DP02_TOP")
        if sha and not SHA_RE.match(sha):
            raise ValueError(f"{word!r}: {parts[2]!r} is not a sha256 (64 hex digits)")
        if name in seen:
            raise ValueError(f"{name} is listed twice")
        seen.add(name)
        archives.append({"name": name, "target": target, "sha256": sha})
    return archives


# ---------------------------------------------------------------------------
# The record (STATE_DIR/downloads.json)
# ---------------------------------------------------------------------------


def now() -> str:
    """Return the UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_record(path: str) -> dict[str, Any]:
    """Read ``downloads.json`` (an empty record when it does not exist).

    Parameters
    ----------
    path : `str`
        The file.

    Returns
    -------
    record : `dict`
        ``{"version": 1, "archives": {name: {...}}}``.
    """
    if not os.path.exists(path):
        return {"version": RECORD_VERSION, "archives": {}}
    try:
        with open(path, encoding="utf-8") as stream:
            record = json.load(stream)
    except ValueError as exc:
        raise FetchError(f"{path} is not valid JSON ({exc}). Move it aside; the next run "
                         "records the checksums again.") from None
    if not isinstance(record, dict) or not isinstance(record.get("archives"), dict):
        raise FetchError(f"{path} is not a downloads record (no 'archives' mapping). Move it "
                         "aside; the next run records the checksums again.")
    return record


def save_record(path: str, record: dict[str, Any]) -> None:
    """Write ``downloads.json`` atomically."""
    write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------
# Download
# ---------------------------------------------------------------------------


def last_status_line(stderr: str) -> str:
    """Return curl's last error line, without the ``curl: (N)`` prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("curl:"):
            return re.sub(r"^curl:\s*(\(\d+\)\s*)?", "", line)
    return lines[-1] if lines else ""


def curl_failure(url: str, status: int, stderr: str, what: str) -> str:
    """Describe a failed curl call in one sentence.

    Parameters
    ----------
    url : `str`
        The URL asked for.
    status : `int`
        curl's exit status.
    stderr : `str`
        curl's error output.
    what : `str`
        What was being done (``"asking for the size of"``, ``"downloading"``).

    Returns
    -------
    text : `str`
    """
    reason = CURL_EXIT.get(status, "curl failed")
    detail = last_status_line(stderr)
    return f"{what} {url} failed (curl exit {status}: {reason}{': ' + detail if detail else ''})"


def remote_size(url: str, curl: str) -> int | None:
    """Ask the server for the size of ``url`` (``Content-Length`` of a HEAD request).

    Parameters
    ----------
    url : `str`
        The archive's URL.
    curl : `str`
        The curl command.

    Returns
    -------
    size : `int` or `None`
        `None` when the server does not say.

    Raises
    ------
    FetchError
        The server answers with an error or cannot be reached.
    """
    proc = subprocess.run([curl, "--silent", "--show-error", "--head", "--fail", "--location",
                           "--retry", "3", url], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise FetchError(curl_failure(url, proc.returncode, proc.stderr, "asking for the size of")
                         + ". Check that INPUTS_BASE_URL is the published location and that "
                         "the archive name in FETCH_ARCHIVES is right (open the URL in a "
                         "browser), then run 'make fetch-inputs' again.")
    size = None
    for line in proc.stdout.splitlines():
        if line.upper().startswith("HTTP/"):
            size = None  # a new response (after a redirect): its own headers count
        match = re.match(r"^content-length:\s*(\d+)\s*$", line.strip(), re.IGNORECASE)
        if match:
            size = int(match.group(1))
    return size


def download(url: str, part: str, curl: str, progress: bool) -> None:
    """Download ``url`` into ``part``, resuming from its current size.

    Parameters
    ----------
    url : `str`
        The archive's URL.
    part : `str`
        The partial file (created or extended).
    curl : `str`
        The curl command.
    progress : `bool`
        Show curl's progress bar (on a terminal).

    Raises
    ------
    FetchError
        curl failed; the partial file is kept so that a rerun resumes.
    """
    cmd = [curl, "--fail", "--location", "--retry", "3", "--continue-at", "-",
           "--output", part]
    cmd += ["--progress-bar"] if progress else ["--silent", "--show-error"]
    cmd.append(url)
    if progress:
        proc = subprocess.run(cmd, check=False)
        stderr = ""
    else:
        proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, check=False)
        stderr = proc.stderr
    if proc.returncode == 0:
        return
    have = os.path.getsize(part) if os.path.exists(part) else 0
    fix = (f"The {have} bytes already received are kept in {part}: run 'make fetch-inputs' "
           "again to resume")
    if proc.returncode == 23:
        fix = (f"Free space on the file system of DOWNLOAD_DIR={os.path.dirname(part)} (or "
               f"point DOWNLOAD_DIR elsewhere) and run 'make fetch-inputs' again: the {have} "
               f"bytes already in {part} are kept and the download resumes")
    elif proc.returncode == 22:
        fix = ("Check INPUTS_BASE_URL and the archive name in FETCH_ARCHIVES, then run "
               "'make fetch-inputs' again")
    raise FetchError(curl_failure(url, proc.returncode, stderr, "downloading") + ". " + fix + ".")


def sha256_of(path: str) -> str:
    """Return the sha256 of a file (read in 4 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_archive(archive: dict[str, str], base_url: str, download_dir: str, curl: str,
                  progress: bool, log: Any) -> tuple[str, int | None]:
    """Make sure ``DOWNLOAD_DIR/NAME`` is complete (downloading or resuming it).

    Parameters
    ----------
    archive : `dict`
        One entry of `parse_archives`.
    base_url : `str`
        ``INPUTS_BASE_URL``.
    download_dir : `str`
        ``DOWNLOAD_DIR``.
    curl : `str`
        The curl command.
    progress : `bool`
        Show curl's progress bar.
    log : callable
        Prints one progress line.

    Returns
    -------
    path, size : `tuple` [`str`, `int` or `None`]
        The complete archive and the server's size for it.

    Raises
    ------
    FetchError
        On any failure; nothing outside ``DOWNLOAD_DIR`` is written.
    """
    name = archive["name"]
    url = base_url.rstrip("/") + "/" + name
    final = os.path.join(download_dir, name)
    part = final + ".part"
    size = remote_size(url, curl)
    if size is None:
        log(f"fetch-inputs: warning: the server gives no Content-Length for {url}: the size "
            "cannot be checked (the sha256 still is, when known)")
    if os.path.exists(final):
        have = os.path.getsize(final)
        if size is not None and have != size:
            raise FetchError(
                f"{final} is {have} bytes but the server says {url} is {size} bytes "
                "(Content-Length): the archive changed on the server or the local file is "
                f"damaged. Delete {final} and run 'make fetch-inputs' again.")
        log(f"fetch-inputs: {name}: already downloaded ({have} bytes)")
        return final, size
    have = os.path.getsize(part) if os.path.exists(part) else 0
    if size is not None and have > size:
        raise FetchError(
            f"the partial download {part} is {have} bytes, more than the {size} bytes the "
            f"server says {url} has (Content-Length): it belongs to another version of the "
            f"archive. Delete {part} and run 'make fetch-inputs' again.")
    if size is not None and have < size:
        free = shutil.disk_usage(download_dir).free
        if free < size - have:
            raise FetchError(
                f"{name} needs {size - have} more bytes but the file system of "
                f"DOWNLOAD_DIR={download_dir} has {free} free. Free space or point "
                "DOWNLOAD_DIR elsewhere, then run 'make fetch-inputs' again"
                + (f" (the {have} bytes in {part} are kept and the download resumes)."
                   if have else "."))
    if size is None or have < size:
        if have:
            log(f"fetch-inputs: {name}: resuming at byte {have} of {size}")
        else:
            log(f"fetch-inputs: {name}: downloading {size if size is not None else '?'} bytes "
                f"from {url}")
        download(url, part, curl, progress)
    got = os.path.getsize(part) if os.path.exists(part) else 0
    if size is not None and got != size:
        if got > size:
            os.unlink(part)
        raise FetchError(
            f"the download of {url} is truncated or damaged: {got} bytes received, the "
            f"server's Content-Length is {size}. "
            + ("The partial file was larger than the archive and was deleted; "
               if got > size else f"The {got} bytes are kept in {part}; ")
            + "run 'make fetch-inputs' again (it resumes), and if this repeats, the server "
            "is serving a damaged file: tell its operators.")
    os.replace(part, final)
    return final, size


def check_checksum(archive: dict[str, str], path: str, record: dict[str, Any],
                   url: str, size: int | None) -> str:
    """Check the archive's sha256 against the profile's and the recorded one.

    Records it (in ``record``) the first time.

    Parameters
    ----------
    archive : `dict`
        One entry of `parse_archives`.
    path : `str`
        The complete archive.
    record : `dict`
        ``downloads.json``, updated in place.
    url : `str`
        Where it came from.
    size : `int` or `None`
        The server's size.

    Returns
    -------
    sha256 : `str`

    Raises
    ------
    FetchError
        The checksum differs from the profile's or the recorded one.
    """
    name = archive["name"]
    sha = sha256_of(path)
    entry = record["archives"].get(name)
    if archive["sha256"] and sha != archive["sha256"]:
        raise FetchError(
            f"{path} is corrupted: its sha256 is {sha}, FETCH_ARCHIVES says "
            f"{archive['sha256']}. Delete {path} and run 'make fetch-inputs' again to "
            "download it anew; if it happens again, the file on the server differs from the "
            "published checksum.")
    if entry and entry.get("sha256") and entry["sha256"] != sha:
        raise FetchError(
            f"{path} has changed since it was first used: its sha256 is {sha}, "
            f"{entry['sha256']} was recorded on {entry.get('recorded', '?')} in downloads.json. "
            f"Delete {path} and run 'make fetch-inputs' again; if the archive was republished "
            f"on purpose, also remove the entry for {name} from downloads.json.")
    if not entry or not entry.get("sha256"):
        record["archives"][name] = {"url": url, "size": size if size is not None else
                                    os.path.getsize(path), "sha256": sha, "recorded": now()}
    return sha


# ---------------------------------------------------------------------------
# Unpack
# ---------------------------------------------------------------------------


def inside(base: str, path: str) -> bool:
    """Tell whether the normalized relative ``path`` stays inside ``base``."""
    full = os.path.normpath(os.path.join(base, path))
    return full == base or full.startswith(base + os.sep)


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Return why a tar member may not be unpacked, or `None`.

    The check is made on names only (no file system access), against a
    virtual root: an absolute name, a ``..`` component, a symbolic link whose
    target resolves out of the root, a hard link to a name out of the root,
    and device or FIFO members are refused.

    Parameters
    ----------
    member : `tarfile.TarInfo`
        The member.

    Returns
    -------
    problem : `str` or `None`
    """
    root = os.sep + "root"
    name = member.name
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "has an absolute name"
    if ".." in name.replace("\\", "/").split("/"):
        return "has a '..' component"
    if not inside(root, name):
        return "lies outside the target"
    if member.issym():
        link = member.linkname
        if link.startswith("/"):
            return f"is a symbolic link to the absolute path {link}"
        if not inside(root, os.path.join(os.path.dirname(name), link)):
            return f"is a symbolic link pointing out of the target ({link})"
    elif member.islnk():
        link = member.linkname
        if link.startswith("/") or ".." in link.split("/") or not inside(root, link):
            return f"is a hard link pointing out of the target ({link})"
    elif not (member.isfile() or member.isdir()):
        return "is a device, FIFO or other special file"
    return None


def clean_name(name: str) -> str:
    """Return a member name without its leading ``./`` components."""
    while name.startswith("./"):
        name = name[2:]
    return name


def strip_prefix(members: list[tarfile.TarInfo], target: str) -> str:
    """Return the top directory to drop (``target/``) when every member lies under it.

    Parameters
    ----------
    members : `list` [`tarfile.TarInfo`]
        The checked members.
    target : `str`
        The target directory name.

    Returns
    -------
    prefix : `str`
        ``"target/"`` or ``""``.
    """
    names = [clean_name(m.name).rstrip("/") for m in members]
    names = [n for n in names if n not in ("", ".")]
    if names and all(n == target or n.startswith(target + "/") for n in names):
        return target + "/"
    return ""


def extract(path: str, dest: str, target: str) -> int:
    """Check every member of a tar archive, then unpack it into ``dest``.

    Parameters
    ----------
    path : `str`
        The archive (any compression tarfile reads).
    dest : `str`
        An empty directory.
    target : `str`
        The target directory name (see `strip_prefix`).

    Returns
    -------
    count : `int`
        Members unpacked.

    Raises
    ------
    FetchError
        A member would escape the target (nothing is written then), or the
        archive is not a readable tar file.
    """
    try:
        with tarfile.open(path, "r:*") as tar:
            members = tar.getmembers()
            bad = [(m.name, p) for m in members for p in [member_problem(m)] if p]
            if bad:
                shown = "; ".join(f"{n!r} {p}" for n, p in bad[:5])
                more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
                raise FetchError(
                    f"{path} is refused: {len(bad)} member(s) would be written outside the "
                    f"target directory: {shown}{more}. Nothing was unpacked. Do not use this "
                    "archive: get a good copy from the publisher (delete the file and fetch "
                    "it again).")
            prefix = strip_prefix(members, target)
            count = 0
            for member in members:
                name = clean_name(member.name)
                if member.islnk():
                    member.linkname = clean_name(member.linkname)
                if prefix:
                    if name.rstrip("/") == prefix.rstrip("/"):
                        continue
                    name = name[len(prefix):]
                    if member.islnk() and member.linkname.startswith(prefix):
                        member.linkname = member.linkname[len(prefix):]
                if not name.rstrip("/"):
                    continue
                member.name = name
                if hasattr(tarfile, "data_filter"):
                    tar.extract(member, dest, filter="data")  # checked above, and again here
                else:
                    tar.extract(member, dest)
                count += 1
            return count
    except tarfile.TarError as exc:
        raise FetchError(f"{path} is not a readable tar archive ({exc}). Delete it and run "
                         "'make fetch-inputs' again to download it anew.") from None


def walk_files(top: str) -> list[str]:
    """Return the relative paths of the files and links under ``top``, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            out.append(os.path.normpath(os.path.join(rel, name)))
    return sorted(out)


def same_file(a: str, b: str) -> bool:
    """Tell whether two paths hold the same content (links: the same target)."""
    if os.path.islink(a) or os.path.islink(b):
        return os.path.islink(a) and os.path.islink(b) and os.readlink(a) == os.readlink(b)
    return os.path.isfile(b) and filecmp.cmp(a, b, shallow=False)


def merge(src: str, dst: str, force: bool) -> tuple[int, int, list[str]]:
    """Move the files of ``src`` into the existing tree ``dst``.

    Conflicts (a file of ``dst`` with other content) are all found first; with
    any and without ``force``, nothing is moved.

    Parameters
    ----------
    src : `str`
        The unpacked archive.
    dst : `str`
        The existing target tree.
    force : `bool`
        Replace differing files.

    Returns
    -------
    added, same, conflicts : `tuple` [`int`, `int`, `list` [`str`]]
        Files moved in, files already there with the same content, and the
        differing files (replaced when ``force``).
    """
    files = walk_files(src)
    conflicts = []
    plan = []
    same = 0
    for rel in files:
        target = os.path.join(dst, rel)
        if os.path.lexists(target):
            if os.path.isdir(target) and not os.path.islink(target):
                conflicts.append(rel)
            elif same_file(os.path.join(src, rel), target):
                same += 1
                continue
            else:
                conflicts.append(rel)
        plan.append(rel)
    if conflicts and not force:
        return 0, same, conflicts
    added = len(plan) - len(conflicts)
    for rel in plan:
        target = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        os.replace(os.path.join(src, rel), target)
    return added, same, conflicts


def unpack(archive: dict[str, str], path: str, top: str, force: bool, log: Any) -> dict[str, Any]:
    """Unpack one archive into ``DP02_TOP/TARGET``, atomically or by a checked merge.

    Parameters
    ----------
    archive : `dict`
        One entry of `parse_archives`.
    path : `str`
        The complete, checked archive.
    top : `str`
        ``DP02_TOP``.
    force : `bool`
        Replace differing files of an existing target.
    log : callable
        Prints one progress line.

    Returns
    -------
    result : `dict`
        What was done, for the record.

    Raises
    ------
    FetchError
        On refusal, conflicts or a write error; the temporary directory is
        removed and the target is as before.
    """
    target = archive["target"]
    final = os.path.join(top, target)
    os.makedirs(top, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".fetch-{target}.", dir=top)
    try:
        try:
            count = extract(path, tmp, target)
        except OSError as exc:
            raise FetchError(
                f"unpacking {path} into {top} failed: {exc.strerror or exc} "
                f"({exc.filename or top}). Nothing was written into {final}. "
                + ("Free space on the file system of DP02_TOP"
                   if exc.errno in (28, 122) else "Fix the cause")
                + " and run 'make fetch-inputs' again (the download is kept).") from None
        if not os.path.lexists(final):
            os.rename(tmp, final)
            log(f"fetch-inputs: {archive['name']}: unpacked {count} members into {final}")
            return {"target": final, "mode": "new", "members": count, "at": now()}
        if not os.path.isdir(final):
            raise FetchError(f"{final} exists and is not a directory. Move it away and run "
                             "'make fetch-inputs' again.")
        try:
            added, same, conflicts = merge(tmp, final, force)
        except OSError as exc:
            raise FetchError(
                f"merging {path} into {final} failed: {exc.strerror or exc} "
                f"({exc.filename or final}); some files may already be in place (each one "
                "whole). Fix the cause and run 'make fetch-inputs' again.") from None
        if conflicts and not force:
            shown = ", ".join(conflicts[:10]) + (f" and {len(conflicts) - 10} more"
                                                 if len(conflicts) > 10 else "")
            raise FetchError(
                f"{archive['name']} would overwrite {len(conflicts)} file(s) of {final} that "
                f"differ from the archive: {shown}. Nothing was changed. Check them; to "
                "replace them with the archive's, run 'make fetch-inputs FORCE=yes'.")
        log(f"fetch-inputs: {archive['name']}: merged into {final}: {added} files added, "
            f"{same} already there" + (f", {len(conflicts)} replaced (FORCE=yes)"
                                       if conflicts else ""))
        return {"target": final, "mode": "merge", "members": count, "added": added,
                "same": same, "replaced": conflicts[:100], "at": now()}
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temps(top: str, target: str) -> None:
    """Remove temporary unpack directories of ``target`` left by a killed run."""
    if not os.path.isdir(top):
        return
    for entry in os.scandir(top):
        if entry.name.startswith(f".fetch-{target}.") and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="fetch_inputs.py",
        description="Download the published DP0.2 archives (resumable, checked) and unpack "
                    "them into DP02_TOP.")
    parser.add_argument("--base-url", required=True, help="INPUTS_BASE_URL")
    parser.add_argument("--archives", required=True,
                        help="FETCH_ARCHIVES: NAME:TARGET[:SHA256] words")
    parser.add_argument("--download-dir", required=True, help="DOWNLOAD_DIR")
    parser.add_argument("--top", required=True, help="DP02_TOP")
    parser.add_argument("--record", required=True, help="downloads.json (in STATE_DIR)")
    parser.add_argument("--force", action="store_true",
                        help="replace differing files of an existing tree (FORCE=yes)")
    parser.add_argument("--curl", default="curl", help="the curl command")
    parser.add_argument("--progress", choices=("auto", "yes", "no"), default="auto",
                        help="curl's progress bar (auto: when stderr is a terminal)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Fetch, check and unpack every archive.

    Parameters
    ----------
    argv : `list` [`str`], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : `int`
        0 done, 1 an archive failed, 2 bad arguments.
    """
    args = build_parser().parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        archives = parse_archives(args.archives)
    except ValueError as exc:
        log(f"fetch_inputs.py: error: FETCH_ARCHIVES: {exc}. Write NAME:TARGET[:SHA256] words "
            "(see .env.example).")
        return 2
    if not archives:
        log("fetch_inputs.py: error: FETCH_ARCHIVES is empty: nothing to fetch. The dp02 "
            "profile lists the five published archives.")
        return 2
    progress = args.progress == "yes" or (args.progress == "auto" and sys.stderr.isatty())
    top = os.path.abspath(args.top)
    os.makedirs(args.download_dir, exist_ok=True)
    try:
        record = load_record(args.record)
        for archive in archives:
            name = archive["name"]
            url = args.base_url.rstrip("/") + "/" + name
            entry = record["archives"].get(name) or {}
            done = entry.get("unpacked") or {}
            if done.get("target") == os.path.join(top, archive["target"]) and \
                    os.path.isdir(done["target"]) and \
                    (not archive["sha256"] or archive["sha256"] == entry.get("sha256")):
                log(f"fetch-inputs: {name}: already unpacked into {done['target']} on "
                    f"{done.get('at', '?')}")
                continue
            path, size = fetch_archive(archive, args.base_url, args.download_dir, args.curl,
                                       progress, log)
            log(f"fetch-inputs: {name}: checking the sha256")
            check_checksum(archive, path, record, url, size)
            save_record(args.record, record)
            remove_stale_temps(top, archive["target"])
            result = unpack(archive, path, top, args.force, log)
            record["archives"][name]["unpacked"] = result
            save_record(args.record, record)
    except FetchError as exc:
        log(f"fetch-inputs: error: {exc}")
        return 1
    except OSError as exc:
        log(f"fetch-inputs: error: {exc.strerror or exc} ({exc.filename or 'no file name'}) "
            f"while fetching into DOWNLOAD_DIR={args.download_dir} / DP02_TOP={top} with the "
            f"record {args.record}. Fix the cause (space, permissions) and run "
            "'make fetch-inputs' again: finished archives are not fetched again.")
        return 1
    log(f"fetch-inputs: {len(archives)} archive(s) in place under {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
