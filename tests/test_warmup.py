"""vibechat/warmup.py: templates compiled and the collector tuned before serving."""

from __future__ import annotations

import gc

from tests.support.app import app_config
from vibechat.app import create_app
from vibechat.warmup import GC_THRESHOLDS


async def test_serving_starts_with_templates_compiled_and_the_collector_tuned(
    app_database_url, tmp_path
):
    app = create_app(app_config(app_database_url, tmp_path))  # testing=False: as served
    thresholds = gc.get_threshold()
    try:
        async with app.test_app():
            assert gc.get_threshold() == GC_THRESHOLDS != thresholds
            cached = {key[1] for key in app.jinja_env.cache}
            assert set(app.jinja_env.list_templates()) <= cached
    finally:
        gc.set_threshold(*thresholds)  # the rest of the test run keeps Python's own


async def test_test_apps_leave_the_collector_alone(app_database_url, tmp_path):
    app = create_app(app_config(app_database_url, tmp_path), testing=True)
    thresholds = gc.get_threshold()
    async with app.test_app():
        assert gc.get_threshold() == thresholds
