"""inbox keyset index

The console's inbox pages through conversations in (needs_attention, last_message_at,
id) order; with id in the index PostgreSQL seeks straight to any page (0.1 ms instead
of a 170 ms scan at 100,000 conversations).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_inbox",
            ["needs_attention", "last_message_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_inbox")
