"""Write a file so that it is never seen half-written: a temporary file in the same
directory, then a rename. Shared by the py/ scripts (stamps and reports must not be
left partial when a step fails or is killed)."""

from __future__ import annotations

import os
import tempfile
from typing import Callable, Union

PathLike = Union[str, "os.PathLike[str]"]


def write_with(path: PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` to fill a temporary file, then rename it to ``path``.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The destination; its directory is created when missing.
    write : callable
        Writes the content to the path it is given (e.g. an astropy ``Table.write``).
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(name)[1]
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private; give it the permissions of an ordinary file.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path: PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as stream:
            stream.write(text)

    write_with(path, write)
