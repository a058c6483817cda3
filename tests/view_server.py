"""``distretto view`` as a local server for the browser test and the view benchmark, and how to launch chromium.

The server runs in its own process group, which is stopped (SIGINT, then SIGKILL) when the block ends.
Chromium is Debian's (/usr/bin/chromium, installed by .ci/run); Playwright drives it, no ``playwright install``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_answers(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"distretto view exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"distretto view did not answer on {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve_view(log: Path, firms: int = 2000, timeout: float = 90.0) -> Iterator[str]:
    """``distretto view --port P --firms N`` on a free port; yields its URL once it answers, then stops it."""
    port = free_port()
    distretto = Path(sys.executable).parent / "distretto"
    command = [str(distretto), "view", "--host", "127.0.0.1", "--port", str(port), "--firms", str(firms)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_answers(url, proc, log, timeout)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # our own process group: distretto and its solara server
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def launch_chromium(playwright):
    """Headless Debian chromium; an AssertionError (a failure, not a skip) if it is not installed."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
