"""Two checkers over saved or served pages, each run once for many pages:

- the W3C Nu HTML Checker (npm `vnu-jar`, on Java 17): `vnu_errors(files)` runs one JVM
  over every file and says, per file, what is not valid HTML;
- HTML_CodeSniffer through pa11y (WCAG 2 AA), on Debian's Chromium: `pa11y_issues(pages)`
  runs one Node process (tests/support/pa11y_pages.js) and one browser over every page.

Both come from tools/ (`npm ci --prefix tools --ignore-scripts`, which `make test` runs).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT
from tests.support.services import skip_or_fail

TOOLS = PROJECT_ROOT / "tools" / "node_modules"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
PA11Y = TOOLS / "pa11y" / "package.json"
PA11Y_PAGES = Path(__file__).with_name("pa11y_pages.js")
# Deadlines, not waits: a page takes pa11y a second or two, vnu a few seconds in all,
# but make test runs several processes on two cores.
PAGE_TIMEOUT_MS = 60_000
RUN_TIMEOUT = 600


def need(program: str, hint: str) -> str:
    path = shutil.which(program)
    if path is None:
        skip_or_fail(f"no {program} on PATH; {hint}")
    return path


def vnu_errors(files: list[Path]) -> dict[Path, list[str]]:
    """Every file's errors from one run of the Nu HTML Checker ({} when all are valid)."""
    java = need("java", "install Java 17 (apt-get install openjdk-17-jre-headless)")
    if not VNU_JAR.exists():
        skip_or_fail(f"no vnu.jar at {VNU_JAR}; install it with `npm ci --prefix tools`")
    run = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout"]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    try:
        messages = json.loads(run.stdout)["messages"]
    except (ValueError, KeyError) as error:
        raise AssertionError(
            f"vnu said no JSON (exit {run.returncode}): {run.stdout[:500]} {run.stderr[:2000]}"
        ) from error
    found: dict[Path, list[str]] = {}
    by_url = {path.resolve().as_uri(): path for path in files}
    for message in messages:
        # "error", and "non-document-error" (a file it could not read): both count.
        if message.get("type") == "info":
            continue
        url = message.get("url", "")
        path = by_url.get(url) or by_url.get(url.replace("file:/", "file:///", 1))
        where = f"line {message.get('lastLine', '?')}"
        extract = " ".join(message.get("extract", "").split())[:160]
        found.setdefault(path or Path(url), []).append(
            f"{where}: {message.get('message')} [{extract}]"
        )
    if run.returncode != 0 and not found:
        raise AssertionError(f"vnu failed (exit {run.returncode}): {run.stderr[:2000]}")
    return found


@dataclass
class Pa11yPage:
    """One page for pa11y: its address, the cookies to send, pa11y's actions to run."""

    name: str
    url: str
    cookies: list[dict] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


@dataclass
class Pa11yResult:
    name: str
    url: str
    title: str
    issues: list[dict]

    def of_type(self, kind: str) -> list[str]:
        return [
            f"{issue['code']}: {issue['message']} at {issue['selector']}"
            f" [{' '.join(issue['context'].split())[:160]}]"
            for issue in self.issues
            if issue["type"] == kind
        ]

    @property
    def errors(self) -> list[str]:
        return self.of_type("error")

    @property
    def warnings(self) -> list[str]:
        return self.of_type("warning")


def pa11y_issues(pages: list[Pa11yPage]) -> list[Pa11yResult]:
    """HTML_CodeSniffer's errors and warnings on every page, from one Node and one
    Chromium (headless, no sandbox, offline as the other browser tests)."""
    node = need("node", "install Node.js 20")
    if not PA11Y.exists():
        skip_or_fail(f"no pa11y at {PA11Y.parent}; install it with `npm ci --prefix tools`")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM}; install it with `apt-get install chromium`")
    job = {
        "chromium": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "timeout": PAGE_TIMEOUT_MS,
        "pages": [page.__dict__ for page in pages],
    }
    run = subprocess.run(
        [node, str(PA11Y_PAGES)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert run.returncode == 0, f"pa11y failed (exit {run.returncode}):\n{run.stderr[-3000:]}"
    return [Pa11yResult(**result) for result in json.loads(run.stdout)]
