"""The `vibechat` command, run in this process (quick) or as a real process.

`vibechat_cli(...)` calls vibechat.commands.cli.main() with the settings in os.environ,
stdin, stdout and stderr swapped for the call, and answers like subprocess.run does:
returncode, stdout, stderr. A process costs half a second of imports; use
`vibechat_process(...)` only where the process itself is what is tested (the entry
point, a terminal, exit codes of an unexpected error).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

from vibechat.commands import cli
from vibechat.i18n import LOCALE_VARIABLES

# Settings the test's own environment might carry that a fresh instance must not see.
UNSET = ("VIBECHAT_DATABASE_URL", "VIBECHAT_REDIS_URL")


def in_english(env: Mapping[str, str]) -> dict[str, str]:
    """The environment in the C locale: the command speaks the language of LANGUAGE,
    LC_ALL, LC_MESSAGES or LANG, and a test that reads its English words must not
    depend on the language of the developer's shell. A test sets LANG to hear another."""
    return {
        **{name: value for name, value in env.items() if name not in LOCALE_VARIABLES},
        "LANG": "C.UTF-8",
    }


# One call at a time: os.environ, sys.stdin/stdout/stderr are the process's.
_one_at_a_time = threading.Lock()


def _environment(instance: Path, settings: dict[str, str]) -> dict[str, str]:
    env = {**in_english(os.environ), "VIBECHAT_INSTANCE_PATH": str(instance)}
    for name in UNSET:
        env.pop(name, None)
    env.update(settings)
    return env


def _main(args: tuple[str, ...], stdin: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "stdin", io.StringIO(stdin)),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = cli.main(list(args))
        except SystemExit as exit_:  # argparse: --help, a bad argument
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def vibechat_cli(
    *args: str, instance: Path, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess:
    """`vibechat ARGS` on `instance` (the embedded database and no Redis unless settings,
    VIBECHAT_DATABASE_URL=... say, name others); stdin is its input.

    The command runs on a thread of its own, so it may be called from an async test
    (the command starts event loops of its own with asyncio.run); like subprocess.run,
    the caller waits for it."""
    environment = _environment(instance, settings)
    with (
        _one_at_a_time,
        mock.patch.dict(os.environ, environment, clear=True),
        ThreadPoolExecutor(1) as thread,
    ):
        code, stdout, stderr = thread.submit(_main, args, stdin).result()
    return subprocess.CompletedProcess(["vibechat", *args], code, stdout, stderr)


def vibechat_process(
    *args: str, instance: Path, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess:
    """`python -m vibechat.commands.cli ARGS` as a process of its own, like vibechat_cli."""
    return subprocess.run(
        [sys.executable, "-m", "vibechat.commands.cli", *args],
        env=_environment(instance, settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
