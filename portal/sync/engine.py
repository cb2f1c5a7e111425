"""Draining the outbox: in order per resource, each item exactly once, whatever fails on the way.

An item is marked in flight (committed) before it is sent and delivered (committed) after the
answer; a crash in between leaves it in flight, and the next run sends it again with the same
Idempotency-Key, which the marketplace answers with its first response instead of acting twice.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from portal.auth.oauth import AuthError, Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, Progress
from portal.db.enums import OutboxState
from portal.db.models import OutboxItem
from portal.db.store import Store
from portal.errors import Cancelled, ErrorKind, InputError, PortalError
from portal.i18n import _
from portal.sync.http import TransientError, request_with_retries
from portal.sync.refusals import RefusedError
from portal.sync.upload import sha256_of, upload_file

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

RUNS_BEFORE_ATTENTION = 5
BATCH_PATH = "/v1/batch"
BATCH_SIZE = 100  # the marketplace's limit per batch
NOT_BATCHABLE = "https://aic-platform.io/problems/not-batchable"
BATCH_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BATCH_BODY_BYTES = 4 * 1024  # bigger bodies go alone: one slow item should not hold 99 others


@dataclass
class SyncReport:
    """What one run did."""

    delivered: int = 0
    needs_attention: int = 0
    conflicts: int = 0
    postponed: int = 0
    reviews_changed: int = 0
    certifications_changed: int = 0
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
    """Deliver every due outbox item; a resource whose item could not go waits for the next run.

    One sync at a time per data dir, whichever process runs it: two would send the same items.
    Then read the review status of the plugin versions and the certification of the conformance
    reports waiting for one, so the app shows them.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(store.data_dir.root / "sync.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise PortalError(
            _(
                "Another sync of this data dir is running (the app or `aic-portal sync`); "
                "try again when it is done."
            ),
            kind=ErrorKind.STORAGE,
        ) from None
    try:
        return _sync(store, market, tokens, progress=progress, cancel=cancel)
    finally:
        lock.release()


def _sync(
    store: Store,
    market: Marketplace,
    tokens: TokenStore,
    *,
    progress: Progress,
    cancel: CancelToken,
) -> SyncReport:
    from portal.conformance.submit import refresh_certification
    from portal.plugins.publish import refresh_review_status
    from portal.sync.profile import fetch_profile, save_profile

    report = SyncReport()
    who = fetch_profile(market, tokens, cancel=cancel)
    save_profile(store, who)
    courier = _Courier(
        store, market, tokens, report, cancel, progress, access_token(market, tokens)
    )
    lanes: dict[str, deque[int]] = {}
    for item_id, resource in _due(store):
        lanes.setdefault(resource, deque()).append(item_id)
    total, done = sum(len(lane) for lane in lanes.values()), 0
    with market.client() as client:
        while lanes:
            cancel.raise_if_cancelled()
            progress(done, total, _("Sending to the marketplace…"))
            # the head of each of the first lanes: at most one item per resource in a group, so
            # a refused item still holds back the items queued after it for its resource
            heads = list(islice(lanes, BATCH_SIZE))
            firsts = [lanes[resource][0] for resource in heads]
            later: set[str] = set()
            items = _claim(store, firsts, courier.blocked, who.organisation_id, later=later)
            courier.deliver(client, items)
            for resource in heads:
                lane = lanes[resource]
                if resource in later and items:  # may go once what it waits for went: retry last
                    del lanes[resource]
                    lanes[resource] = lane
                    continue
                lane.popleft()
                done += 1
                if resource in courier.blocked or not lane:
                    done += len(lane)
                    del lanes[resource]
    try:
        report.reviews_changed = refresh_review_status(store, market, tokens, cancel=cancel)
    except NetworkError as exc:  # delivered all the same; the status is read at the next sync
        log.warning("review status not read: %s", exc.message)
        report.errors.append(exc.message)
    try:
        report.certifications_changed = refresh_certification(store, market, tokens, cancel=cancel)
    except NetworkError as exc:  # likewise: the verdicts are read at the next sync
        log.warning("certifications not read: %s", exc.message)
        report.errors.append(exc.message)
    progress(total, total, _("Sync finished."))
    return report


class _Courier:
    """Sends claimed items (small ones together through /v1/batch) and settles their answers."""

    def __init__(
        self,
        store: Store,
        market: Marketplace,
        tokens: TokenStore,
        report: SyncReport,
        cancel: CancelToken,
        progress: Progress,
        bearer: str,
    ) -> None:
        self.store, self.market, self.tokens = store, market, tokens
        self.report, self.cancel, self.bearer = report, cancel, bearer
        self.progress = progress
        self.blocked: set[str] = set()
        self.batches = True  # until the marketplace says it has no /v1/batch

    def deliver(self, client: httpx.Client, items: list[OutboxItem]) -> None:
        """Send `items` (one per resource); a batch when there are several small ones."""
        small = [item for item in items if _fits_batch(item)] if self.batches else []
        if len(small) > 1:
            self._send_batch(client, small)
        for item in items:
            if len(small) <= 1 or item not in small:
                self._send_one(client, item)

    def _send_one(self, client: httpx.Client, item: OutboxItem) -> None:
        import httpx

        try:
            payload = self._uploaded(item) if item.payload.get("uploads") else item.payload
            response = self._authorised(
                lambda: _request(client, payload, item.idempotency_key, self)
            )
        except (AuthError, RefusedError, Cancelled):
            _release(self.store, [item.id])
            raise
        except InputError as exc:  # a file to upload is gone or changed: only the user can help
            self.blocked.add(item.resource)
            _give_up(self.store, item, exc.message, self.report)
            return
        except (TransientError, NetworkError, httpx.TransportError) as exc:
            self.blocked.add(item.resource)
            reason = exc.message if isinstance(exc, NetworkError) else str(exc)
            _postpone(self.store, [item.id], reason or type(exc).__name__, self.report)
            return
        self._settle(
            [(item, response.status_code, _problem_detail(response), response.headers.get("etag"))]
        )

    def _send_batch(self, client: httpx.Client, items: list[OutboxItem]) -> None:
        requests = [
            {
                "method": item.payload["method"],
                "path": item.payload["path"],
                "idempotency_key": item.idempotency_key,
                "if_match": item.payload.get("if_match"),
                "body": item.payload.get("body"),
            }
            for item in items
        ]
        try:
            response = self._authorised(
                lambda: request_with_retries(
                    client,
                    "POST",
                    BATCH_PATH,
                    json={"requests": requests},
                    headers={"Authorization": f"Bearer {self.bearer}"},
                    cancel=self.cancel,
                )
            )
        except (AuthError, RefusedError, Cancelled):
            _release(self.store, [item.id for item in items])
            raise
        except (TransientError, NetworkError) as exc:
            self.blocked.update(item.resource for item in items)
            reason = exc.message if isinstance(exc, NetworkError) else str(exc)
            _postpone(self.store, [item.id for item in items], reason, self.report)
            return
        answers = _batch_answers(items, response) if response.status_code == 200 else None
        if answers is None:  # no batches here (an older marketplace), or a garbled answer
            log.info("batch not answered (HTTP %s); sending one by one", response.status_code)
            self.batches = False
            for item in items:
                self._send_one(client, item)
            return
        alone = [item for item, answer in answers if _not_batchable(answer)]
        self._settle(
            [
                (item, answer["status"], _detail_of(answer["body"]), answer["headers"].get("etag"))
                for item, answer in answers
                if item not in alone
            ]
        )
        for item in alone:
            self._send_one(client, item)

    def _uploaded(self, item: OutboxItem) -> dict[str, Any]:
        """Upload the item's files, continuing the uploads it started (before a restart too), and
        return its payload with the upload ids in the body."""
        body = dict(item.payload.get("body") or {})
        for name, spec in item.payload["uploads"].items():
            path = Path(spec["file"])
            _check_unchanged(path, spec["sha256"], self.cancel)
            done = upload_file(
                self.market,
                self.tokens,
                path,
                progress=self.progress,
                cancel=self.cancel,
                resume=spec["id"],
                started=partial(_keep_upload_id, self.store, item.id, name),
            )
            if done.sha256 != spec["sha256"]:
                raise InputError(_changed(path))
            body[name] = done.upload_id
        return {**item.payload, "body": body}

    def _authorised(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Send; on a 401 (token expired early or revoked) refresh once and send again."""
        response = send()
        if response.status_code == 401:
            self.bearer = access_token(self.market, self.tokens, rejected=self.bearer)
            response = send()
        if response.status_code == 401:
            raise AuthError(_("The marketplace no longer accepts your sign-in. Sign in again."))
        return response

    def _settle(self, answers: list[tuple[OutboxItem, int, str | None, str | None]]) -> None:
        """Record the answers in one transaction: delivered, conflict, or needing attention."""
        with self.store.session() as session, session.begin():
            ids = [sent.id for sent, *_rest in answers]
            loaded = {
                i.id: i for i in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)))
            }
            for sent, status, detail, etag in answers:
                item = loaded.get(sent.id)
                if item is None:  # gone from the outbox meanwhile: nothing left to record
                    continue
                if status == 401:  # the token lapsed inside a batch: next run, a fresh one
                    item.state = OutboxState.PENDING
                    self.blocked.add(item.resource)
                    continue
                item.attempts += 1
                if status < 300:
                    item.state, item.delivered_at = OutboxState.DELIVERED, datetime.now(UTC)
                    item.last_error = None
                    self.report.delivered += 1
                    continue
                self.blocked.add(item.resource)
                item.last_error = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
                if status == 412:  # keep the marketplace's version: "keep mine" writes over it
                    item.payload = {**item.payload, "server_etag": etag}
                    item.state = OutboxState.CONFLICT
                    self.report.conflicts += 1
                else:
                    item.state = OutboxState.FAILED
                    self.report.needs_attention += 1
                self.report.errors.append(f"{item.action}: {item.last_error}")


def _batch_answers(
    items: list[OutboxItem], response: httpx.Response
) -> list[tuple[OutboxItem, dict[str, Any]]] | None:
    """Each item with its answer, or None when the answer is not a batch answer for them: the
    marketplace is untrusted input, and one by one still works."""
    try:
        answers = response.json()["responses"]
    except (ValueError, KeyError, TypeError):
        return None
    well_formed = isinstance(answers, list) and len(answers) == len(items)
    if not well_formed or not all(
        isinstance(a, dict)
        and isinstance(a.get("status"), int)
        and isinstance(a.get("headers"), dict)
        for a in answers
    ):
        return None
    return [(item, {"body": None, **answer}) for item, answer in zip(items, answers, strict=True)]


def _not_batchable(answer: dict[str, Any]) -> bool:
    """The marketplace could not run this request inside a batch; it wants it alone."""
    body = answer.get("body")
    return answer["status"] == 422 and isinstance(body, dict) and body.get("type") == NOT_BATCHABLE


def _fits_batch(item: OutboxItem) -> bool:
    """Small JSON writes go in batches; anything bigger, or with files to upload, goes alone."""
    payload = item.payload
    if payload.get("uploads"):
        return False
    body = json.dumps(payload.get("body"), separators=(",", ":"))
    return payload["method"] in BATCH_METHODS and len(body) <= BATCH_BODY_BYTES


def _due(store: Store) -> list[tuple[int, str]]:
    now = datetime.now(UTC)
    waiting = (OutboxState.PENDING, OutboxState.IN_FLIGHT)
    with store.session() as session:
        return [
            (row.id, row.resource)
            for row in session.execute(
                select(OutboxItem.id, OutboxItem.resource)
                .where(OutboxItem.state.in_(waiting))
                .where(or_(OutboxItem.not_before.is_(None), OutboxItem.not_before <= now))
                .order_by(OutboxItem.id)
            )
        ]


# An earlier item in one of these states holds back the later items of its resource.
HOLDING = (
    OutboxState.PENDING,
    OutboxState.IN_FLIGHT,
    OutboxState.CONFLICT,
    OutboxState.FAILED,  # until the user retries or discards it
)


def _claim(
    store: Store, item_ids: list[int], blocked: set[str], organisation: str, *, later: set[str]
) -> list[OutboxItem]:
    """Mark the items in flight (committed), except those whose resource has an earlier item
    waiting or stuck, and those queued for another partner organisation than the one signed in.

    An item queued after one still on its way has its resource put in `later`."""
    with store.session() as session, session.begin():
        items = session.scalars(
            select(OutboxItem).where(OutboxItem.id.in_(item_ids)).order_by(OutboxItem.id)
        ).all()
        resources = {item.resource for item in items}
        first: dict[str, int] = {
            resource: first_id
            for resource, first_id in session.execute(
                select(OutboxItem.resource, func.min(OutboxItem.id))
                .where(OutboxItem.resource.in_(resources), OutboxItem.state.in_(HOLDING))
                .group_by(OutboxItem.resource)
            )
        }
        waiting_on: dict[int, OutboxState] = {
            row.id: row.state
            for row in session.execute(
                select(OutboxItem.id, OutboxItem.state).where(
                    OutboxItem.id.in_([i.payload["after"] for i in items if "after" in i.payload]),
                    OutboxItem.state != OutboxState.DELIVERED,
                )
            )
        }
        claimed = []
        for item in items:
            if item.resource in blocked or item.state not in HOLDING[:2]:
                continue
            awaited = waiting_on.get(item.payload.get("after", 0))
            if awaited in HOLDING[:2]:  # queued after one not delivered yet, but on its way
                later.add(item.resource)
                continue
            if awaited is not None:  # ...after one that waits for the user
                blocked.add(item.resource)
                continue
            if item.payload.get("organisation") not in (None, organisation):
                blocked.add(item.resource)
            elif first.get(item.resource) != item.id:  # never overtake a waiting item
                blocked.add(item.resource)
            else:
                item.state = OutboxState.IN_FLIGHT
                claimed.append(item)
        session.flush()
        for item in claimed:
            session.expunge(item)
        return claimed


def _request(
    client: httpx.Client, payload: dict[str, Any], key: str, courier: _Courier
) -> httpx.Response:
    """One item's request, retried while the failure is transient, always with its own key."""
    headers = {"Authorization": f"Bearer {courier.bearer}", "Idempotency-Key": key}
    if payload.get("if_match"):
        headers["If-Match"] = payload["if_match"]
    return request_with_retries(
        client,
        payload["method"],
        payload["path"],
        json=payload.get("body"),
        headers=headers,
        cancel=courier.cancel,
    )


def _check_unchanged(path: Path, sha256: str, cancel: CancelToken) -> None:
    """Refuse to upload a file that is gone or is no longer the one queued."""
    try:
        digest = sha256_of(path, cancel)
    except OSError as exc:
        raise InputError(
            _(
                "The file {path} to upload cannot be read ({problem}); put it back, or discard "
                "this item and queue the change again."
            ).format(path=path, problem=exc.strerror or exc)
        ) from exc
    if digest != sha256:
        raise InputError(_changed(path))


def _changed(path: Path) -> str:
    return _(
        "The file {path} changed after it was queued for upload; discard this item and queue "
        "the change again."
    ).format(path=path)


def _keep_upload_id(store: Store, item_id: int, name: str, upload_id: str) -> None:
    """Commit a new upload's id at once: a restarted app continues it instead of starting over."""
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, item_id)
        if item is not None:
            uploads = item.payload["uploads"]
            uploads = {**uploads, name: {**uploads[name], "id": upload_id}}
            item.payload = {**item.payload, "uploads": uploads}


def _give_up(store: Store, sent: OutboxItem, reason: str, report: SyncReport) -> None:
    """The item needs the user's attention; its uploads start afresh if it is sent again."""
    with store.session() as session, session.begin():
        item = session.get(OutboxItem, sent.id)
        if item is None:
            return
        item.attempts += 1
        item.state, item.last_error = OutboxState.FAILED, reason
        if uploads := item.payload.get("uploads"):
            fresh = {name: {**spec, "id": None} for name, spec in uploads.items()}
            item.payload = {**item.payload, "uploads": fresh}
    report.needs_attention += 1
    report.errors.append(f"{sent.action}: {reason}")


def _postpone(store: Store, item_ids: list[int], reason: str, report: SyncReport) -> None:
    with store.session() as session, session.begin():
        for item_id in item_ids:
            _put_off(session.get(OutboxItem, item_id), reason, report)


def _put_off(item: OutboxItem | None, reason: str, report: SyncReport) -> None:
    """Try again after a growing pause; after RUNS_BEFORE_ATTENTION runs, ask the user."""
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


def _release(store: Store, item_ids: list[int]) -> None:
    with store.session() as session, session.begin():
        for item_id in item_ids:
            item = session.get(OutboxItem, item_id)
            if item is not None and item.state == OutboxState.IN_FLIGHT:
                item.state = OutboxState.PENDING


def _problem_detail(response: httpx.Response) -> str | None:
    try:
        return _detail_of(response.json())
    except ValueError:
        return None


def _detail_of(body: Any) -> str | None:
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail else None
