"""trigram index on message text (PostgreSQL)

The inbox's free-text search is a substring match, `messages.text ILIKE '%word%'`,
which no B-tree can serve: at a million messages every search read the whole table
(0.6-0.8 s on PostgreSQL). A GIN index with pg_trgm's `gin_trgm_ops` answers ILIKE
from the trigrams of the search text (three characters or more; a shorter text
still scans): 10-120 ms (benchmarks/console.py, docs/benchmarks.md#console).

PostgreSQL only: SQLite has no such index (it scans, 0.4-0.8 s at a million
messages), so there this migration does nothing; the model declares the index with
`ddl_if(dialect="postgresql")`. The extension goes to `public` unless it is
installed already (then its schema is used); `CREATE EXTENSION` needs a superuser or
the database owner (pg_trgm is a trusted extension). Building the index blocks
writes to `messages` while it runs (17-32 s per million rows here). The downgrade
keeps the extension: other objects may use it.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_messages_text_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    schema = bind.scalar(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension "
            "WHERE extname = 'pg_trgm'"
        )
    )
    op.execute(
        f"CREATE INDEX {INDEX} ON messages USING gin (text {schema}.gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="messages")
