"""The app under test: its settings. (The `app` fixture itself is in tests/conftest.py.)"""

from __future__ import annotations

from pathlib import Path

from vibechat.config import Settings, load_settings

TEST_SECRET = "test-secret-key-not-for-production"


def app_config(url: str, instance: Path, **extra) -> Settings:
    """Settings for a test's app (extra: VIBECHAT_* overrides). Tests post and sign in
    at machine speed, so rate limits are off unless a test (tests/test_rate_limits.py)
    turns them on with VIBECHAT_RATE_LIMITS=True; the heartbeat is slow
    (tests/test_heartbeat.py sets its own). Pass the app testing=True too."""
    return load_settings(
        overrides={
            "VIBECHAT_DATABASE_URL": url,
            "VIBECHAT_INSTANCE_PATH": str(instance),
            "VIBECHAT_SECRET_KEY": TEST_SECRET,
            "VIBECHAT_RATE_LIMITS": False,
            # The heartbeat's empty frame, at whatever moment its timer falls, is only
            # noise to a test that reads frames one by one; the tests about it set it short.
            "VIBECHAT_WS_HEARTBEAT": 300,
            **extra,
        }
    )
