"""queue counters by class: priority tickets issued and called per queue

Revision ID: b7e4c2a9d015
Revises: a1d17c0f3e21
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e4c2a9d015"
down_revision: str | None = "a1d17c0f3e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        for column in ("priority_issued", "priority_called"):
            batch_op.add_column(
                sa.Column(column, sa.Integer(), server_default=sa.text("0"), nullable=False)
            )
    # A queue's priority tickets so far; those no longer waiting were called once each.
    same_queue = (
        "tickets.session_id = queues.session_id AND tickets.service = queues.service"
        " AND tickets.priority"
    )
    op.execute(
        f"UPDATE queues SET priority_issued = (SELECT count(*) FROM tickets WHERE {same_queue})"
    )
    op.execute(
        "UPDATE queues SET priority_called = (SELECT count(*) FROM tickets"
        f" WHERE {same_queue} AND tickets.status <> 'waiting')"
    )


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("priority_called")
        batch_op.drop_column("priority_issued")
