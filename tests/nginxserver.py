"""A throwaway nginx on 127.0.0.1 for the download tests (Debian package ``nginx-light``).

Python's ``http.server`` does not answer Range requests, so the resumable downloads of
``make fetch-inputs`` are tested against a real nginx. The server runs in the foreground
(``daemon off;``) under a subprocess, as the invoking user (``user root;`` when that is
root), with its own prefix, configuration, pid file and access log in a temporary
directory, on a free non-default port. The access log has one JSON line per request
with the method, URI, ``Range`` header, status and body bytes sent.

Locations:

- ``/files/NAME``: the files of ``ServedNginx.root`` (static, with Range support);
- ``/error500/NAME``: always ``500``;
- ``/headfull/NAME``: ``HEAD`` answers with the headers of ``/files/NAME``, ``GET``
  serves ``/short/NAME`` (a shorter file): a server whose announced size and delivered
  body differ, i.e. a truncated download.

The pytest fixture ``nginx`` (session scope) yields a started `ServedNginx`; it skips
when nginx is not installed, unless ``CI`` is set (then it fails).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

__all__ = ["ServedNginx", "find_nginx", "nginx"]

CONFIG = """\
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    default_type application/octet-stream;
    access_log off;
    log_format ranges escape=json
        '{{"method":"$request_method","uri":"$uri","range":"$http_range",'
        '"status":$status,"bytes":$body_bytes_sent}}';
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        access_log {prefix}/access.log ranges;
        location /files/ {{ alias {root}/; }}
        location /short/ {{ alias {short}/; }}
        location /error500/ {{ return 500; }}
        location /headfull/ {{
            if ($request_method = HEAD) {{ rewrite ^/headfull/(.*)$ /files/$1 last; }}
            rewrite ^/headfull/(.*)$ /short/$1 last;
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    """Return the nginx binary, or `None` (``NGINX`` wins over PATH and /usr/sbin)."""
    for candidate in (os.environ.get("NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 (not 80 or 8080)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServedNginx:
    """One nginx serving ``root`` (``/files/``) and ``short`` (``/short/``)."""

    def __init__(self, binary: str, base: Path) -> None:
        self.binary = binary
        self.prefix = base / "nginx"
        self.root = base / "files"
        self.short = base / "short"
        for directory in (self.prefix / "tmp", self.root, self.short):
            directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = self.prefix / "access.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Write the configuration, start nginx and wait until it answers."""
        user = "user root;" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(CONFIG.format(user=user, prefix=self.prefix, port=self.port,
                                      root=self.root, short=self.short))
        check = subprocess.run([self.binary, "-t", "-p", str(self.prefix), "-c", str(conf)],
                               capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the test configuration:\n{check.stderr}")
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-c", str(conf)],
            stdout=subprocess.DEVNULL, stderr=open(self.prefix / "stderr.log", "w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited at start: "
                                   + (self.prefix / "error.log").read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen on 127.0.0.1:{self.port} within 10 s")

    def stop(self) -> None:
        """Stop nginx (by its own process id)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def requests(self) -> list[dict]:
        """The access log so far, one dict per request."""
        if not self.access_log.exists():
            return []
        return [json.loads(line) for line in self.access_log.read_text().splitlines()
                if line.strip()]

    def clear_log(self) -> None:
        """Empty the access log (nginx keeps appending to the same file)."""
        if self.access_log.exists():
            with open(self.access_log, "r+") as stream:
                stream.truncate(0)


@pytest.fixture(scope="session")
def nginx() -> Iterator[ServedNginx]:
    """A started nginx for the session (skipped without nginx, failed under CI)."""
    binary = find_nginx()
    if binary is None:
        message = ("nginx is not installed (Debian package nginx-light): the download tests "
                   "need a real HTTP server with Range requests")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix=f"dp02-nginx-{getpass.getuser()}-"))
    server = ServedNginx(binary, base)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
