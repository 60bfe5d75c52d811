"""`vibechat --help` and the commands that run in the shell (migrations, accounts,
backups) never load the web stack: Quart and hypercorn are for `serve` alone, which
hands over to hypercorn by exec. Each command runs as `python -m vibechat` would, in a
process of its own, and reports which of those modules it loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.cli import in_english

# Each test starts the command line as a process: that is what it measures.
pytestmark = pytest.mark.slow

WEB_STACK = ("quart", "quart_auth", "hypercorn", "flask")
# Runs `python -m vibechat ARGS` in this process, then names the web modules it loaded.
PROBE = f"""
import runpy, sys
try:
    runpy.run_module("vibechat", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
print("status", code)
print("loaded", *sorted(name for name in sys.modules if name.split(".")[0] in {WEB_STACK!r}))
"""
PASSWORD = "correct horse battery staple"


def vibechat(tmp_path, *args: str, stdin: str = "") -> tuple[int, list[str], str]:
    """Exit status, web modules loaded, and stdout of `python -m vibechat ARGS`."""
    env = {k: v for k, v in in_english(os.environ).items() if not k.startswith("VIBECHAT_")}
    env["VIBECHAT_INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    lines = result.stdout.splitlines()
    status, loaded = lines[-2].split(), lines[-1].split()
    assert status[0] == "status" and loaded[0] == "loaded", result.stdout + result.stderr
    return int(status[1] or 0), loaded[1:], "\n".join(lines[:-2]) + result.stderr


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """An instance folder with a migrated database: migrating loads no web module either."""
    folder = tmp_path_factory.mktemp("instance")
    status, loaded, output = vibechat(folder, "migrate")
    assert (status, loaded) == (0, []), output
    return folder


def test_help_loads_no_web_module(tmp_path):
    status, loaded, output = vibechat(tmp_path, "--help")
    assert status == 0
    assert "create-user" in output
    assert loaded == []


def test_the_account_commands_and_the_seed_load_no_web_module(instance):
    for args in (
        ("create-user", "quick", "--display-name", "Quick"),
        ("reset-password", "quick"),
        ("deactivate-user", "quick"),
        ("reactivate-user", "quick"),
        ("seed",),
    ):
        status, loaded, output = vibechat(instance, *args, stdin=PASSWORD + "\n")
        assert status == 0, output
        assert loaded == [], args


def test_backup_loads_no_web_module(instance, tmp_path):
    status, loaded, output = vibechat(instance, "backup", str(tmp_path / "copy.sqlite3"))
    assert status == 0, output
    assert loaded == []


def test_a_refused_command_loads_no_web_module_either(instance):
    status, loaded, output = vibechat(instance, "reactivate-user", "nobody-at-all")
    assert status == 1
    assert "there is no user named 'nobody-at-all'" in output
    assert loaded == []
