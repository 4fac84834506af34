"""queue tickets keep their status link (the survey invitation after service links to it)

Revision ID: f4b8d2c6a913
Revises: e4a7c2d9b513
Create Date: 2026-12-02 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "f4b8d2c6a913"
down_revision: str | None = "e4a7c2d9b513"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status_link", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.drop_column("status_link")
