"""A real vibechat server for the browser tests: migrated SQLite, hypercorn subprocess.

Usable on its own too (for screenshots by hand):

    with live_server(Path("/tmp/somewhere")) as url:
        ...
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    # Chromium looks up Google hosts on start; keep it offline and quiet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
SECRET_KEY = "browser-test-secret-key-not-for-production"
START_TIMEOUT = 20.0


class ServerFailed(RuntimeError):
    """The server did not migrate or did not come up; the message carries its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(instance: Path, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VIBECHAT_") and key != "TESTING"
    }
    env.update(
        VIBECHAT_INSTANCE_PATH=str(instance),
        VIBECHAT_SECRET_KEY=SECRET_KEY,
        VIBECHAT_HOST="127.0.0.1",
        VIBECHAT_PORT=str(port),
    )
    return env


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own http URL
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:] or "(no output)"


@contextlib.contextmanager
def live_server(instance: Path, timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Migrate a fresh database in `instance`, serve it, yield http://127.0.0.1:<port>."""
    instance.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(instance, port)
    migrate = subprocess.run(
        [sys.executable, "-m", "vibechat.cli", "migrate"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if migrate.returncode != 0:
        raise ServerFailed(
            f"`vibechat migrate` exited {migrate.returncode}:\n{migrate.stdout}\n{migrate.stderr}"
        )

    log_path = instance / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hypercorn",
                "--bind",
                f"127.0.0.1:{port}",
                "vibechat:create_app()",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _answers(base_url + "/healthz"):
            if process.poll() is not None:
                raise ServerFailed(
                    f"hypercorn exited with {process.returncode} before /healthz answered:\n"
                    + _tail(log_path)
                )
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"/healthz did not answer within {timeout:.0f} s; server output:\n"
                    + _tail(log_path)
                )
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
