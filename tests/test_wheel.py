"""The wheel works on its own: built from the checkout, installed into a fresh venv, and
run from a folder outside the checkout (`vibechat migrate`, `vibechat serve`), it has
every module, template, static file and migration, and serves pages and static files.

Slow (a build, a venv, the dependencies from PyPI or pip's cache: about a minute), and
never skipped: deploy/Dockerfile installs this same wheel.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
import rcssmin
from selectolax.lexbor import LexborHTMLParser

from vibechat import schema
from vibechat.paths import CHECKOUT

pytestmark = pytest.mark.slow

# What deploy/Dockerfile copies into its build stage, and the folder each lands in
# inside the wheel (pyproject.toml's package-dir mapping).
SOURCES = {
    "vibechat": "vibechat",
    "templates": "vibechat/templates",
    "static": "vibechat/static",
    "migrations": "vibechat/migrations",
    "translations": "vibechat/translations",
}
SERVER_START = 60  # seconds; hypercorn imports the app and opens the database
SLOW_STEP = 300  # seconds for a build or an install on a loaded machine


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=SLOW_STEP, check=False, **kwargs
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def shipped_files(source: Path) -> set[str]:
    """Every file the wheel must carry, by its path inside the wheel: the package's
    modules, and everything in the four folders."""
    files = set()
    for folder, inside in SOURCES.items():
        for path in (source / folder).rglob("*.py" if folder == "vibechat" else "*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(f"{inside}/{path.relative_to(source / folder).as_posix()}")
    return files


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The source the wheel came from and the wheel, built from a copy of what the
    Dockerfile copies (a build in the checkout would leave build/ behind)."""
    assert CHECKOUT is not None, "the tests run from a checkout"
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(CHECKOUT / name, source / name)
    for folder in SOURCES:
        shutil.copytree(
            CHECKOUT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root), "."],
        cwd=source,
    )
    (wheel,) = root.glob("vibechat-*.whl")
    return source, wheel


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its dependencies installed: its bin folder."""
    folder = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(folder)])
    bin_folder = folder / "bin"
    run([str(bin_folder / "python"), "-m", "pip", "install", "--quiet", str(built[1])])
    return bin_folder


def outside_env(work: Path) -> dict[str, str]:
    """The environment of an operator: no VIBECHAT_* of the test run, nothing on
    PYTHONPATH that could reach the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIBECHAT_", "PYTHON"))}
    env["HOME"] = str(work)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_wheel_carries_every_module_template_static_file_and_migration(built):
    source, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = shipped_files(source) - names
    assert not missing, f"left out of the wheel: {sorted(missing)}"


def test_the_installed_wheel_migrates_and_serves_pages_and_static_files(venv, built, tmp_path):
    work = tmp_path / "work"  # the operator's folder: neither the checkout nor the venv
    work.mkdir()
    env = outside_env(work)
    python = str(venv / "python")
    where = run(
        [python, "-c", "import vibechat.paths as p; print(p.PACKAGE, p.INSTALLED)"],
        cwd=work,
        env=env,
    ).stdout.split()
    package = Path(where[0])
    assert package.is_relative_to(venv.parent.resolve()), "the venv's copy, not the checkout"
    assert where[1] == "True"

    migrated = run([str(venv / "vibechat"), "migrate"], cwd=work, env=env)
    database = work / "instance" / "vibechat.sqlite3"  # the default instance folder
    assert str(database) in migrated.stdout
    assert asyncio.run(schema.is_up_to_date(f"sqlite+aiosqlite:///{database}"))
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)

    port = free_port()
    server = subprocess.Popen(
        [str(venv / "vibechat"), "serve"],
        cwd=work,
        env={**env, "VIBECHAT_PORT": str(port), "VIBECHAT_LOG_FORMAT": "json"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + SERVER_START
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "vibechat serve did not answer"
                time.sleep(0.2)

            page = client.get("/login")
            assert page.status_code == 200
            html = LexborHTMLParser(page.text)
            assert html.css_first("form input[name=password]") is not None
            stylesheet = html.css_first("link[rel=stylesheet]").attributes["href"]
            assert stylesheet.startswith("/static/app.css?v=")
            css = client.get(stylesheet)
            assert css.status_code == 200
            # The installed stylesheet, minified as it travels (vibechat.templating).
            assert (
                css.content
                == rcssmin.cssmin((built[0] / "static" / "app.css").read_text()).encode()
            )
            assert "immutable" in css.headers["Cache-Control"]
            # The Russian catalog came along: a Russian browser gets Russian.
            russian = client.get("/login", headers={"Accept-Language": "ru"})
            assert '<html lang="ru">' in russian.text and "Язык:" in russian.text
            # A file in a subfolder of static/ (signed-out pages load no script).
            vendored = sorted((built[0] / "static" / "vendor").glob("htmx-*.js"))[0]
            script = client.get(f"/static/vendor/{vendored.name}")
            assert script.status_code == 200
            assert script.content == vendored.read_bytes()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # hypercorn and its worker
        server.wait(timeout=30)
        server.stdout.close()
    assert (work / "instance" / "secret_key").is_file()
    assert not (package / "instance").exists()  # nothing written into site-packages
