"""The `vibechat` command in Russian (issue 16): it speaks the language of its
environment, as gettext programs do (LANGUAGE, else LC_ALL, else LC_MESSAGES, else
LANG), and English in the C locale or a language it lacks."""

from __future__ import annotations

import pytest

from vibechat import i18n


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "ru"}, "ru"),
        ({"LANG": "ru_UA.KOI8-U@euro"}, "ru"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),  # a language we lack: English
        ({"LANG": "en_US.UTF-8"}, "en"),
        # The first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set decides alone.
        ({"LC_MESSAGES": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LC_ALL": "ru_RU.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "ru"),
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANGUAGE": "ru", "LC_ALL": "en_US.UTF-8"}, "ru"),
        ({"LANGUAGE": "en", "LC_ALL": "ru_RU.UTF-8"}, "en"),
        ({"LANGUAGE": "", "LANG": "ru_RU.UTF-8"}, "ru"),  # set but empty: not set
        # LANGUAGE is a list of preferences: its first entry that we speak.
        ({"LANGUAGE": "ru:en"}, "ru"),
        ({"LANGUAGE": "de:ru_RU:en"}, "ru"),
        ({"LANGUAGE": "de", "LANG": "ru_RU.UTF-8"}, "en"),  # as gettext: LANG is not asked
    ],
)
def test_the_command_lines_language_comes_from_the_locale_variables(environ, expected):
    assert i18n.from_environment(environ) == expected
