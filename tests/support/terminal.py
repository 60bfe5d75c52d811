"""A text browser (w3m, lynx) in a terminal of its own: tmux on a private socket, keys
sent with `send-keys`, the screen read with `capture-pane`.

Every wait polls the screen until a condition holds, with a deadline.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support.services import skip_or_fail

DEADLINE = 15.0  # s: a page of a local server shows in well under a second
STEP_DEADLINE = 3.0  # s: a key that moves the cursor does so at once
WIDTH, HEIGHT = 100, 50


def needs(*programs: str) -> None:
    """Skip (fail in CI) when a program the test drives is not installed."""
    missing = [name for name in programs if shutil.which(name) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed: apt-get install -y {' '.join(missing)}")


class Terminal:
    """One program in a detached tmux session on its own server socket."""

    def __init__(self, command: Sequence[str], home: Path) -> None:
        self.socket = f"vibechat-test-{uuid.uuid4().hex[:12]}"
        home.mkdir(parents=True, exist_ok=True)
        env = {"HOME": str(home), "TERM": "xterm", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        self._tmux(
            "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT),
            *[f"-e{name}={value}" for name, value in env.items()],
            *command,
            env=env,
        )  # fmt: skip
        self.socket_path = Path(self._tmux("display", "-p", "#{socket_path}").strip())

    def _tmux(self, *args: str, env: dict | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=env,
        )
        return done.stdout

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
        self.socket_path.unlink(missing_ok=True)  # tmux leaves the socket file behind

    # -- reading --

    def lines(self) -> list[str]:
        return self._tmux("capture-pane", "-p").split("\n")

    def screen(self) -> str:
        return "\n".join(self.lines())

    def cursor(self) -> tuple[int, int]:
        x, y = self._tmux("display", "-p", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait_for(self, condition: Callable[[str], bool], what: str, within: float = DEADLINE):
        deadline = time.monotonic() + within
        while not condition(screen := self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not on screen within {within} s:\n{screen}")
            time.sleep(0.05)
        return screen

    def wait_for_text(self, text: str, within: float = DEADLINE) -> str:
        return self.wait_for(lambda screen: text in screen, repr(text), within)

    # -- typing --

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-l", text)

    def move_to(self, wanted: Callable[[list[str], int], bool], key: str, what: str) -> None:
        """Press `key` (Tab, Down) until the cursor's line satisfies wanted(lines, row)."""
        for _ in range(60):
            position = self.cursor()
            lines = self.lines()
            if wanted(lines, position[1]):
                return
            self.keys(key)
            deadline = time.monotonic() + STEP_DEADLINE
            while self.cursor() == position:
                if time.monotonic() > deadline:
                    screen = self.screen()
                    raise AssertionError(f"{key} no longer moves; {what} not found:\n{screen}")
                time.sleep(0.02)
        raise AssertionError(f"{what} not reached:\n{self.screen()}")


def on_line(text: str) -> Callable[[list[str], int], bool]:
    """The cursor's line contains text."""
    return lambda lines, row: text in lines[row]


def below_line(text: str) -> Callable[[list[str], int], bool]:
    """The line above the cursor's contains text (a label over its field)."""
    return lambda lines, row: row > 0 and text in lines[row - 1]
