"""The `vibechat` command in Russian (issue 16): it speaks the language of its
environment, as gettext programs do (LANGUAGE, else LC_ALL, else LC_MESSAGES, else
LANG), and English in the C locale or a language it lacks."""

from __future__ import annotations

import sqlite3

import pytest

from tests.support.cli import vibechat_cli, vibechat_process
from vibechat import i18n

RUSSIAN = {"LANG": "ru_RU.UTF-8"}
PASSWORD = "correct horse battery staple"


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


# -- the real command, as a process in a Russian locale ---------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """An instance folder with the demo people (set up in English, in this process)."""
    folder = tmp_path_factory.mktemp("instance")
    assert vibechat_cli("migrate", instance=folder).returncode == 0
    assert vibechat_cli("seed", instance=folder).returncode == 0
    return folder


def _help(*args: str, instance, **settings: str) -> str:
    """The help's words, whatever width argparse wraps them to."""
    result = vibechat_process(*args, "--help", instance=instance, **settings)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


@pytest.mark.slow
def test_help_speaks_russian_and_english_in_the_c_locale(tmp_path):
    russian = _help(instance=tmp_path, **RUSSIAN)
    assert "Групповой чат, страницы которого собираются на сервере." in russian
    assert "create-user Создать аккаунт; пароль читается из stdin" in russian
    assert "deactivate-user Отключить аккаунт: запретить вход" in russian
    english = _help(instance=tmp_path, LANG="C")
    assert "A server-rendered group chat." in english
    assert "create-user Create an account; the password is read" in english
    assert "Групповой" not in english
    command = _help("create-user", instance=tmp_path, **RUSSIAN)
    assert "Создать аккаунт;" in command
    assert "username имя пользователя (регистр не важен)" in command
    assert "DISPLAY_NAME имя, которое видят другие (по умолчанию — имя пользователя)" in command


@pytest.mark.slow
def test_what_a_command_did_is_said_in_russian(tmp_path):
    migrated = vibechat_process("migrate", instance=tmp_path, **RUSSIAN)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("База данных в актуальном состоянии: sqlite+aiosqlite://")
    created = vibechat_process(
        "create-user",
        "erin",
        "--display-name",
        "Эрин",
        instance=tmp_path,
        stdin=PASSWORD,
        **RUSSIAN,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "Аккаунт erin (Эрин) создан, можно входить.\n"
    # The same command in the C locale: English.
    english = vibechat_process("create-user", "finn", instance=tmp_path, stdin=PASSWORD, LANG="C")
    assert english.stdout == "Created finn (finn): they can sign in now.\n"


@pytest.mark.slow
def test_refusals_are_said_in_russian(tmp_path):
    unknown = vibechat_process("reactivate-user", "nobody", instance=tmp_path, **RUSSIAN)
    assert unknown.returncode == 1
    # Not migrated yet: said before any user is looked for.
    assert (
        unknown.stderr
        == "vibechat: схема базы данных устарела: сначала выполните `vibechat migrate`\n"
    )
    assert vibechat_process("migrate", instance=tmp_path).returncode == 0
    unknown = vibechat_process("reactivate-user", "nobody", instance=tmp_path, **RUSSIAN)
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == "vibechat: пользователя с именем 'nobody' нет\n"
    # The form's rules, with the field named in Russian.
    bad = vibechat_process("create-user", "a", instance=tmp_path, stdin=PASSWORD, **RUSSIAN)
    assert bad.returncode == 1
    assert bad.stderr.startswith("vibechat: имя пользователя: Нужно от 3 до 32 символов")
    # A bad setting: exit status 2, the setting and its range named in Russian.
    setting = vibechat_process("migrate", instance=tmp_path, VIBECHAT_WS_QUEUE="0", **RUSSIAN)
    assert setting.returncode == 2
    assert setting.stderr.splitlines() == [
        "vibechat: VIBECHAT_WS_QUEUE='0': ожидается целое число от 1 до 10000"
    ]
    # LANGUAGE comes first, and a list of preferences is read to the first we speak.
    preferred = vibechat_process(
        "reactivate-user", "nobody", instance=tmp_path, LANGUAGE="de:ru", LANG="en_US.UTF-8"
    )
    assert preferred.stderr == "vibechat: пользователя с именем 'nobody' нет\n"


def _add_sessions(instance, username: str, count: int) -> None:
    """`count` signed-in browsers of `username`, as the login would leave them."""
    with sqlite3.connect(instance / "vibechat.sqlite3") as database:
        (user,) = database.execute(
            "SELECT id FROM users WHERE username = ?", (username,)
        ).fetchone()
        database.executemany(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)"
            " VALUES (?, ?, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
            [(f"{username}-{n}".ljust(64, "0"), user) for n in range(count)],
        )
    database.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("username", "sessions", "said"),
    [
        ("alice", 1, "Аккаунт alice отключён, завершён 1 сеанс."),
        ("bob", 2, "Аккаунт bob отключён, завершено 2 сеанса."),
        ("carol", 5, "Аккаунт carol отключён, завершено 5 сеансов."),
    ],
)
def test_sessions_are_counted_in_russian_plural_forms(seeded, username, sessions, said):
    _add_sessions(seeded, username, sessions)
    result = vibechat_process("deactivate-user", username, instance=seeded, **RUSSIAN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [said]
    # Ended sessions, and no Redis to tell the server at once: the note, in Russian.
    assert result.stderr.startswith("vibechat: внимание: сервер не удалось известить сразу")
    assert "в течение 30 с" in result.stderr


@pytest.mark.slow
def test_rows_are_counted_in_russian_plural_forms(seeded, tmp_path):
    target = f"sqlite+aiosqlite:///{tmp_path / 'copy.sqlite3'}"
    copied = vibechat_process("copy-to", target, instance=seeded, **RUSSIAN)
    assert copied.returncode == 0, copied.stderr
    lines = copied.stdout.splitlines()
    assert "users: 4 строки" in lines  # alice, bob, carol, dave
    assert "messages: 7 строк" in lines  # the demo's Watercooler (6) and direct chat (1)
    assert lines[-1] == "Теперь укажите новую базу в VIBECHAT_DATABASE_URL и перезапустите сервер."


def test_every_russian_count_of_the_command_line_takes_three_forms():
    """1, 2-4 and 5-20 read differently, and 21 like 1."""
    with i18n.speaking("ru"):
        rows = [
            i18n.ngettext("%(table)s: %(num)d row", "%(table)s: %(num)d rows", n, table="users")
            for n in (1, 3, 5, 21)
        ]
    assert rows == ["users: 1 строка", "users: 3 строки", "users: 5 строк", "users: 21 строка"]
