"""A real vibechat server for the browser tests: migrated SQLite, hypercorn subprocess.

Usable on its own too (for screenshots by hand):

    with live_server(Path("/tmp/somewhere")) as url:
        ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from vibechat.commands.cli import HYPERCORN_CONFIG

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    # Chromium looks up Google hosts on start; keep it offline and quiet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
SECRET_KEY = "browser-test-secret-key-not-for-production"
# A deadline, not a wait: a server answers in a second or two, but under make test the
# machine runs several test processes, servers and Chromium at once.
START_TIMEOUT = 60.0


class ServerFailed(RuntimeError):
    """The server did not migrate or did not come up; the message carries its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(instance: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIBECHAT_")}
    env.update(
        VIBECHAT_INSTANCE_PATH=str(instance),
        VIBECHAT_SECRET_KEY=SECRET_KEY,
        VIBECHAT_HOST="127.0.0.1",
        VIBECHAT_PORT=str(port),
        # Browser tests sign many people up from 127.0.0.1; the limits have tests of
        # their own, and a server that needs them passes settings={...: "on"}.
        VIBECHAT_RATE_LIMITS="off",
        # An empty heartbeat frame at a random moment would be noise to the tests that
        # read a socket frame by frame; the tests about it pass a short one in settings.
        VIBECHAT_WS_HEARTBEAT="300",
    )
    return env


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own http URL
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _descendants(pid: int) -> list[int]:
    """Child processes, grandchildren first (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found = [*_descendants(int(child)), int(child), *found]
    return found


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:] or "(no output)"


class RestartableServer:
    """Like `live_server`, but `restart()` stops the hypercorn process and starts a new
    one on the same port with the same instance folder: the SQLite database and the
    secret key survive, so browser sessions (cookies) stay valid across the restart.

        with restartable_server(Path("/tmp/somewhere")) as server:
            page.goto(server.url + "/chats")
            server.restart()
    """

    def __init__(
        self, instance: Path, timeout: float = START_TIMEOUT, settings: dict | None = None
    ) -> None:
        self.instance = instance
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**server_env(instance, self.port), **(settings or {})}
        self.log_path = instance / "server.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def migrate(self) -> None:
        self.instance.mkdir(parents=True, exist_ok=True)
        migrate = subprocess.run(
            [sys.executable, "-m", "vibechat.commands.cli", "migrate"],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if migrate.returncode != 0:
            raise ServerFailed(
                f"`vibechat migrate` exited {migrate.returncode}:\n"
                f"{migrate.stdout}\n{migrate.stderr}"
            )

    def start(self) -> None:
        """Start hypercorn on self.port and wait until /healthz answers."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the server is already running")
        self.starts += 1
        # Append: the log of every run is kept, one after the other.
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hypercorn",
                    "--config",
                    HYPERCORN_CONFIG,
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "vibechat.app:create_app()",
                ],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.timeout
        while not _answers(self.url + "/healthz"):
            if self.process.poll() is not None:
                raise ServerFailed(
                    f"hypercorn exited with {self.process.returncode} before /healthz answered:\n"
                    + _tail(self.log_path)
                )
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"/healthz did not answer within {self.timeout:.0f} s; server output:\n"
                    + _tail(self.log_path)
                )
            time.sleep(0.1)

    def stop(self) -> int | None:
        """Terminate the process (SIGTERM, as a deploy would) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None:
            return None
        process.terminate()
        try:
            return process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(5)

    def kill(self) -> None:
        """SIGKILL the server and its hypercorn workers, as a crashed host would end."""
        process, self.process = self.process, None
        if process is None:
            return
        for pid in [*_descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return _tail(self.log_path)


@contextlib.contextmanager
def restartable_server(
    instance: Path, timeout: float = START_TIMEOUT, settings: dict | None = None
) -> Iterator[RestartableServer]:
    """Migrate a fresh database in `instance`, serve it, yield the RestartableServer.

    settings: extra VIBECHAT_* variables for the server process."""
    server = RestartableServer(instance, timeout, settings)
    server.migrate()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def live_server(
    instance: Path, timeout: float = START_TIMEOUT, settings: dict | None = None
) -> Iterator[str]:
    """Migrate a fresh database in `instance`, serve it, yield http://127.0.0.1:<port>."""
    with restartable_server(instance, timeout, settings) as server:
        yield server.url
