"""ticket status codes: an unguessable code per ticket for its public status page (/t/{code})

Revision ID: c3f1a7d2e8b4
Revises: b7e4c2a9d015
Create Date: 2026-12-02 04:20:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3f1a7d2e8b4"
down_revision: str | None = "b7e4c2a9d015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_code", sa.String(length=32), nullable=True))
    # Tickets issued before this revision get a code of their own (random, like new ones).
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM tickets"))]
    for ticket_id in ids:
        connection.execute(
            sa.text("UPDATE tickets SET status_code = :code WHERE id = :id"),
            {"code": secrets.token_urlsafe(16), "id": ticket_id},
        )
    op.create_index("ix_tickets_status_code", "tickets", ["status_code"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tickets_status_code", table_name="tickets")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("status_code")
