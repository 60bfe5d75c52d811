"""axe-core in a page of real Chromium: the rules every accessibility check runs, and
the one assertion (no violation, and the rules that matter did run)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.servers import PROJECT_ROOT
from tests.support.services import skip_or_fail

AXE = PROJECT_ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_script() -> str:
    """axe.min.js (`npm ci --prefix tools`); skipped without it outside CI, failed in CI."""
    if not AXE.exists():
        skip_or_fail(f"no axe-core at {AXE}; install it with `npm ci --prefix tools`")
    return AXE.read_text()


def run_axe(page: Page, axe_source: str) -> dict:
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(axe_source)  # evaluate is not bound by the page's CSP; a script tag is
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                      resultTypes: ['violations']})""",
        AXE_TAGS,
    )


def axe_report(result: dict) -> str:
    lines = []
    for violation in result["violations"]:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' > '.join(map(str, node['target']))}: {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    ... and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def assert_axe_clean(page: Page, axe_source: str, label: str) -> None:
    result = run_axe(page, axe_source)
    ran = {rule["id"] for kind in ("passes", "violations", "incomplete") for rule in result[kind]}
    assert "target-size" in ran, f"{label}: axe did not check target sizes (WCAG 2.2 AA)"
    assert "color-contrast" in ran, f"{label}: axe did not check colour contrast"
    assert not result["violations"], (
        f"{label} ({page.url}): {len(result['violations'])} axe violation(s)\n" + axe_report(result)
    )
