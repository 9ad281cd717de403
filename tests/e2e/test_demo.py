"""`make demo`: the miniature repository on the lite runtime with the stand-ins, announced
as such, in its own directories, ending with verify and the status table."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import demo
from conftest import ROOT, checksums


def test_make_demo(tmp_path: Path, current_mini_tree: Path) -> None:
    top = tmp_path / "demo"
    root_demo = (ROOT / "demo").exists()
    inputs = top / "inputs" / "dp0.2"
    # The session's miniature tree stands in for the one make demo would write first.
    shutil.copytree(current_mini_tree, inputs, symlinks=True)
    (top / demo.MARKER).write_text("as make demo writes it\n")
    before = checksums(inputs)
    # The operator's settings must not leak into the demo: a REPO and an ENV_FILE that
    # point elsewhere are ignored (the demo writes only under DEMO_DIR).
    decoy = tmp_path / "operator-repo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(demo.SCRUBBED)}
    env.update({"REPO": str(decoy), "STATE_DIR": str(decoy), "ENV_FILE": str(decoy / ".env")})
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "demo",
                           f"DEMO_DIR={top}"], env=env, capture_output=True, text=True,
                          check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    announce = [ln for ln in out.splitlines() if ln.startswith("demo: a miniature")]
    assert announce and demo.STANDIN_NOTE in announce[0], out
    assert "writing the miniature input tree" not in out, out
    assert "] verify ... done in " in out and f"s ({demo.STANDIN_NOTE})" in out, out
    # The status table follows the build: every step done.
    table = out[out.index("] verify ... done in "):]
    assert "verify" in table and "done" in table and "pending" not in table, table
    stamps = sorted((top / "state" / "stamps").glob("*.done"))
    assert stamps, out
    for stamp in stamps:
        stack = [ln for ln in stamp.read_text().splitlines() if ln.startswith("stack: ")]
        assert stack and stack[0].endswith(f", {demo.STANDIN_NOTE}"), (stamp.name, stack)
    assert (top / "repo" / "butler.yaml").is_file()
    assert not decoy.exists()
    assert (ROOT / "demo").exists() == root_demo
    assert checksums(inputs) == before
    # make clean-demo removes what the demo wrote, and only that.
    subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "clean-demo",
                    f"DEMO_DIR={top}"], env=env, check=True, capture_output=True)
    assert not top.exists() and tmp_path.is_dir()


def test_demo_dir_not_its_own(tmp_path: Path) -> None:
    # A DEMO_DIR with someone's files in it is neither written to nor removed.
    top = tmp_path / "mine"
    top.mkdir()
    (top / "thesis.tex").write_text("precious")
    for goal in ("demo", "clean-demo"):
        proc = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), goal,
                               f"DEMO_DIR={top}"], capture_output=True, text=True, check=False)
        assert proc.returncode != 0, (goal, proc.stdout)
        assert "was not made by make demo" in proc.stderr or "make demo did not make it" \
            in proc.stderr, (goal, proc.stderr)
    assert sorted(p.name for p in top.iterdir()) == ["thesis.tex"]
