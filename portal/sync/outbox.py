"""Reading the outbox: what is waiting to reach the marketplace and what happened to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select

from portal.db.enums import OutboxState
from portal.db.models import OutboxItem
from portal.db.store import Store


@dataclass(frozen=True)
class OutboxEntry:
    """One queued action as the Sync page lists it."""

    id: int
    resource: str
    action: str
    state: OutboxState
    attempts: int
    last_error: str | None
    created_at: datetime


def list_outbox(store: Store, *, limit: int = 500) -> list[OutboxEntry]:
    """Undelivered items first, oldest first, then the most recent deliveries."""
    undelivered = case((OutboxItem.state == OutboxState.DELIVERED, 1), else_=0)
    query = select(OutboxItem).order_by(undelivered, OutboxItem.id).limit(limit)
    with store.session() as session:
        return [
            OutboxEntry(
                id=item.id,
                resource=item.resource,
                action=item.action,
                state=item.state,
                attempts=item.attempts,
                last_error=item.last_error,
                created_at=item.created_at,
            )
            for item in session.scalars(query)
        ]
