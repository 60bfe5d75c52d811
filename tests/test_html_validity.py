"""Every page is valid HTML: the W3C Nu HTML Checker (vnu) finds no error.

Chromium goes over every page that the accessibility checks visit (tests/support/pages.py:
signed out and in, form errors, error pages) and keeps the HTML the server sent for it;
then the chat and the chat list once more as they stand after live frames went in (the
DOM, so what htmx put there is checked too). One vnu run checks every file.

Needs Java 17, vnu-jar (`npm ci --prefix tools`, which `make test` runs) and
/usr/bin/chromium; skipped without them outside CI and failed in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import TIMEOUT
from tests.support.checkers import vnu_errors
from tests.support.pages import PAGES, World, made_world, visit
from tests.support.servers import ServerFailed, live_server

SERIALIZED = "() => '<!DOCTYPE html>\\n' + document.documentElement.outerHTML"


@pytest.fixture(scope="module")
def world(playwright, chromium_executable, tmp_path_factory) -> Iterator[World]:
    try:
        instance = tmp_path_factory.mktemp("vnu-instance")
        with live_server(instance) as url, made_world(playwright, url) as made:
            yield made
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


def served_html(page: Page, go) -> str:
    """What the server sent for the last document the page navigated to."""
    documents = []

    def keep(response) -> None:
        if response.request.is_navigation_request() and response.frame == page.main_frame:
            documents.append(response)

    page.on("response", keep)
    go()
    page.remove_listener("response", keep)
    assert documents, "no document was loaded"
    return documents[-1].text()


def assert_valid(files: list[Path]) -> None:
    errors = vnu_errors(files)
    assert not errors, "vnu found errors:\n" + "\n".join(
        f"{path.name}:\n    " + "\n    ".join(lines) for path, lines in errors.items()
    )


@pytest.mark.browser
def test_the_nu_html_checker_finds_no_error_on_any_page(browser, world, tmp_path):
    files: list[Path] = []
    contexts = {}
    try:
        for signed_in in (False, True):
            contexts[signed_in] = browser.new_context(
                base_url=world.url, storage_state=world.alice.state if signed_in else None
            )
            contexts[signed_in].set_default_timeout(TIMEOUT)
        for name, (signed_in, go) in PAGES.items():
            page = contexts[signed_in].new_page()
            try:
                html = served_html(page, lambda: go(page, world))  # noqa: B023 (called at once)
            finally:
                page.close()
            files.append(tmp_path / f"{name}.html")
            files[-1].write_text(html)

        # The DOM after frames: bob writes while alice has her chat and her list open.
        chat, chats = (contexts[True].new_page() for _ in range(2))
        visit(chat, f"/chats/{world.chat}")
        visit(chats, "/chats")
        said = "A frame for the checker"
        world.bob.say(world.chat, [said])
        expect(chat.locator("#messages > li.message").last).to_contain_text(said)
        expect(chats.locator(f"#chat-preview-{world.chat}")).to_contain_text(said)
        for name, page in (("chat-live", chat), ("chat-list-live", chats)):
            files.append(tmp_path / f"{name}.html")
            files[-1].write_text(page.evaluate(SERIALIZED))
    finally:
        for context in contexts.values():
            context.close()

    assert {path.stem for path in files} == set(PAGES) | {"chat-live", "chat-list-live"}
    assert_valid(files)


# -- the harness: it must see an error when there is one ----------------------------------

VALID = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fine</title></head>
<body data-hx-ext="ws" data-ws-connect="/ws"><main><h1>Fine</h1>
<p id="x" data-hx-swap-oob="true">A frame's element, spelled the valid way.</p></main></body></html>
"""
BROKEN = VALID.replace('data-ws-connect="/ws"', 'ws-connect="/ws"').replace(
    "<title>Fine</title>", ""
)


@pytest.mark.slow
def test_the_checker_run_reports_the_errors_of_a_broken_page_and_passes_a_valid_one(tmp_path):
    valid, broken = tmp_path / "valid.html", tmp_path / "broken.html"
    valid.write_text(VALID)
    broken.write_text(BROKEN)
    errors = vnu_errors([valid, broken])
    assert list(errors) == [broken], errors
    found = "\n".join(errors[broken])
    assert "“ws-connect” not allowed" in found and "“title”" in found, found
    with pytest.raises(AssertionError, match=r"broken\.html"):
        assert_valid([valid, broken])
    assert_valid([valid])
