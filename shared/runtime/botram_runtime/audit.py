"""The audit trail: who changed what, when, and what came of it, in the owning service's database.

A use case that changes state calls `record(tx, actor, action, …)` inside its transaction: the
entry is inserted with the same commit as the change (one `executemany` per commit, like the
outbox), so there is never a change without its entry nor an entry without its change. Entries
name the actor by its opaque `sub`, roles and agency, never by a name or a NIK, and hold only
ids (session, ticket, subscription…), never personal data.

`GET /v1/audit` (role `operator`) lists them, newest first, filtered by actor, session and time.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events.envelope import utc_now
from botram_runtime.actors import Actor

STAGED_AUDIT = "botram.audit_rows"
MAX_LIMIT = 1000
MAX_IDS_CHARS = 1500


class AuditEntry(SQLModel, table=True):
    """One state-changing action."""

    __tablename__ = "audit_log"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    at: datetime = Field(default_factory=utc_now, index=True)
    actor: str = Field(max_length=255, index=True)
    roles: str = Field(max_length=120)
    agency: str | None = Field(default=None, max_length=80)
    action: str = Field(max_length=80)
    session_id: str | None = Field(default=None, max_length=36, index=True)
    resource_ids: str = Field(default="{}", max_length=2000)


AUDIT_LOG = AuditEntry.__table__  # type: ignore[attr-defined]


def record(
    tx: AsyncSession,
    actor: Actor,
    action: str,
    *,
    session_id: str | None = None,
    **resource_ids: str | int | list[str] | None,
) -> None:
    """Add an audit entry to the caller's transaction (inserted when it commits).

    `resource_ids` are the ids (or counts) the action produced; a list too long to store is
    kept as its length and its first ids.
    """
    ids: dict[str, Any] = {k: v for k, v in resource_ids.items() if v is not None}
    if len(json.dumps(ids)) > MAX_IDS_CHARS:
        ids = {
            key: {"count": len(value), "first": value[:5]} if isinstance(value, list) else value
            for key, value in ids.items()
        }
    tx.info.setdefault(STAGED_AUDIT, []).append(
        {
            "at": utc_now(),
            "actor": actor.sub,
            "roles": ",".join(actor.role_names),
            "agency": actor.agency,
            "action": action,
            "session_id": session_id,
            "resource_ids": json.dumps(ids, sort_keys=True),
        }
    )


@sa_event.listens_for(Session, "before_commit")
def _insert_staged_entries(session: Session) -> None:
    rows = session.info.pop(STAGED_AUDIT, None)
    if rows:
        session.connection().execute(AUDIT_LOG.insert(), rows)


async def list_entries(
    tx: AsyncSession,
    *,
    actor: str | None = None,
    session_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit entries, newest first."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(min(limit, MAX_LIMIT))
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if session_id is not None:
        query = query.where(AuditEntry.session_id == session_id)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.at) < until)
    return [_public(entry) for entry in (await tx.exec(query)).all()]


def _public(entry: AuditEntry) -> dict[str, Any]:
    ids: Mapping[str, Any] = json.loads(entry.resource_ids or "{}")
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "roles": entry.roles.split(",") if entry.roles else [],
        "agency": entry.agency,
        "action": entry.action,
        "session_id": entry.session_id,
        "resource_ids": dict(ids),
    }
