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
from dataclasses import dataclass
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
    """A local port no one listens on now."""
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


@dataclass
class Served:
    """A running ``distretto view``: its address, and once stopped its exit status."""

    url: str
    log: Path
    returncode: int | None = None


@contextlib.contextmanager
def serve_view(log: Path, firms: int = 2000, timeout: float = 90.0) -> Iterator[Served]:
    """``distretto view --port P --firms N`` on a free port, once it answers; stopped as by Ctrl-C at the end."""
    port = free_port()
    distretto = Path(sys.executable).parent / "distretto"
    command = [str(distretto), "view", "--host", "127.0.0.1", "--port", str(port), "--firms", str(firms)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(f"http://127.0.0.1:{port}/", log)
    try:
        _wait_until_answers(served.url, proc, log, timeout)
        yield served
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # our own process group: distretto and its solara server
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        served.returncode = proc.returncode


def launch_chromium(playwright):
    """Headless Debian chromium; an AssertionError (a failure, not a skip) if it is not installed."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
