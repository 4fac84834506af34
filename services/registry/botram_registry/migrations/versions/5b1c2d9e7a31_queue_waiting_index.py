"""queue counters: tickets called per queue, and an index of waiting tickets by queue

Revision ID: 5b1c2d9e7a31
Revises: 70f004d9e334
Create Date: 2026-11-27 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1c2d9e7a31"
down_revision: str | None = "70f004d9e334"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("called", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    # Every ticket that is no longer waiting was called from its queue once.
    op.execute(
        "UPDATE queues SET called = (SELECT count(*) FROM tickets"
        " WHERE tickets.session_id = queues.session_id AND tickets.service = queues.service"
        " AND tickets.status <> 'waiting')"
    )
    op.create_index(
        "ix_tickets_queue_waiting", "tickets", ["session_id", "service", "status", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_queue_waiting", table_name="tickets")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("called")
