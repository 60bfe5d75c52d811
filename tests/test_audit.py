"""The supply-chain wrapper (tools/audit.py) fails on findings and never passes quietly."""

from __future__ import annotations

from tools.audit import dependency_verdict

CLEAN = {"name": "quart", "version": "0.20.0", "vulns": []}
SKIPPED = {"name": "left-pad", "skip_reason": "Dependency not found on PyPI"}
VULNERABLE = {
    "name": "jinja2",
    "version": "2.10",
    "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["2.10.1"], "description": "sandbox escape"}],
}


def test_a_known_vulnerability_fails_whatever_else():
    verdict = dependency_verdict({"dependencies": [CLEAN, VULNERABLE]}, required=False)
    assert not verdict.ok
    assert "jinja2 2.10: GHSA-xxxx (fixed in 2.10.1)" in verdict.message


def test_a_clean_audit_passes_and_says_how_much_it_looked_at():
    verdict = dependency_verdict({"dependencies": [CLEAN, CLEAN, SKIPPED]}, required=True)
    assert verdict.ok
    assert verdict.message == (
        "pip-audit: 2 packages audited, no known vulnerabilities (1 could not be looked up)"
    )


def test_an_audit_that_looked_up_nothing_says_so_and_fails_when_required():
    report = {"dependencies": [SKIPPED, SKIPPED]}
    relaxed = dependency_verdict(report, required=False)
    assert relaxed.ok and "NOT AUDITED" in relaxed.message
    assert not dependency_verdict(report, required=True).ok
