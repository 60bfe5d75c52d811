"""Settings: defaults, parsing, the generated secret key."""

from __future__ import annotations

import stat

import pytest

from vibechat.app import create_app
from vibechat.config import SETTINGS, ConfigError, database_url, load_settings, secret_key


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


def test_defaults_serve_on_localhost_8000_with_sqlite_in_the_instance_folder(tmp_path):
    settings = load_settings({"VIBECHAT_INSTANCE_PATH": str(tmp_path)})
    assert (settings["VIBECHAT_HOST"], settings["VIBECHAT_PORT"]) == ("127.0.0.1", 8000)
    assert database_url(settings) == f"sqlite+aiosqlite:///{tmp_path / 'vibechat.sqlite3'}"
    assert settings["VIBECHAT_LOG_FORMAT"] == "text"
    assert settings["VIBECHAT_REDIS_URL"] is None


def test_environment_values_are_parsed():
    settings = load_settings(
        {
            "VIBECHAT_PORT": "9000",
            "VIBECHAT_LOG_FORMAT": "json",
            "VIBECHAT_SECURE_COOKIES": "yes",
            "VIBECHAT_PUBLIC_ORIGINS": "https://a.example, https://b.example/",
            "VIBECHAT_DATABASE_URL": "postgresql+asyncpg://chat@db/chat",
        }
    )
    assert settings["VIBECHAT_PORT"] == 9000
    assert settings["VIBECHAT_LOG_FORMAT"] == "json"
    assert settings["VIBECHAT_SECURE_COOKIES"] is True
    assert settings["VIBECHAT_PUBLIC_ORIGINS"] == ("https://a.example", "https://b.example")
    assert database_url(settings) == "postgresql+asyncpg://chat@db/chat"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VIBECHAT_PORT", "eighty"),
        ("VIBECHAT_LOG_FORMAT", "xml"),
        ("VIBECHAT_SECURE_COOKIES", "maybe"),
    ],
)
def test_bad_values_name_the_setting(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


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


def test_the_app_reads_the_environment_and_the_callers_mapping_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("VIBECHAT_LOG_FORMAT", "json")
    monkeypatch.setenv("VIBECHAT_MAX_BODY_BYTES", "1000")
    app = create_app({"VIBECHAT_INSTANCE_PATH": str(tmp_path), "VIBECHAT_MAX_BODY_BYTES": 2000})
    assert app.config["VIBECHAT_LOG_FORMAT"] == "json"
    assert app.config["MAX_CONTENT_LENGTH"] == 2000
    assert (tmp_path / "secret_key").exists()
