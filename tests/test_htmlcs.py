"""HTML_CodeSniffer through pa11y (WCAG 2 AA) finds no error on any page.

pa11y drives a browser of its own (puppeteer, on Debian's Chromium): one Node process
and one Chromium go over every page that the accessibility checks visit
(tests/support/pages.py: PATHS, and FORM_STEPS for a form's answer), signed in by
alice's session cookie where the page needs it. Its warnings are counted on the
terminal: they ask a person to look (most are "check the contrast of this text", which
it cannot compute for text over a background image or for visually hidden text).

Needs Node, pa11y (`npm ci --prefix tools`, which `make test` runs) and /usr/bin/chromium;
skipped without them outside CI and failed in CI.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.support.checkers import Pa11yPage, Pa11yResult, pa11y_issues
from tests.support.pages import BEYOND_PA11Y, FORM_STEPS, PAGES, PATHS, World, made_world
from tests.support.report import report
from tests.support.servers import ServerFailed, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(playwright, chromium_executable, tmp_path_factory) -> Iterator[World]:
    try:
        instance = tmp_path_factory.mktemp("pa11y-instance")
        with live_server(instance) as url, made_world(playwright, url) as made:
            yield made
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


def cookies(world: World) -> list[dict]:
    return [
        {"name": cookie["name"], "value": cookie["value"]}
        for cookie in world.alice.state["cookies"]
    ]


def assert_no_errors(results: list[Pa11yResult]) -> None:
    failed = [result for result in results if result.errors]
    assert not failed, "HTML_CodeSniffer found errors:\n" + "\n".join(
        f"{result.name} ({result.url}):\n    " + "\n    ".join(result.errors) for result in failed
    )


def test_every_page_has_a_pa11y_address():
    assert set(PATHS) == set(PAGES) - BEYOND_PA11Y
    assert set(FORM_STEPS) <= set(PATHS)


def test_html_codesniffer_through_pa11y_finds_no_error_on_any_page(world, request):
    pages = [
        Pa11yPage(
            name,
            world.url + PATHS[name](world),
            cookies(world) if signed_in else [],
            FORM_STEPS.get(name, []),
        )
        for name, (signed_in, _) in PAGES.items()
        if name in PATHS
    ]
    results = pa11y_issues(pages)
    assert [result.name for result in results] == list(PATHS)
    # The form pages really are the form's answer: the title says there was an error.
    answers = {result.name: result.title for result in results if result.name in FORM_STEPS}
    assert all(title.startswith("Error: ") for title in answers.values()), answers
    assert_no_errors(results)
    warnings = Counter(
        warning.split(":")[0].rsplit(".", 1)[-1] for r in results for warning in r.warnings
    )
    report(request, f"HTML_CodeSniffer over {len(results)} pages: 0 errors, warnings {warnings}")


# -- the harness: it must see an error when there is one ----------------------------------

VALID = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fine</title></head>
<body><main><h1>Fine</h1><form><label for="q">Search</label>
<input id="q" name="q"><button>Search</button></form></main></body></html>
"""
# A field with no accessible name (what HTML_CodeSniffer once found on the password page).
BROKEN = VALID.replace('<label for="q">Search</label>', "")


def test_the_pa11y_run_reports_the_errors_of_a_broken_page_and_passes_a_valid_one(tmp_path):
    (tmp_path / "valid.html").write_text(VALID)
    (tmp_path / "broken.html").write_text(BROKEN)
    results = pa11y_issues(
        [Pa11yPage(name, (tmp_path / f"{name}.html").as_uri()) for name in ("valid", "broken")]
    )
    valid, broken = results
    assert valid.errors == [], valid.errors
    assert any(".F68" in error or "H91" in error for error in broken.errors), broken.errors
    with pytest.raises(AssertionError, match="broken"):
        assert_no_errors(results)
    assert_no_errors([valid])
