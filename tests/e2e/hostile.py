"""What every case of the hostile-inputs suite asserts (tests/e2e/test_hostile_*.py).

A hostile case gives the toolkit one bad input (a file, a setting, a path, a resource) and
checks the refusal the same way each time: the exit status, a message that names the bad
input, no traceback on the console, no stamp for the step that refused, and the inputs'
checksums unchanged. The cases build on ``conftest.Build`` (make in a scratch directory,
the stand-ins for the stack commands).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import Build, checksums


def own_tree(mini_tree: Path, tmp_path: Path) -> Path:
    """A private copy of the miniature tree, to break (symlinks kept as links)."""
    copy = tmp_path / "inputs" / "dp0.2"
    shutil.copytree(mini_tree, copy, symlinks=True)
    return copy


def assert_refused(result: subprocess.CompletedProcess, build: Build, step: str,
                   *names: str, status: int | None = None) -> str:
    """Assert that ``step`` refused: non-zero exit (``status`` when given), every one of
    ``names`` in the console output, no traceback there, and no stamp for ``step``.

    Returns the console output (stdout and stderr), for further checks.
    """
    console = result.stdout + result.stderr
    assert result.returncode != 0, f"{step} did not refuse:\n{console}"
    if status is not None:
        assert result.returncode == status, f"exit {result.returncode}, not {status}:\n{console}"
    for name in names:
        assert name in console, f"the message does not name {name!r}:\n{console}"
    assert "Traceback" not in console, f"a traceback reached the console:\n{console}"
    assert not (build.state / "stamps" / f"{step}.done").exists(), f"{step} was stamped"
    return console


def assert_unchanged(tree: Path, before: dict[str, str]) -> None:
    """The inputs' checksums are those taken before the case ran."""
    assert checksums(tree) == before, "the inputs changed"
