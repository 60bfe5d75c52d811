"""Playwright fixtures shared by the browser test modules: Debian's Chromium, and a
Playwright that lives for one module at a time.

pytest-playwright's `playwright` fixture lives for the whole session, and while the sync
API is started its event loop counts as running in this thread: every asyncio.run()
after a browser module (the other modules' async fixtures) would then fail with "cannot
be called from a running event loop". So Playwright, and everything built on it, is
module-scoped here and stops before the next module starts. tests/conftest.py loads
this module as a plugin, so every test module sees these instead of the plugin's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright

from tests.browser_server import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import skip_or_fail

__all__ = [
    "browser",
    "browser_type",
    "browser_type_launch_args",
    "chromium_executable",
    "playwright",
]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not Path(CHROMIUM).exists():
        skip_or_fail(
            f"no Chromium at {CHROMIUM}; install it with `apt-get install chromium`"
            " (do not run `playwright install`)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts) -> Iterator[Playwright]:
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def browser(browser_type, browser_type_launch_args) -> Iterator[Browser]:
    browser = browser_type.launch(**browser_type_launch_args)
    yield browser
    browser.close()
