"""vibechat/warmup.py: templates compiled and the startup heap frozen before serving."""

from __future__ import annotations

import gc

from tests.conftest import app_config
from vibechat import create_app


async def test_serving_starts_with_templates_compiled_and_the_heap_frozen(
    app_database_url, tmp_path
):
    app = create_app({**app_config(app_database_url, tmp_path), "TESTING": False})
    gc.unfreeze()
    try:
        async with app.test_app():
            assert gc.get_freeze_count() > 50_000  # Quart, SQLAlchemy, Jinja, vibechat
            cached = {key[1] for key in app.jinja_env.cache}
            assert set(app.jinja_env.list_templates()) <= cached
    finally:
        gc.unfreeze()  # give the rest of the test run its collector back


async def test_test_apps_leave_the_heap_alone(app_database_url, tmp_path):
    app = create_app(app_config(app_database_url, tmp_path))
    gc.unfreeze()
    async with app.test_app():
        assert gc.get_freeze_count() == 0
