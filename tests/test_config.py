"""Settings: types, defaults, ranges, parsing, the generated secret key, the test hooks."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import subprocess
import sys

import pytest

from tests.support.app import app_config
from tests.support.cli import in_english
from tests.support.live import RecordingBroker
from tests.support.people import People, create_chat, send
from vibechat import forms
from vibechat.app import create_app
from vibechat.commands.cli import main
from vibechat.config import (
    PROJECT_ROOT,
    SETTINGS,
    SMALLEST_BODY,
    ConfigError,
    Settings,
    database_url,
    load_settings,
    secret_key,
)
from vibechat.i18n import LOCALE_VARIABLES
from vibechat.live import protocol

BOUNDED = [setting for setting in SETTINGS if setting.low is not None]
README = (PROJECT_ROOT / "README.md").read_text()


def test_every_setting_has_a_name_a_default_and_help():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.name.startswith("VIBECHAT_")
        assert setting.help.strip()


def test_the_contracted_settings_exist():
    names = {setting.name for setting in SETTINGS}
    assert {
        "VIBECHAT_HOST",
        "VIBECHAT_PORT",
        "VIBECHAT_DATABASE_URL",
        "VIBECHAT_SECRET_KEY",
        "VIBECHAT_REDIS_URL",
        "VIBECHAT_LOG_FORMAT",
    } <= names


def test_each_setting_is_one_field_of_the_settings_object_named_after_it():
    assert [f"VIBECHAT_{field.name.upper()}" for field in dataclasses.fields(Settings)] == [
        setting.name for setting in SETTINGS
    ]


def test_every_number_has_a_range():
    numbers = {field.name for field in dataclasses.fields(Settings) if field.type in {"int", int}}
    assert numbers == {setting.attribute for setting in BOUNDED}
    assert {setting.name for setting in BOUNDED} >= {
        "VIBECHAT_PORT",
        "VIBECHAT_WORKERS",
        "VIBECHAT_PROXY_HOPS",
        "VIBECHAT_SESSION_IDLE",
        "VIBECHAT_SESSION_LIFETIME",
        "VIBECHAT_MAX_MEMBERS",
        "VIBECHAT_WS_QUEUE",
        "VIBECHAT_WS_PER_SESSION",
        "VIBECHAT_WS_PER_PERSON",
        "VIBECHAT_GRACEFUL_TIMEOUT",
        "VIBECHAT_MAX_BODY_BYTES",
    }


def test_the_defaults_are_within_their_ranges():
    settings = Settings()
    for setting in BOUNDED:
        assert setting.low <= getattr(settings, setting.attribute) <= setting.high, setting.name


def test_defaults_serve_on_localhost_8000_with_sqlite_in_the_instance_folder(tmp_path):
    settings = load_settings({"VIBECHAT_INSTANCE_PATH": str(tmp_path)})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert database_url(settings) == f"sqlite+aiosqlite:///{tmp_path / 'vibechat.sqlite3'}"
    assert settings.log_format == "text"
    assert settings.redis_url is None


def test_environment_values_are_parsed():
    settings = load_settings(
        {
            "VIBECHAT_PORT": "9000",
            "VIBECHAT_LOG_FORMAT": "json",
            "VIBECHAT_SECURE_COOKIES": "yes",
            "VIBECHAT_PUBLIC_ORIGINS": "https://a.example, https://b.example/",
            "VIBECHAT_DATABASE_URL": "postgresql+asyncpg://chat@db/chat",
            "VIBECHAT_SESSION_IDLE": "30m",
            "VIBECHAT_WS_QUEUE": " 12 ",
        }
    )
    assert settings.port == 9000
    assert settings.log_format == "json"
    assert settings.secure_cookies is True
    assert settings.public_origins == ("https://a.example", "https://b.example")
    assert database_url(settings) == "postgresql+asyncpg://chat@db/chat"
    assert settings.session_idle == 1800
    assert settings.ws_queue == 12


def test_an_empty_variable_means_the_default():
    assert load_settings({"VIBECHAT_PORT": "", "VIBECHAT_REDIS_URL": ""}) == load_settings({})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VIBECHAT_PORT", "eighty"),
        ("VIBECHAT_PORT", "80.5"),
        ("VIBECHAT_PORT", "٨٠"),  # Arabic-Indic digits: int() would take them
        ("VIBECHAT_LOG_FORMAT", "xml"),
        ("VIBECHAT_SECURE_COOKIES", "maybe"),
        ("VIBECHAT_RATE_LIMITS", "sometimes"),
        ("VIBECHAT_SESSION_IDLE", "two weeks"),
        ("VIBECHAT_LIMIT_MESSAGES", "lots"),
        ("VIBECHAT_WS_COMPRESSION", "max"),
    ],
)
def test_bad_values_name_the_setting(name, value):
    with pytest.raises(ConfigError, match=name) as refused:
        load_settings({name: value})
    assert "\n" not in str(refused.value)
    assert repr(value) in str(refused.value)


# -- ranges --------------------------------------------------------------------------------


def spelled(setting, number: int) -> str:
    """How an operator would write it: seconds for a duration, digits for the rest."""
    return f"{number}s" if setting.duration else str(number)


def edges(setting) -> list[tuple[int, bool]]:
    """The values at and just past each end of the range, and whether each is allowed."""
    return [
        (setting.low - 1, False),
        (setting.low, True),
        (setting.high, True),
        (setting.high + 1, False),
    ]


@pytest.mark.parametrize("setting", BOUNDED, ids=lambda setting: setting.name)
def test_each_range_takes_its_ends_and_refuses_one_past_them(setting):
    for number, allowed in edges(setting):
        environ = {setting.name: spelled(setting, number)}
        if allowed:
            assert getattr(load_settings(environ), setting.attribute) == number
        else:
            with pytest.raises(ConfigError) as refused:
                load_settings(environ)
            message = str(refused.value)
            assert message.startswith(f"{setting.name}=")
            assert setting.allowed in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        # Each of these was accepted before, and did something nobody wanted.
        ("VIBECHAT_WS_QUEUE", "0", "1 to 10000"),  # an unbounded queue: no slow-client guard
        ("VIBECHAT_WS_QUEUE", "-5", "1 to 10000"),
        ("VIBECHAT_MAX_BODY_BYTES", "-1", "49152 to 1048576"),
        ("VIBECHAT_MAX_BODY_BYTES", "1000", "49152 to 1048576"),  # a message form gets 413
        ("VIBECHAT_PROXY_HOPS", "-3", "0 to 5"),
        ("VIBECHAT_PORT", "0", "1 to 65535"),
        ("VIBECHAT_PORT", "70000", "1 to 65535"),
        ("VIBECHAT_SESSION_LIFETIME", "0", "1s to 400d"),
        ("VIBECHAT_SESSION_IDLE", "401d", "1s to 400d"),  # longer than a browser keeps a cookie
        ("VIBECHAT_MAX_MEMBERS", "1", "2 to 10000"),  # nobody could be added to a chat
    ],
)
def test_values_that_used_to_slip_through_are_refused(name, value, allowed):
    with pytest.raises(ConfigError) as refused:
        load_settings({name: value})
    assert str(refused.value).startswith(f"{name}={value!r}: must be ")
    assert allowed in str(refused.value)


@pytest.mark.parametrize("setting", BOUNDED, ids=lambda setting: setting.name)
def test_a_value_from_code_is_checked_too(setting):
    for number, allowed in edges(setting):
        if allowed:
            assert getattr(Settings(**{setting.attribute: number}), setting.attribute) == number
            continue
        with pytest.raises(ConfigError, match=f"^{setting.name}={number}: must be "):
            load_settings({}, {setting.name: number})
        with pytest.raises(ConfigError, match=setting.name):
            dataclasses.replace(Settings(), **{setting.attribute: number})
    with pytest.raises(ConfigError, match=setting.name):
        Settings(**{setting.attribute: True})  # a bool is an int to Python, not to us


def test_the_settings_cannot_change_once_made():
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.ws_queue = 0


def test_an_unknown_override_is_refused_not_ignored():
    with pytest.raises(ConfigError, match=r"^LIVE_BROKER: no such setting$"):
        load_settings({}, {"LIVE_BROKER": object()})


def test_the_compression_choices_are_the_protocols_modes():
    [setting] = [setting for setting in SETTINGS if setting.name == "VIBECHAT_WS_COMPRESSION"]
    assert setting.choices == protocol.MODES


def test_secrets_stay_out_of_the_settings_repr():
    settings = load_settings(
        {
            "VIBECHAT_SECRET_KEY": "key-material",
            "VIBECHAT_METRICS_TOKEN": "scrape-token",
            "VIBECHAT_DATABASE_URL": "postgresql+asyncpg://chat:db-password@db/chat",
            "VIBECHAT_REDIS_URL": "redis://:redis-password@cache:6379/0",
        }
    )
    shown = repr(settings)
    for secret in ("key-material", "scrape-token", "db-password", "redis-password"):
        assert secret not in shown
    assert "ws_queue=256" in shown


def test_the_readme_gives_each_range_and_choice_as_the_code_has_it():
    rows = {}
    for line in README.splitlines():
        found = re.match(r"^\| `(VIBECHAT_[A-Z_]+)` \|", line)
        if found:
            rows[found[1]] = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    assert set(rows) == {setting.name for setting in SETTINGS}
    for setting in SETTINGS:
        if setting.low is not None or setting.choices:
            assert rows[setting.name][2] == setting.allowed, setting.name


def test_the_smallest_body_limit_takes_the_largest_message_form():
    # Every character 4 bytes of UTF-8, each byte percent-encoded as three.
    assert forms.BODY_MAX * 4 * 3 + 512 <= SMALLEST_BODY


async def test_the_largest_message_posts_at_the_smallest_body_limit(app_database_url, tmp_path):
    settings = app_config(app_database_url, tmp_path, VIBECHAT_MAX_BODY_BYTES=SMALLEST_BODY)
    app = create_app(settings, testing=True)
    async with app.test_app():
        alice = await People(app)("alice")
        chat = await create_chat(alice, "Emoji")
        response = await send(alice, chat, "🦜" * forms.BODY_MAX, client_token="a" * 32)
        assert response.status_code == 303
        assert (await send(alice, chat, "x" * (SMALLEST_BODY + 1))).status_code == 413


# -- where start-up stops ------------------------------------------------------------------


def test_the_app_reads_the_environment_and_the_callers_mapping_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("VIBECHAT_LOG_FORMAT", "json")
    monkeypatch.setenv("VIBECHAT_MAX_BODY_BYTES", "100000")
    app = create_app(
        load_settings(
            overrides={"VIBECHAT_INSTANCE_PATH": str(tmp_path), "VIBECHAT_MAX_BODY_BYTES": 200000}
        )
    )
    assert app.extensions["settings"].log_format == "json"
    assert app.config["MAX_CONTENT_LENGTH"] == 200000
    assert (tmp_path / "secret_key").exists()


def test_no_setting_is_kept_in_the_quart_config(tmp_path):
    app = create_app(app_config("sqlite+aiosqlite:///unused.sqlite3", tmp_path), testing=True)
    assert [key for key in app.config if key.startswith(("VIBECHAT_", "LIVE_"))] == []


@pytest.mark.parametrize("setting", BOUNDED, ids=lambda setting: setting.name)
def test_create_app_stops_on_a_value_out_of_range(setting, monkeypatch, tmp_path):
    monkeypatch.setenv("VIBECHAT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(setting.name, spelled(setting, setting.high + 1))
    with pytest.raises(ConfigError, match=f"^{setting.name}="):
        create_app()
    assert list(tmp_path.iterdir()) == []  # stopped before writing a secret key


@pytest.mark.parametrize("command", ["migrate", "serve", "seed", "backup"])
@pytest.mark.parametrize("setting", BOUNDED, ids=lambda setting: setting.name)
def test_commands_stop_on_a_value_out_of_range(setting, command, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("VIBECHAT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(setting.name, spelled(setting, setting.low - 1))
    for name in LOCALE_VARIABLES:  # the refusal in English, whatever the shell speaks
        monkeypatch.delenv(name, raising=False)
    argv = [command, str(tmp_path / "copy.sqlite3")] if command == "backup" else [command]
    assert main(argv) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"vibechat: {setting.name}=") and setting.allowed in line
    assert list(tmp_path.iterdir()) == []  # nothing was created or migrated


def test_migrate_takes_every_range_at_its_ends(monkeypatch, capsys, tmp_path):
    for end in ("low", "high"):
        for setting in BOUNDED:
            monkeypatch.setenv(setting.name, spelled(setting, getattr(setting, end)))
        monkeypatch.setenv("VIBECHAT_INSTANCE_PATH", str(tmp_path / end))
        assert main(["migrate"]) == 0, capsys.readouterr().err
        assert (tmp_path / end / "vibechat.sqlite3").exists()


@pytest.mark.slow  # hypercorn as a process
def test_hypercorn_stops_with_one_line_on_a_value_out_of_range(tmp_path):
    # The config module that `vibechat serve` and the Procfile hand hypercorn.
    env = {k: v for k, v in in_english(os.environ).items() if not k.startswith("VIBECHAT_")}
    env.update(VIBECHAT_INSTANCE_PATH=str(tmp_path), VIBECHAT_WS_QUEUE="0")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "--config",
            "python:vibechat.hypercorn_config",
            "--bind",
            "127.0.0.1:0",
            "vibechat.app:create_app()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "vibechat: VIBECHAT_WS_QUEUE='0': must be a whole number from 1 to 10000"
    ]


# -- the secret key ------------------------------------------------------------------------


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    settings = load_settings({"VIBECHAT_INSTANCE_PATH": str(tmp_path)})
    first = secret_key(settings)
    second = secret_key(settings)
    path = tmp_path / "secret_key"
    assert first == second and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_configured_secret_key_wins_and_nothing_is_written(tmp_path):
    settings = load_settings(
        {"VIBECHAT_INSTANCE_PATH": str(tmp_path), "VIBECHAT_SECRET_KEY": "from-the-environment"}
    )
    assert secret_key(settings) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


# -- what tests and benchmarks may change, as create_app's keywords ------------------------


async def test_an_app_is_not_a_test_app_unless_asked(app_database_url, tmp_path):
    served = create_app(app_config(app_database_url, tmp_path / "served"))
    tested = create_app(app_config(app_database_url, tmp_path / "tested"), testing=True)
    assert (served.testing, tested.testing) == (False, True)
    served_hasher = served.extensions["password_hasher"]
    tested_hasher = tested.extensions["password_hasher"]
    assert tested_hasher.memory_cost < served_hasher.memory_cost


async def test_the_broker_given_is_the_one_the_app_publishes_through(app_database_url, tmp_path):
    broker = RecordingBroker()
    app = create_app(app_config(app_database_url, tmp_path), testing=True, broker=broker)
    async with app.test_app():
        assert app.extensions["live"].broker is broker
        alice = await People(app)("alice")
        chat = await create_chat(alice, "Recorded")
        await send(alice, chat, "hello")
        assert broker.published
