"""survey answers: one anonymous row per satisfaction survey answer (for the IKM)

Revision ID: e7c4b1a9d352
Revises: b6d3f8a2c915
Create Date: 2026-12-02 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "e7c4b1a9d352"
down_revision: str | None = "b6d3f8a2c915"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_survey_answers"


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        TABLE,
        sa.Column("id", text(length=36), nullable=False),
        sa.Column("session_id", text(length=36), nullable=False),
        sa.Column("level", text(length=16), nullable=False),
        sa.Column("kecamatan", text(length=80), nullable=False),
        sa.Column("desa", text(length=80), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service", text(length=80), nullable=False),
        sa.Column("agency", text(length=80), nullable=False),
        sa.Column("sex", text(length=1), nullable=True),
        sa.Column("age_band", text(length=8), nullable=True),
        sa.Column("resident", sa.Boolean(), nullable=True),
        *(sa.Column(f"u{i}", sa.Integer(), nullable=False) for i in range(1, 10)),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(f"ix_{TABLE}_session_id", TABLE, ["session_id"], unique=False)
    op.create_index(f"ix_{TABLE}_day", TABLE, ["day"], unique=False)


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_day", table_name=TABLE)
    op.drop_index(f"ix_{TABLE}_session_id", table_name=TABLE)
    op.drop_table(TABLE)
