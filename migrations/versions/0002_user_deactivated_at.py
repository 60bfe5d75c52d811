"""users.deactivated_at: accounts an administrator has closed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: existing accounts stay active, and no row is rewritten.
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # On SQLite batch mode copies the table without the column; foreign keys are off
    # while it does (vibechat.schema), so no session or message goes with the old table.
    with op.batch_alter_table("users") as users:
        users.drop_column("deactivated_at")
