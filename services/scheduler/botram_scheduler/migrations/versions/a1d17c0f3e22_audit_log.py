"""audit log: who changed what, when (botram_runtime.audit)

Revision ID: a1d17c0f3e22
Revises: 6f4be63e09bf
Create Date: 2026-12-01 23:55:00.000000

"""

from collections.abc import Sequence

from botram_runtime.shared_tables import create_audit_table, drop_audit_table

revision: str = "a1d17c0f3e22"
down_revision: str | None = "6f4be63e09bf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_table()


def downgrade() -> None:
    drop_audit_table()
