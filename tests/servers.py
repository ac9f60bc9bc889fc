"""What the browser tests (tests/browser) and the class tests (tests/hub) share: Debian's
Chromium as Playwright drives it here, free ports, waiting for a server, screenshot
folders."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"  # Playwright cannot download browsers here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen, timeout_s: float, log: Path) -> None:
    """Return once `url` answers; RuntimeError with the server's `log` if `proc` exits
    first or `timeout_s` seconds pass (then `proc` is terminated)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError(f"{url} did not answer:\n{log.read_text()}") from None
            time.sleep(0.5)


def screenshot_folder(pytestconfig, variable: str, name: str, label: str) -> Path:
    """Screenshots for a person to look at: $`variable`, or `name` in the temporary folder;
    emptied, and shown as "`label`: <folder>" on stderr past pytest's capture."""
    folder = os.environ.get(variable)
    folder = Path(folder) if folder else Path(tempfile.gettempdir()) / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{label}: {folder}", file=sys.stderr, flush=True)
    return folder
