"""Idempotency-Key on unsafe requests: a repeat gets the first response, never a second effect."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.sandbox.problems import ProblemError
from portal.sandbox.store import IdempotentResponse

REPLAYED = "Idempotent-Replayed"
CLAIMS = "idempotency.claims"  # Session.info key: the keys this session holds, kept loaded
UNUSED = "idempotency.unused"  # Session.info key: a batch's keys known to be free


@dataclass(frozen=True)
class Attempt:
    """One unsafe request: its key, and a fingerprint of what it asks."""

    key: str
    fingerprint: str


async def attempt(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Needed on unsafe requests (else 400): a repeat gets the first answer.",
        ),
    ] = None,
) -> Attempt:
    """Require the key and fingerprint the request (method, path, body)."""
    if not idempotency_key:
        raise ProblemError(400, "Unsafe requests need an Idempotency-Key header.")
    return Attempt(
        idempotency_key, fingerprint(request.method, request.url.path, await request.body())
    )


async def streamed_attempt(
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Attempt:
    """Like `attempt` for a body too big to hold: fingerprint its method, path, length and
    offset instead of its bytes."""
    if not idempotency_key:
        raise ProblemError(400, "Unsafe requests need an Idempotency-Key header.")
    described = " ".join(request.headers.get(h, "") for h in ("content-length", "upload-offset"))
    return Attempt(
        idempotency_key, fingerprint(request.method, request.url.path, described.encode())
    )


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What a request asks, the same whether it came alone or in a batch (JSON is normalised)."""
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass  # not JSON: the bytes as they came
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def look_ahead(db: Session, organisation_id: str, keys: list[str]) -> None:
    """Note which of a batch's keys are unused, in one query: their requests then claim them
    without a savepoint each. A concurrent request taking one meanwhile fails the whole batch
    (409), which the client then sends one by one, replaying what went through."""
    taken = set(
        db.scalars(
            select(IdempotentResponse.key).where(
                IdempotentResponse.organisation_id == organisation_id,
                IdempotentResponse.key.in_(keys),
            )
        )
    )
    db.info[UNUSED] = {(organisation_id, key) for key in keys if key not in taken}


def replay(
    db: Session, organisation_id: str, attempt: Attempt, *, claim: bool = True
) -> Response | None:
    """The stored first response for this key, or None once this request holds the key.

    The key is claimed by a write of its own, in a savepoint (so a batch survives a taken key),
    so a concurrent repeat waits for it (on the row in PostgreSQL, on the write lock in SQLite),
    then finds the answer and replays it. `claim=False` only looks: for endpoints that keep
    repeats apart themselves and must not hold a write while they stream a body.
    """
    key = (organisation_id, attempt.key)
    if not claim:
        stored = db.get(IdempotentResponse, key)
        return None if stored is None else _replayed(stored, attempt)
    held = IdempotentResponse(
        organisation_id=organisation_id,
        key=attempt.key,
        fingerprint=attempt.fingerprint,
        status=0,
        body=b"",
        headers={},
    )
    unused: set[tuple[str, str]] = db.info.get(UNUSED, set())
    if key in unused:  # a batch found it free a moment ago: claimed with the request's writes
        unused.discard(key)
        db.add(held)
        db.info.setdefault(CLAIMS, {})[key] = held
        return None
    try:
        with db.begin_nested():
            db.add(held)
    except IntegrityError:
        pass  # taken: the first request's answer is stored
    else:
        db.info.setdefault(CLAIMS, {})[key] = held
        return None
    stored = db.get(IdempotentResponse, key)
    assert stored is not None, "the stored row is what refused the claim"
    return _replayed(stored, attempt)


def _replayed(stored: IdempotentResponse, attempt: Attempt) -> Response:
    if stored.fingerprint != attempt.fingerprint:
        raise ProblemError(422, "This Idempotency-Key was already used for a different request.")
    return Response(
        stored.body,
        status_code=stored.status,
        headers={**stored.headers, REPLAYED: "true"},
        media_type="application/json",
    )


def respond(
    db: Session,
    organisation_id: str,
    attempt: Attempt,
    content: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Answer, and keep the answer for repeats of the same key (committed with the change)."""
    key = (organisation_id, attempt.key)
    claim = db.info.get(CLAIMS, {}).pop(key, None) or db.get(IdempotentResponse, key)
    if claim is None:  # replay(claim=False) looked only
        claim = IdempotentResponse(
            organisation_id=organisation_id, key=attempt.key, fingerprint=attempt.fingerprint
        )
        db.add(claim)
    claim.status = status
    claim.body = json.dumps(jsonable_encoder(content), separators=(",", ":")).encode()
    claim.headers = headers or {}
    return JSONResponse(jsonable_encoder(content), status_code=status, headers=headers)
