#!/usr/bin/env python3
"""Regenerate the README's screenshot of the build report (make report-screenshot).

Builds the miniature repository the end-to-end tests build (lite runtime, stack stand-ins)
in a scratch directory, with a first attempt of ``raws-y2-wfd`` made to fail so that the
timeline shows a failed attempt and its rerun, then renders ``build.html`` in headless
Chromium with the network blocked and writes the screenshot.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import chromium  # noqa: E402
from conftest import ROOT, SENSORS, VISITS, YEARS, Build  # noqa: E402

FAILING_BUTLER = """#!/bin/sh
for a; do [ "$a" = --help ] && exec "$REAL" "$@"; done
case " $* " in *" ingest-raws "*) echo 'simulated ingest failure' >&2; exit 1;; esac
exec "$REAL" "$@"
"""


def main(argv: list[str] | None = None) -> int:
    """Build, render, write the screenshot; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the PNG to write (docs/report.png)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=3700)
    parser.add_argument("--scale", type=float, default=0.6,
                        help="device scale factor (keeps the PNG small)")
    args = parser.parse_args(argv)
    if not chromium.find():
        print("report-screenshot: error: chromium is not installed (apt-get install chromium)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dp02-report-shot.") as tmp:
        base = Path(tmp)
        inputs = base / "inputs" / "dp0.2"
        subprocess.run(
            [sys.executable, str(ROOT / "py" / "make_mini_inputs.py"), "--out", str(inputs),
             "--years", str(YEARS), "--visits", str(VISITS), "--sensors", " ".join(SENSORS),
             "--formatters", "lite"], check=True, capture_output=True)
        build = Build(base, inputs)
        build.make("raws-y1-wfd")
        failing = base / "failing-butler"
        failing.write_text(FAILING_BUTLER)
        failing.chmod(0o755)
        failed = build.make("raws-y2-wfd", check=False,
                            env={"BUTLER_DOUBLE_REAL": str(failing),
                                 "REAL": build.env["BUTLER_DOUBLE_REAL"]})
        if failed.returncode == 0:
            raise SystemExit("report-screenshot: the deliberately failing attempt succeeded")
        build.make("report")
        build.make("repo")
        page = build.state / "reports" / "build.html"
        args.output.parent.mkdir(parents=True, exist_ok=True)
        result = chromium.screenshot(page, args.output, base / "chromium", args.width,
                                     args.height, args.scale)
        if result["returncode"] != 0 or result["page_requests"]:
            print(result["stderr"][-2000:], file=sys.stderr)
            raise SystemExit(f"report-screenshot: chromium failed or the page made network "
                             f"requests: {result['page_requests']}")
    print(f"report-screenshot: {args.output} ({args.output.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
