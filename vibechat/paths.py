"""Where the app's own files are (templates/, static/, migrations/, translations/) and
where its state goes.

In a checkout the four folders sit at the repository root, beside the package (SPEC
§1), and an editable install (`make run`, tests) uses them there. A wheel or a plain
`pip install .` has no repository around it, so pyproject.toml maps them into the
package (vibechat/templates/, vibechat/static/, vibechat/migrations/,
vibechat/translations/). Everything that needs one of them asks this module, so both
cases take the same path through the code.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# An installed package carries migrations/ inside it; a checkout's package does not.
INSTALLED = (PACKAGE / "migrations").is_dir()
# The repository this code runs from; None when it was installed from a wheel.
CHECKOUT: Path | None = None if INSTALLED else PACKAGE.parent

_FILES = PACKAGE if INSTALLED else PACKAGE.parent
TEMPLATES = _FILES / "templates"
STATIC = _FILES / "static"
MIGRATIONS = _FILES / "migrations"
TRANSLATIONS = _FILES / "translations"


def default_instance() -> Path:
    """The folder for local state when VIBECHAT_INSTANCE_PATH is not set: instance/ in the
    checkout, or, installed, instance/ under the working directory (never inside
    site-packages, which a reinstall replaces and a service user may not write to)."""
    return (CHECKOUT or Path.cwd()) / "instance"
