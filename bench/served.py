"""The real app as the benchmark serves it: vibechat, plus the probe (bench/probe.py).

Settings come from the environment, as for `vibechat serve`; bench/scenarios.py sets
the database, the secret key and VIBECHAT_RATE_LIMITS=off.
"""

from bench import probe
from vibechat.app import create_app

app = create_app()
probe.install(app)
