"""pre-registration contacts: a pre-registered citizen's phone until they check in, their
slot ends or the session ends

Revision ID: a9c3e5f7b214
Revises: f4b8d2c6a913
Create Date: 2026-12-02 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "a9c3e5f7b214"
down_revision: str | None = "f4b8d2c6a913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pre_registration_contacts",
        sa.Column("pre_registration_id", AutoString(length=36), nullable=False),
        sa.Column("session_id", AutoString(length=36), nullable=False),
        sa.Column("phone", AutoString(length=20), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("slot_start", sa.Time(), nullable=False),
        sa.Column("slot_end", sa.Time(), nullable=False),
        sa.Column("releases_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pre_registration_id"),
    )
    op.create_index(
        op.f("ix_pre_registration_contacts_session_id"),
        "pre_registration_contacts",
        ["session_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pre_registration_contacts_releases_at"),
        "pre_registration_contacts",
        ["releases_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_pre_registration_contacts_releases_at"), table_name="pre_registration_contacts"
    )
    op.drop_index(
        op.f("ix_pre_registration_contacts_session_id"), table_name="pre_registration_contacts"
    )
    op.drop_table("pre_registration_contacts")
