"""follow ups: agencies' follow-ups on finished tickets, and phones kept for them

Revision ID: e5a9c7f1b203
Revises: e5a0c9f4d217
Create Date: 2026-12-02 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "e5a9c7f1b203"
down_revision: str | None = "e5a0c9f4d217"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", AutoString(length=36), nullable=False),
        sa.Column("ticket_id", AutoString(length=36), nullable=False),
        sa.Column("session_id", AutoString(length=36), nullable=False),
        sa.Column("service", AutoString(length=80), nullable=False),
        sa.Column("agency", AutoString(length=80), nullable=False),
        sa.Column("kind", AutoString(length=32), nullable=False),
        sa.Column("place", AutoString(length=200), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("note", AutoString(length=500), nullable=True),
        sa.Column("actor", AutoString(length=255), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("followed_up_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "kind"),
    )
    op.create_index("ix_follow_ups_ticket_id", "follow_ups", ["ticket_id"])
    op.create_index("ix_follow_ups_session_id", "follow_ups", ["session_id"])
    op.create_table(
        "follow_up_contacts",
        sa.Column("ticket_id", AutoString(length=36), nullable=False),
        sa.Column("session_id", AutoString(length=36), nullable=False),
        sa.Column("phone", AutoString(length=20), nullable=False),
        sa.Column("keep_until", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_follow_up_contacts_session_id", "follow_up_contacts", ["session_id"])
    op.create_index("ix_follow_up_contacts_keep_until", "follow_up_contacts", ["keep_until"])


def downgrade() -> None:
    op.drop_table("follow_up_contacts")
    op.drop_table("follow_ups")
