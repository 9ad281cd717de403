"""Read the hold lines of the ingest-raws stand-in (tests only), without timing.

The stand-in, run with ``STANDIN_INGEST_HOLD_AT`` and ``STANDIN_INGEST_HOLD_FIFO``, writes
``held <what> <pid>`` on the FIFO when it reaches the point, then waits until the release
FIFO ``<fifo>.<pid>`` is opened (or it is killed). `read_holds` waits for ``count`` such
lines, or for the process tree to end first, with no timeout or sleep: a thread opens and
closes the FIFO's write end when the process ends, which wakes the reader.
"""

from __future__ import annotations

import os
import select
import subprocess
import threading
from pathlib import Path


def _wake_on_exit(proc: subprocess.Popen, fifo: Path) -> None:
    proc.wait()
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # no reader open at that moment: the reader sees the exit by proc.poll()


def read_holds(fifo: Path, proc: subprocess.Popen, count: int = 1) -> list[str]:
    """Return the first ``count`` hold lines, or fewer if ``proc`` ends before."""
    threading.Thread(target=_wake_on_exit, args=(proc, fifo), daemon=True).start()
    lines: list[str] = []
    while len(lines) < count:
        # A fresh non-blocking read end: open returns at once, and select waits until a
        # writer has written and closed (or the exit thread has opened and closed).
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            ended = proc.poll() is not None
            data = b""
            while True:
                if not ended:
                    select.select([fd], [], [])
                try:
                    chunk = os.read(fd, 4096)
                except BlockingIOError:
                    chunk = b""
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        lines += [line for line in data.decode().splitlines() if line.startswith("held ")]
        if ended or (proc.poll() is not None and not data):
            break
    return lines


def release(fifo: Path, pid: int) -> None:
    """Let a held stand-in go on: open and close its release FIFO."""
    with open(f"{fifo}.{pid}", "w"):
        pass
