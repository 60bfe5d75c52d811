"""Before serving: compile every template, then freeze the heap the process starts with.

CPython's cyclic garbage collector stops the event loop while it runs, and a full
collection walks every tracked object. The app starts with about 110,000 of them
(Quart, SQLAlchemy, Jinja, our modules), which alone cost about 50 ms per full
collection on a development machine here: a 50 ms stall for every socket at that
moment. gc.freeze() moves them out of the collector's sight (they live as long as the
process anyway). Templates are compiled first, so that their code objects are frozen
too instead of being created on the first page view. docs/performance.md has figures.
"""

from __future__ import annotations

import gc

from quart import Quart


def init_warmup(app: Quart) -> None:
    if app.config.get("TESTING"):
        # The test suite starts hundreds of apps in one process: frozen, the cycles of
        # each would stay for good. tests/test_warmup.py starts one without TESTING.
        return

    @app.before_serving
    async def warm_up() -> None:
        for name in app.jinja_env.list_templates():
            app.jinja_env.get_template(name)
        gc.collect()  # what startup left as garbage goes now, not into the frozen set
        gc.freeze()
