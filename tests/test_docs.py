"""The README tells the truth: every setting and both commands are in it."""

from __future__ import annotations

import re

from vibechat.config import PROJECT_ROOT, SETTINGS

README = (PROJECT_ROOT / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    missing = [setting.name for setting in SETTINGS if f"`{setting.name}`" not in README]
    assert missing == []


def test_the_operations_guide_names_every_setting():
    guide = (PROJECT_ROOT / "docs" / "operations.md").read_text()
    missing = [setting.name for setting in SETTINGS if f"`{setting.name}" not in guide]
    assert missing == []


def test_the_settings_table_lists_no_setting_that_does_not_exist():
    documented = set(re.findall(r"^\| `(VIBECHAT_[A-Z_]+)`", README, flags=re.MULTILINE))
    assert documented
    assert documented - {setting.name for setting in SETTINGS} == set()


def test_the_readme_starts_with_the_two_commands():
    first_screen = README[:2500]
    assert "make run" in first_screen and "make test" in first_screen
