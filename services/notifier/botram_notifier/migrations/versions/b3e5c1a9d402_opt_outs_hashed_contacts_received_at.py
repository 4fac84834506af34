"""opt-outs kept as keyed hashes, never clear phones; when each contact was received

Revision ID: b3e5c1a9d402
Revises: a1d17c0f3e23
Create Date: 2026-12-10 10:00:00.000000

Existing opt-outs are hashed with the service's `BOTRAM_OPT_OUT_KEY` (handed over by the
service as a migration attribute; the `alembic` command line reads it from the environment),
so a phone that opted out before the upgrade stays opted out. The clear phones are dropped
with the old table. There is no way back to clear phones: downgrade keeps the hashes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from botram_notifier.domain.messages import phone_hash

revision: str = "b3e5c1a9d402"
down_revision: str | None = "a1d17c0f3e23"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _opt_out_key() -> bytes:
    config = op.get_context().config
    key = config.attributes.get("opt_out_key") if config is not None else None
    if key is None:
        from botram_notifier.settings import Settings

        key = Settings().opt_out_key.get_secret_value()
    return str(key).encode()


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "received_at",
                UTCDateTime(),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.create_index(batch_op.f("ix_contacts_received_at"), ["received_at"], unique=False)

    hashed = op.create_table(
        "opt_out_hashes",
        sa.Column("phone_hash", AutoString(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash"),
    )
    assert hashed is not None
    key = _opt_out_key()
    # Typed, so SQLite's stored text comes back as a datetime.
    clear = sa.table("opt_outs", sa.column("phone", AutoString()), sa.column("at", UTCDateTime()))
    rows = op.get_bind().execute(sa.select(clear.c.phone, clear.c.at)).all()
    by_hash = {phone_hash(phone, key): at for phone, at in rows}
    if by_hash:
        op.bulk_insert(hashed, [{"phone_hash": h, "at": at} for h, at in by_hash.items()])
    op.drop_table("opt_outs")
    op.rename_table("opt_out_hashes", "opt_outs")


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_received_at"))
        batch_op.drop_column("received_at")
