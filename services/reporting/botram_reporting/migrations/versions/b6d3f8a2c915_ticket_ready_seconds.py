"""ticket ready seconds: from a ticket's completion to the agency's first follow-up

Revision ID: b6d3f8a2c915
Revises: a1d17c0f3e24
Create Date: 2026-12-02 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6d3f8a2c915"
down_revision: str | None = "a1d17c0f3e24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ready_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_tickets", schema=None) as batch_op:
        batch_op.drop_column("ready_seconds")
