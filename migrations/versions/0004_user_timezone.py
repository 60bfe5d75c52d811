"""users.timezone: the time zone a person chose (POST /account/timezone).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: nobody has chosen yet, so the browser's zone applies, and
    # no row is rewritten. 64 characters: the longest IANA name has 32.
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("timezone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("timezone")
