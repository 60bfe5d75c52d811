"""Pages for everyone (SPEC section 6), checked in real Chromium against a real server.

- axe-core 4.14.1 (WCAG 2.0/2.1 A and AA, WCAG 2.2 AA — which brings target-size — and
  best practice) finds nothing on any page: signed out, signed in, with form errors,
  error pages; in light and dark, at 360 and 1280 px wide, with JavaScript on (the live
  state, the connection line and presence showing), and the chat page once without it;
- no page scrolls sideways at 320 px, even with very long unbroken words and URLs in a
  message, a chat title and a display name; zoom is never disabled; one h1 per page; a
  skip link moves focus to main; buttons and standalone links are at least 24 px;
- someone with only a keyboard registers, starts a group chat and sends a message, and
  every element they land on shows a focus ring;
- two more engines, IBM Equal Access (its WCAG 2.2 rule set) and HTML_CodeSniffer
  (WCAG 2 AA), report no violation and no error on any page;
- the message list is a polite live log; loading earlier messages keeps the reading
  position, moves focus to the next "Earlier messages" link (or to the list) and does
  not leave the log silent.

Needs /usr/bin/chromium (`apt-get install chromium`) and axe-core
(`npm ci --prefix tools`, which `make test` runs); skipped without them outside CI and
failed in CI. Set A11Y_SHOTS=/some/folder to keep a screenshot of every page checked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    BrowserContext,
    Page,
    expect,
)

from tests.support.axe import assert_axe_clean, axe_script
from tests.support.browser import TIMEOUT
from tests.support.pages import (
    LONG_NAME,
    LONG_TITLE,
    LONG_URL,
    LONG_WORD,
    MESSAGES,
    PAGES,
    World,
    made_world,
    visit,
    wait_until_live,
)
from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import (
    PROJECT_ROOT,
    ServerFailed,
    live_server,
)
from tests.support.services import skip_or_fail

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("A11Y_SHOTS")


# -- fixtures: overrides of pytest-playwright's, the server and its people -----------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    return axe_script()


@pytest.fixture(scope="module")
def server_url(chromium_executable, tmp_path_factory) -> Iterator[str]:
    try:
        with live_server(tmp_path_factory.mktemp("a11y-instance")) as url:
            yield url
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def world(playwright, server_url) -> Iterator[World]:
    with made_world(playwright, server_url) as made:
        yield made


# -- looks: colour scheme and width, one browser context per look and person -----------------


@dataclass(frozen=True)
class Look:
    scheme: str
    width: int
    language: str = "en"  # what the browser asks for (Accept-Language); alice chose none

    @property
    def name(self) -> str:
        return f"{self.language}-{self.scheme}-{self.width}"

    def context_args(self) -> dict:
        phone = self.width < 600
        return {
            "viewport": {"width": self.width, "height": 740 if phone else 800},
            "color_scheme": self.scheme,
            "is_mobile": phone,
            "has_touch": phone,
            "locale": {"en": "en-US", "ru": "ru-RU"}[self.language],
        }


# Every page in both languages (Russian words are longer), light and dark, phone and desktop.
LOOKS = [
    Look(scheme, width, language)
    for language in ("en", "ru")
    for width in (360, 1280)
    for scheme in ("light", "dark")
]
NARROWEST = [Look("light", 320, language) for language in ("en", "ru")]
DESKTOP_DARK = Look("dark", 1280)


@pytest.fixture(scope="module")
def contexts(browser, world) -> Iterator[Callable[..., BrowserContext]]:
    """context(look, signed_in=True): made once, closed with the module."""
    made: dict[tuple, BrowserContext] = {}

    def context(look: Look, *, signed_in: bool = True) -> BrowserContext:
        key = (look, signed_in)
        if key not in made:
            made[key] = browser.new_context(
                **look.context_args(),
                base_url=world.url,
                storage_state=world.alice.state if signed_in else None,
            )
            made[key].set_default_timeout(TIMEOUT)
            made[key].set_default_navigation_timeout(TIMEOUT)
        return made[key]

    yield context
    for context in made.values():
        context.close()


# -- the pages ---------------------------------------------------------------------------------


def open_page(contexts, world: World, look: Look, name: str) -> Page:
    signed_in, go = PAGES[name]
    page = contexts(look, signed_in=signed_in).new_page()
    go(page, world)
    return page


def shot(page: Page, name: str) -> None:
    """With A11Y_SHOTS set: what the screen shows, and the top of the page."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(SHOTS) / f"{name}.png")
        if page.evaluate("scrollY") > 0:
            top = {"x": 0, "y": 0, **page.viewport_size}
            page.screenshot(path=Path(SHOTS) / f"{name}-top.png", full_page=True, clip=top)


# -- axe ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("look", LOOKS, ids=lambda look: look.name)
def test_axe_finds_nothing(contexts, world, axe_source, look, name):
    page = open_page(contexts, world, look, name)
    try:
        shot(page, f"{name}-{look.name}")
        assert_axe_clean(page, axe_source, f"{name} at {look.name}")
    finally:
        page.close()


def test_axe_finds_nothing_on_the_chat_without_javascript(browser, world, axe_source):
    # axe needs timers, and a context with JavaScript disabled never runs them; so the
    # page's own scripts are refused instead: the page stays exactly as served.
    context = browser.new_context(
        **LOOKS[0].context_args(), base_url=world.url, storage_state=world.alice.state
    )
    context.set_default_timeout(TIMEOUT)
    context.route(lambda url: urlsplit(url).path.endswith(".js"), lambda route: route.abort())
    page = context.new_page()
    try:
        visit(page, f"/chats/{world.chat}")
        assert page.evaluate("typeof window.htmx") == "undefined"
        expect(page.locator("#connection-state")).to_be_hidden()
        expect(page.get_by_role("link", name="Load new messages")).to_be_visible()
        shot(page, "chat-nojs")
        assert_axe_clean(page, axe_source, "chat without JavaScript")
    finally:
        context.close()


# -- every page at 320 px: no sideways scroll, zoom, headings, skip link, target sizes ---------


LONG_TEXTS = {
    "chat-list": [LONG_TITLE, LONG_NAME],
    "chat": [LONG_TITLE, LONG_NAME, LONG_WORD, LONG_URL],
    "members": [LONG_TITLE, LONG_NAME],
    "edit": [LONG_NAME],
    "mentions": [LONG_TITLE, LONG_WORD, LONG_URL],
}

SMALL_TARGETS = """() => {
  // Buttons, fields and links that stand on their own must be at least 24 x 24 CSS px.
  // WCAG 2.5.8 exempts a link inside a sentence: one whose line has other text.
  const targets = 'a[href], button, input:not([type=hidden]), textarea, select'
  function inSentence (link) {
    const line = link.closest('p, li, td, dd, dt, h1, h2, h3, h4, h5, h6, label')
    if (!line) return false
    const copy = line.cloneNode(true)
    copy.querySelectorAll(targets + ', .visually-hidden').forEach(el => el.remove())
    return copy.textContent.trim() !== ''
  }
  const small = []
  for (const el of document.querySelectorAll(targets)) {
    const box = el.getBoundingClientRect()
    if (!box.width || !box.height || el.closest('[hidden], .visually-hidden, .skip-link')) continue
    if (el.matches('a') && inSentence(el)) continue
    if (box.width < 24 || box.height < 24) {
      small.push(`${el.outerHTML.slice(0, 80)}: ${box.width.toFixed(1)} x ${box.height.toFixed(1)}`)
    }
  }
  return small
}"""


@pytest.mark.parametrize("narrowest", NARROWEST, ids=lambda look: look.language)
def test_every_page_works_at_320_px_with_zoom_one_h1_and_a_skip_link(contexts, world, narrowest):
    problems: list[str] = []
    for name in PAGES:
        page = open_page(contexts, world, narrowest, name)
        try:
            shot(page, f"{name}-320")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                problems.append(f"{name}: scrolls sideways (scrollWidth {width} > 320)")
            viewport = page.locator("meta[name=viewport]").get_attribute("content") or ""
            if re.search(r"maximum-scale|user-scalable\s*=\s*(no|0)", viewport):
                problems.append(f"{name}: the viewport disables zoom: {viewport!r}")
            if (h1s := page.locator("h1").count()) != 1:
                problems.append(f"{name}: {h1s} h1 elements")
            for small in page.evaluate(SMALL_TARGETS):
                problems.append(f"{name}: target smaller than 24 x 24 px: {small}")
            # The skip link is the first stop and moves focus to main; a form sent back
            # with errors starts at its first field with one instead (issue 15).
            if page.evaluate("document.activeElement.getAttribute('aria-invalid')") != "true":
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.className") != "skip-link":
                    problems.append(f"{name}: the first Tab does not reach the skip link")
                else:
                    page.keyboard.press("Enter")
                    if page.evaluate("document.activeElement.id") != "main":
                        problems.append(f"{name}: the skip link does not move focus to main")
            # The long words really are there to be wrapped.
            for text in LONG_TEXTS.get(name, ()):
                if not page.get_by_text(text).count():
                    problems.append(f"{name}: {text[:20]}... is not on the page")
        finally:
            page.close()
    assert not problems, "\n".join(problems)


# -- keyboard only -----------------------------------------------------------------------------


FOCUS_RING = """el => {
  const style = getComputedStyle(el)
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
  return outline || (style.boxShadow !== 'none' && style.boxShadow !== '')
}"""


def describe_focus(page: Page) -> str:
    return page.evaluate(
        "() => { const el = document.activeElement;"
        " return el ? el.outerHTML.slice(0, 100) : 'nothing' }"
    )


def tab_to(page: Page, matches: str, *, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches the JS predicate;
    every element passed on the way must show a focus ring."""
    key = "Shift+Tab" if backwards else "Tab"
    if page.evaluate(
        f"el => !!el && ({matches})(el)", page.evaluate_handle("document.activeElement")
    ):
        return
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate_handle("document.activeElement")
        assert page.evaluate(FOCUS_RING, focused), (
            f"no visible focus indicator on {describe_focus(page)}"
        )
        if page.evaluate(f"el => ({matches})(el)", focused):
            return
    pytest.fail(f"{limit} presses of {key} never reached {matches}; at {describe_focus(page)}")


def field(element_id: str) -> str:
    return f"el => el.id === {element_id!r}"


def button(text: str) -> str:
    return f"el => el.tagName === 'BUTTON' && el.textContent.trim() === {text!r}"


def test_keyboard_only_register_start_a_group_chat_and_send(contexts, world):
    page = contexts(DESKTOP_DARK, signed_in=False).new_page()
    username = unique("kim")
    try:
        page.goto("/register")
        tab_to(page, field("username"))
        page.keyboard.type(username)
        tab_to(page, field("display_name"))
        page.keyboard.type("Kim")
        tab_to(page, field("password"))
        page.keyboard.type(PASSWORD)
        tab_to(page, button("Create account"))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/chats$"))
        wait_until_live(page)

        tab_to(page, field("title"))
        page.keyboard.type("Keyboard club")
        tab_to(page, field("members"))
        page.keyboard.type(world.bob.username)
        tab_to(page, button("Create chat"))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/chats/\d+$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard club")
        wait_until_live(page)

        # From the end of the page backwards: Send, then the composer.
        tab_to(page, field("body"), backwards=True)
        page.keyboard.type("Hello, typed without a mouse")
        page.keyboard.press("Enter")
        expect(page.locator("#messages > li.message").last).to_contain_text(
            "Hello, typed without a mouse"
        )
        assert page.evaluate("document.activeElement.id") == "body", describe_focus(page)
        assert page.evaluate("document.activeElement.value") == ""
        assert page.evaluate(FOCUS_RING, page.evaluate_handle("document.activeElement"))
    finally:
        page.close()


# -- the message log and earlier messages --------------------------------------------------------


def top_of(page: Page, selector: str) -> float:
    return page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top")


def load_earlier(page: Page, expected_first: int, then_focus: str) -> None:
    """Activate "Earlier messages" from the keyboard and wait until focus has moved on."""
    tab_to(page, "el => el.matches('.older a')")
    page.keyboard.press("Enter")
    expect(page.locator("#messages > li.message").first).to_have_attribute(
        "data-seq", str(expected_first)
    )
    # A function, not an expression string: the page's CSP forbids Playwright's eval.
    page.wait_for_function(
        "(selector) => document.activeElement && document.activeElement.matches(selector)",
        arg=then_focus,
    )


# First 56-105 are shown; then 6-55 come in (and a link to 1-5); then 1-5 (and no link).
EARLIER = [(MESSAGES - 99, ".older a"), (1, "#messages")]


def test_the_message_list_is_a_polite_log_and_earlier_messages_move_focus(contexts, world):
    page = contexts(DESKTOP_DARK).new_page()
    try:
        visit(page, f"/chats/{world.chat}")
        # The list sits in a log (an <ol> may not be one itself), the one live region
        # (issue 15: the list was a second one inside it); app.js quiets the log
        # (aria-live="off") while earlier messages go in, and turns it back to polite.
        expect(page.locator("[role=log]")).to_have_attribute("aria-live", "polite")
        expect(page.locator("[role=log] > #messages")).to_have_count(1)
        expect(page.locator("[role=log] [aria-live]")).to_have_count(0)
        log = page.locator("#messages")
        for expected_first, then_focus in EARLIER:
            load_earlier(page, expected_first, then_focus)
            expect(page.locator("[role=log]")).to_have_attribute("aria-live", "polite")
            expect(page.locator("[role=log] [aria-live]")).to_have_count(0)
        expect(page.locator(".older a")).to_have_count(0)
        expect(log.locator("> li.message")).to_have_count(MESSAGES)
        # and each day's heading once (in the browser's zone), and "New messages" where
        # alice left off when she has not read the chat yet (whether another test has
        # opened it first depends on the order): nothing else in the list.
        days = log.locator("> li.message time").evaluate_all(
            "ts => new Set(ts.map(t => new Date(t.dateTime).toDateString())).size"
        )
        expect(log.locator("> li.day")).to_have_count(days)
        assert log.locator("> li.unread-divider").count() <= 1
        expect(log.locator("> li:not(.message):not(.day):not(.unread-divider)")).to_have_count(0)
    finally:
        page.close()


def test_loading_earlier_messages_keeps_the_reading_place(contexts, world):
    page = contexts(DESKTOP_DARK).new_page()
    try:
        visit(page, f"/chats/{world.chat}")
        first = MESSAGES - 49
        for expected_first, then_focus in EARLIER:
            tab_to(page, "el => el.matches('.older a')")
            old_first = f"#msg-{world.chat}-{first}"
            before = top_of(page, old_first)
            load_earlier(page, expected_first, then_focus)
            after = top_of(page, old_first)
            assert abs(after - before) <= 3, (
                f"message {first} moved from {before:.0f} to {after:.0f} px on screen"
            )
            first = expected_first
    finally:
        page.close()


# -- two more engines: IBM Equal Access and HTML_CodeSniffer ------------------------------

IBM_ACE = PROJECT_ROOT / "tools" / "node_modules" / "accessibility-checker-engine" / "ace.js"
HTMLCS = PROJECT_ROOT / "tools" / "node_modules" / "html_codesniffer" / "build" / "HTMLCS.js"


@pytest.fixture(scope="session")
def second_engines() -> tuple[str, str]:
    for path in (IBM_ACE, HTMLCS):
        if not path.exists():
            skip_or_fail(f"no {path.name} at {path}; install it with `npm ci --prefix tools`")
    return IBM_ACE.read_text(), HTMLCS.read_text()


def ibm_violations(page: Page, source: str) -> list[str]:
    """IBM Equal Access (WCAG 2.2 A and AA rule set): every result it calls a violation."""
    if page.evaluate("typeof window.ace") == "undefined":
        page.evaluate(source)
    return page.evaluate(
        """async () => {
          const report = await new ace.Checker().check(document, ['WCAG_2_2'])
          return report.results
            .filter(r => r.value[0] === 'VIOLATION' && r.value[1] === 'FAIL')
            .map(r => `${r.ruleId} ${r.reasonId}: ${r.message} at ${r.path.dom}`)
        }"""
    )


def htmlcs_errors(page: Page, source: str) -> list[str]:
    """HTML_CodeSniffer, WCAG 2 AA: its errors (warnings and notices ask a person to look)."""
    if page.evaluate("typeof window.HTMLCS") == "undefined":
        page.evaluate(source)
    return page.evaluate(
        """() => new Promise(done => HTMLCS.process('WCAG2AA', document, () => done(
          HTMLCS.getMessages().filter(m => m.type === HTMLCS.ERROR)
            .map(m => `${m.code}: ${m.msg} at <${m.element.nodeName.toLowerCase()}`
                      + ` name=${m.element.getAttribute('name')}>`))))"""
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_ibm_equal_access_and_html_codesniffer_find_nothing(browser, world, second_engines, name):
    ibm_source, htmlcs_source = second_engines
    signed_in, go = PAGES[name]
    # A context of its own: the shared ones may have been signed in or out meanwhile.
    context = browser.new_context(
        **DESKTOP_DARK.context_args(),
        base_url=world.url,
        storage_state=world.alice.state if signed_in else None,
    )
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    try:
        go(page, world)
        found = ibm_violations(page, ibm_source) + htmlcs_errors(page, htmlcs_source)
        assert not found, f"{name} ({page.url}):\n" + "\n".join(found)
    finally:
        context.close()
