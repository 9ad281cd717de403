"""Headless Chromium for the build report's tests and screenshot (Debian's `chromium`).

The page is rendered with the network blocked (every host name unresolvable, every proxied
request sent to a closed port) and Chromium's network log on; the requests the page itself
made are read back from that log, so a page that tries to load anything from the network
is caught even though the load fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

# Chromium's own background requests carry no page origin; a page's requests do.
BROWSER_INITIATOR = "not an origin"
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:")


def find() -> str | None:
    """Return the chromium command, or None when it is not installed."""
    return shutil.which("chromium")


def screenshot(page: Path, png: Path, workdir: Path, width: int = 1280, height: int = 2000,
               scale: float | None = None) -> dict:
    """Render ``page`` with the network blocked and write a screenshot.

    Parameters
    ----------
    page : `Path`
        The HTML file.
    png : `Path`
        The screenshot to write.
    workdir : `Path`
        Scratch directory (Chromium's profile and network log).
    width, height : `int`
        The window size.
    scale : `float`, optional
        Device scale factor (the screenshot is ``scale`` times the window size).

    Returns
    -------
    result : `dict`
        ``returncode``, ``stderr``, ``page_requests`` (the URLs of the requests the page
        made that are not local: file, data, ...), ``netlog`` (its path).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    netlog = workdir / "netlog.json"
    command = [
        find() or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={workdir / 'profile'}",
        f"--window-size={width},{height}", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9", f"--log-net-log={netlog}",
        "--enable-logging=stderr", "--v=0", f"--screenshot={png}",
    ]
    if scale is not None:
        command.append(f"--force-device-scale-factor={scale}")
    command.append(page.resolve().as_uri())
    env = dict(os.environ, HOME=str(workdir))
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env,
                            check=False)
    return {"returncode": result.returncode, "stderr": result.stderr,
            "page_requests": page_requests(netlog), "netlog": netlog}


def page_requests(netlog: Path) -> list[str]:
    """Return the non-local URLs a page requested, from a Chromium network log."""
    if not netlog.exists():
        raise AssertionError(f"Chromium wrote no network log at {netlog}")
    text = netlog.read_text()
    try:
        doc = json.loads(text)
    except ValueError:
        # Chromium killed before it closed the log: the events array lacks its ending.
        doc = json.loads(text.rstrip().rstrip(",") + "]}")
    names = {v: k for k, v in doc["constants"]["logEventTypes"].items()}
    urls = []
    for event in doc.get("events", []):
        params = event.get("params") or {}
        if names.get(event.get("type")) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if params.get("initiator") == BROWSER_INITIATOR:
            continue
        if not params["url"].startswith(LOCAL_SCHEMES):
            urls.append(params["url"])
    return urls


def not_blank(png: Path) -> dict:
    """Measure a screenshot: its size, share of non-background pixels, distinct colours.

    Parameters
    ----------
    png : `Path`
        A PNG file.

    Returns
    -------
    stats : `dict`
        ``shape``, ``ink`` (fraction of pixels unlike the most common colour) and
        ``colours`` (distinct colours, up to a cap).
    """
    import matplotlib.image
    import numpy as np

    image = matplotlib.image.imread(str(png))
    pixels = (image[..., :3] * 255).round().astype(np.uint8).reshape(-1, 3)
    packed = (pixels[:, 0].astype(np.uint32) << 16) | (pixels[:, 1].astype(np.uint32) << 8) \
        | pixels[:, 2].astype(np.uint32)
    values, counts = np.unique(packed, return_counts=True)
    background = counts.max()
    return {"shape": image.shape, "ink": 1.0 - background / packed.size,
            "colours": int(len(values))}
