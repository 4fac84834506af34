"""survey taken: which tickets answered the satisfaction survey (never the answers)

Revision ID: d5a9e3c1f7b2
Revises: e5a9c7f1b203
Create Date: 2026-12-02 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "d5a9e3c1f7b2"
down_revision: str | None = "e5a9c7f1b203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_taken",
        sa.Column("ticket_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )


def downgrade() -> None:
    op.drop_table("survey_taken")
