"""Copy every row from one database to another: moving a SQLite install to PostgreSQL.

`vibechat copy-to URL` migrates the target first; it must be empty. Rows keep their
ids, so links to chats and messages still work; on PostgreSQL the id sequences are
moved past the copied ids afterwards. One transaction on the target: a failure
leaves it empty.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat.i18n import _
from vibechat.models import Base

BATCH = 1000


class TransferError(RuntimeError):
    """The target cannot take the copy (not empty, not migrated)."""


async def copy_database(source_url: str, target_url: str) -> dict[str, int]:
    """Copy all rows; return how many per table."""
    source = create_async_engine(source_url)
    target = create_async_engine(target_url)
    copied: dict[str, int] = {}
    try:
        async with source.connect() as reading, target.begin() as writing:
            for table in Base.metadata.sorted_tables:  # parents before children
                already = await writing.scalar(select(func.count()).select_from(table))
                if already:
                    raise TransferError(
                        _(
                            "the target already has rows in %(table)s: copy into an empty,"
                            " freshly migrated database",
                            table=table.name,
                        )
                    )
            for table in Base.metadata.sorted_tables:
                copied[table.name] = 0
                result = await reading.stream(select(table).order_by(*table.primary_key))
                async for rows in result.mappings().partitions(BATCH):
                    await writing.execute(table.insert(), [dict(row) for row in rows])
                    copied[table.name] += len(rows)
            if target.dialect.name == "postgresql":
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c and table.c.id.primary_key:
                        # Next ids continue after the copied ones.
                        highest = await writing.scalar(select(func.max(table.c.id)))
                        await writing.execute(
                            text(
                                "SELECT setval(pg_get_serial_sequence(:table, 'id'), :next, false)"
                            ),
                            {"table": table.name, "next": (highest or 0) + 1},
                        )
    finally:
        await source.dispose()
        await target.dispose()
    return copied
