"""Draining the outbox: in order per resource, each item exactly once, whatever fails on the way.

An item is marked in flight (committed) before it is sent and delivered (committed) after the
answer; a crash in between leaves it in flight, and the next run sends it again with the same
Idempotency-Key, which the marketplace answers with its first response instead of acting twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from portal.auth.oauth import AuthError, Marketplace, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, Progress
from portal.db.enums import OutboxState
from portal.db.models import OutboxItem
from portal.db.store import Store
from portal.errors import Cancelled
from portal.i18n import _
from portal.sync.http import TransientError, request_with_retries
from portal.sync.refusals import RefusedError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

RUNS_BEFORE_ATTENTION = 5


@dataclass
class SyncReport:
    """What one run did."""

    delivered: int = 0
    needs_attention: int = 0
    conflicts: int = 0
    postponed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the user."""
        return _(
            "Delivered {delivered}; postponed {postponed}; conflicts {conflicts}; "
            "needing attention {attention}."
        ).format(
            delivered=self.delivered,
            postponed=self.postponed,
            conflicts=self.conflicts,
            attention=self.needs_attention,
        )


def sync(
    store: Store,
    market: Marketplace,
    tokens: TokenStore,
    *,
    progress: Progress,
    cancel: CancelToken,
) -> SyncReport:
    """Deliver every due outbox item; a resource whose item could not go waits for the next run."""
    from portal.sync.profile import fetch_profile, save_profile

    report = SyncReport()
    who = fetch_profile(market, tokens)
    save_profile(store, who)
    bearer = access_token(market, tokens)
    blocked: set[str] = set()
    due = _due(store)
    with market.client() as client:
        for done, item_id in enumerate(due):
            cancel.raise_if_cancelled()
            progress(done, len(due), _("Sending to the marketplace…"))
            item = _claim(store, item_id, blocked, who.organisation_id)
            if item is None:
                continue
            try:
                response = _send(client, item, bearer, cancel)
                if response.status_code == 401:  # expired early or revoked: refresh once, retry
                    bearer = access_token(market, tokens, rejected=bearer)
                    response = _send(client, item, bearer, cancel)
            except (AuthError, RefusedError, Cancelled):
                _release(store, item_id)
                raise
            except TransientError as exc:
                blocked.add(item.resource)
                _postpone(store, item_id, str(exc), report)
                continue
            if response.status_code == 401:
                _release(store, item_id)
                raise AuthError(_("The marketplace no longer accepts your sign-in. Sign in again."))
            _settle(store, item_id, response, report)
            if response.status_code >= 300:
                blocked.add(item.resource)
        progress(len(due), len(due), _("Sync finished."))
    return report


def _due(store: Store) -> list[int]:
    now = datetime.now(UTC)
    waiting = (OutboxState.PENDING, OutboxState.IN_FLIGHT)
    with store.session() as session:
        return list(
            session.scalars(
                select(OutboxItem.id)
                .where(OutboxItem.state.in_(waiting))
                .where(or_(OutboxItem.not_before.is_(None), OutboxItem.not_before <= now))
                .order_by(OutboxItem.id)
            )
        )


def _claim(store: Store, item_id: int, blocked: set[str], organisation: str) -> OutboxItem | None:
    """Mark the item in flight (committed) unless an earlier item of its resource is stuck or
    it was queued for another partner organisation than the one signed in."""
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is None or item.resource in blocked:
            return None
        if item.payload.get("organisation") not in (None, organisation):
            blocked.add(item.resource)
            return None
        earlier = session.scalars(
            select(OutboxItem.id).where(
                OutboxItem.resource == item.resource,
                OutboxItem.id < item.id,
                OutboxItem.state.in_(
                    (
                        OutboxState.PENDING,
                        OutboxState.IN_FLIGHT,
                        OutboxState.CONFLICT,
                        OutboxState.FAILED,  # until the user retries or discards it
                    )
                ),
            )
        ).first()
        if earlier is not None:  # keep per-resource order: never overtake a waiting item
            blocked.add(item.resource)
            return None
        item.state = OutboxState.IN_FLIGHT
        session.expunge(item)
        return item


def _send(
    client: httpx.Client, item: OutboxItem, bearer: str, cancel: CancelToken
) -> httpx.Response:
    """One item's request, retried while the failure is transient, always with its own key."""
    payload: dict[str, Any] = item.payload
    headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": item.idempotency_key}
    if payload.get("if_match"):
        headers["If-Match"] = payload["if_match"]
    return request_with_retries(
        client,
        payload["method"],
        payload["path"],
        json=payload.get("body"),
        headers=headers,
        cancel=cancel,
    )


def _settle(store: Store, item_id: int, response: httpx.Response, report: SyncReport) -> None:
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.attempts += 1
        if response.status_code < 300:
            item.state, item.delivered_at, item.last_error = (
                OutboxState.DELIVERED,
                datetime.now(UTC),
                None,
            )
            report.delivered += 1
            return
        detail = _detail(response)
        if response.status_code == 412:
            item.state = OutboxState.CONFLICT
            report.conflicts += 1
        else:
            item.state = OutboxState.FAILED
            report.needs_attention += 1
        item.last_error = detail
        report.errors.append(f"{item.action}: {detail}")


def _postpone(store: Store, item_id: int, reason: str, report: SyncReport) -> None:
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.attempts += 1
        item.last_error = reason
        if item.attempts >= RUNS_BEFORE_ATTENTION:
            item.state = OutboxState.FAILED
            report.needs_attention += 1
        else:
            item.state = OutboxState.PENDING
            item.not_before = datetime.now(UTC) + timedelta(seconds=2**item.attempts)
            report.postponed += 1


def _release(store: Store, item_id: int) -> None:
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is not None and item.state == OutboxState.IN_FLIGHT:
            item.state = OutboxState.PENDING


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}: {detail}" if detail else f"HTTP {response.status_code}"
