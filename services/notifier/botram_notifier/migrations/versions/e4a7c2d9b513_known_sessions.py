"""known sessions: the calendar from session events, for "the next session nearby"

Revision ID: e4a7c2d9b513
Revises: b3e5c1a9d402
Create Date: 2026-12-02 08:15:00.000000

Filled from the session events that arrive after the upgrade (sessions already on the
calendar are learned when they change, or not at all: a cancellation message then points to
the schedule instead of a session).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "e4a7c2d9b513"
down_revision: str | None = "b3e5c1a9d402"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_sessions",
        sa.Column("session_id", AutoString(length=36), nullable=False),
        sa.Column("level", AutoString(length=16), nullable=False),
        sa.Column("kecamatan", AutoString(length=80), nullable=False),
        sa.Column("desa", AutoString(length=80), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("venue", AutoString(length=200), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(
        "ix_known_sessions_date_status", "known_sessions", ["date", "status"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_known_sessions_date_status", table_name="known_sessions")
    op.drop_table("known_sessions")
