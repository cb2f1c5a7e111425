"""The outbox: actions written with the local change, delivered to the marketplace exactly once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from portal.db.enums import OutboxState
from portal.db.models import OutboxItem, PartnerOrganisation
from portal.db.store import Store
from portal.i18n import _


@dataclass(frozen=True)
class OutboxEntry:
    """One queued action as the Sync page lists it."""

    id: int
    resource: str
    action: str
    description: str
    state: OutboxState
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class FileToUpload:
    """A local file an item uploads before its request, and the SHA-256 it must still have."""

    path: Path
    sha256: str


def enqueue(
    session: Session,
    *,
    resource: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    if_match: str | None = None,
    uploads: Mapping[str, FileToUpload] | None = None,
    after: OutboxItem | None = None,
) -> OutboxItem:
    """Queue one marketplace request in the caller's transaction, with its own idempotency key.

    Items of one `resource` are delivered in the order they were queued, and only for the partner
    organisation signed in when they were queued (any, if none was). Each of `uploads` is sent
    first (resumably, also across restarts); its upload id then goes into the body under its key.
    An item queued `after` another (of any resource) waits until that one is delivered or gone.
    """
    organisation = session.scalar(select(PartnerOrganisation.remote_id).limit(1))
    payload: dict[str, Any] = {
        "method": method,
        "path": path,
        "body": body,
        "if_match": if_match,
        "organisation": organisation,
    }
    if after is not None:
        session.flush()  # its id
        payload["after"] = after.id
    if uploads:
        payload["uploads"] = {
            field: {"file": str(upload.path.absolute()), "sha256": upload.sha256, "id": None}
            for field, upload in uploads.items()
        }
    item = OutboxItem(
        idempotency_key=str(uuid.uuid4()),
        resource=resource,
        action=f"{method} {path}",
        payload=payload,
    )
    session.add(item)
    return item


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
                description=describe(item.payload),
                state=item.state,
                attempts=item.attempts,
                last_error=item.last_error,
                created_at=item.created_at,
            )
            for item in session.scalars(query)
        ]


def describe(payload: dict[str, Any]) -> str:
    """What a queued request does, in words, for the Sync page and `sync --status`."""
    method, path, body = payload.get("method", ""), payload.get("path", ""), payload.get("body")
    fields = _Fields({k: str(v) for k, v in body.items()} if isinstance(body, dict) else {})
    for (verb, pattern), words in _DESCRIPTIONS.items():
        found = pattern.fullmatch(path)
        if verb == method and found:
            return words().format_map(_Fields({**fields, **found.groupdict()}))
    return f"{method} {path}"


class _Fields(dict[str, str]):
    """Values for a description; one the request does not carry shows as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


_DESCRIPTIONS: dict[tuple[str, re.Pattern[str]], Callable[[], str]] = {
    ("POST", re.compile(r"/v1/marketplace/plugins")): lambda: _("List the plugin {name}"),
    ("PATCH", re.compile(r"/v1/marketplace/plugins/(?P<plugin>[^/]+)")): lambda: _(
        "Change the listing of {plugin}"
    ),
    ("POST", re.compile(r"/v1/marketplace/plugins/(?P<plugin>[^/]+)/versions")): lambda: _(
        "Submit version {version} of {plugin}"
    ),
    ("POST", re.compile(r"/v1/partners/me/keys")): lambda: _("Register the signing key {key_id}"),
    ("POST", re.compile(r"/v1/conformance/reports")): lambda: _(
        "Submit the {profile} conformance report {sha256} for certification"
    ),
}


def retry_item(store: Store, item_id: int) -> bool:
    """Send a refused item again on the next sync; False if there is none."""
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is None or item.state != OutboxState.FAILED:
            return False
        item.state, item.attempts, item.not_before = OutboxState.PENDING, 0, None
        return True


def keep_mine(store: Store, item_id: int) -> bool:
    """Resolve a conflict by writing this change over the marketplace's newer version.

    The change goes again with the version the marketplace reported when it refused it; if the
    resource changed once more in between, it comes back as a conflict rather than losing that.
    """
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is None or item.state != OutboxState.CONFLICT:
            return False
        item.payload = {**item.payload, "if_match": item.payload.get("server_etag")}
        item.state, item.attempts, item.not_before = OutboxState.PENDING, 0, None
        return True


DISCARDABLE = (OutboxState.PENDING, OutboxState.FAILED, OutboxState.CONFLICT)


def discard_item(store: Store, item_id: int) -> bool:
    """Give up an item that was not delivered, so the ones after it can go (for a conflict:
    keep the marketplace's version). One being sent right now cannot be taken back."""
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is None or item.state not in DISCARDABLE:
            return False
        session.delete(item)
        return True
