"""The tables every service has (the outbox and the processed-events inbox), defined once.

Each service's initial Alembic revision calls `create_shared_tables()` and
`drop_shared_tables()` instead of repeating their DDL; a later change to these tables is one
helper here plus one revision per service that calls it.
"""

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime


def create_shared_tables() -> None:
    """Create `outbox_events` and `processed_events` (see outbox.py and inbox.py)."""
    op.create_table(
        "outbox_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", AutoString(length=36), nullable=False),
        sa.Column("subject", AutoString(length=255), nullable=False),
        sa.Column("type", AutoString(length=120), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_events_published_at"), ["published_at"], unique=False
        )
    op.create_table(
        "processed_events",
        sa.Column("consumer", AutoString(length=80), nullable=False),
        sa.Column("event_id", AutoString(length=36), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )


def drop_shared_tables() -> None:
    """Drop what `create_shared_tables()` created."""
    op.drop_table("processed_events")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_published_at"))
    op.drop_table("outbox_events")


def create_audit_table() -> None:
    """Create `audit_log` (see audit.py)."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", AutoString(length=255), nullable=False),
        sa.Column("roles", AutoString(length=120), nullable=False),
        sa.Column("agency", AutoString(length=80), nullable=True),
        sa.Column("action", AutoString(length=80), nullable=False),
        sa.Column("session_id", AutoString(length=36), nullable=True),
        sa.Column("resource_ids", AutoString(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_session_id"), ["session_id"], unique=False)


def drop_audit_table() -> None:
    """Drop what `create_audit_table()` created."""
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_session_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
