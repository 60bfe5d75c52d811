"""Start a server under test in its own hypercorn process, and read its probe.

Both the real app (bench/served.py) and the reference (bench/reference.py) run the
way `vibechat serve` runs the app: `python -m hypercorn` with vibechat's hypercorn
settings and one worker, on a free port of 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import free_port
from vibechat.commands.cli import HYPERCORN_CONFIG

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30


@dataclass
class Server:
    host: str
    port: int

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def probe(self) -> dict:
        """{"max_stall_ms": the longest stall since the last probe, "rss_bytes": ...}."""
        return httpx.get(self.base + "/_bench/probe", timeout=30).json()


@contextlib.contextmanager
def serve(application: str, log: Path, settings: dict[str, str] | None = None) -> Iterator[Server]:
    """Run `application` ("module:attribute") until the block ends, its output in `log`.

    A server that logged an error says so on stderr when it stops, with the first
    lines of what it logged, so that a failure never hides behind a figure.
    """
    server = Server("127.0.0.1", free_port())
    env = {**os.environ, **(settings or {}), "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "hypercorn",
        "--config",
        HYPERCORN_CONFIG,
        "--bind",
        f"{server.host}:{server.port}",
        "--workers",
        "1",
        application,
    ]
    output = log.open("ab")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{application} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                server.probe()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{application} did not start in {STARTUP_SECONDS} s")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()
        report_errors(application, log)


def report_errors(application: str, log: Path) -> None:
    lines = log.read_text(errors="replace").splitlines()
    first = next((n for n, line in enumerate(lines) if " ERROR " in line), None)
    if first is not None:
        shown = "\n".join(lines[first : first + 40])
        print(f"{application} logged errors ({log}):\n{shown}", file=sys.stderr)
