"""Lighthouse (mobile defaults) gives the login and chat pages 100 for accessibility and
best practices: the same run as `make lighthouse`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import CHROMIUM, PROJECT_ROOT
from tests.support.services import skip_or_fail
from tools.lighthouse import LIGHTHOUSE, MUST_BE_PERFECT

pytestmark = pytest.mark.browser


def test_login_and_chat_pages_score_100_for_accessibility_and_best_practices():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is missing: apt-get install chromium")
    if not LIGHTHOUSE.exists():
        skip_or_fail("Lighthouse is missing: npm ci --prefix tools (make test does it)")
    run = subprocess.run(
        [sys.executable, "-m", "tools.lighthouse", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.stdout.strip(), f"Lighthouse printed no scores:\n{run.stderr}"
    scores = json.loads(run.stdout.strip().splitlines()[-1])
    print("\nLighthouse:", scores)
    for page in ("login", "chat"):
        for category in MUST_BE_PERFECT:
            assert scores[page][category] == 1, (page, category, scores[page])
    assert run.returncode == 0, run.stderr
