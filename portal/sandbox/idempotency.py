"""Idempotency-Key on unsafe requests: a repeat gets the first response, never a second effect."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.sandbox.problems import ProblemError
from portal.sandbox.store import IdempotentResponse

REPLAYED = "Idempotent-Replayed"


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
    body = await request.body()
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()
    return Attempt(idempotency_key, digest)


def replay(db: Session, organisation_id: str, attempt: Attempt) -> Response | None:
    """The stored first response for this key, or None once this request holds the key.

    The key is claimed by the request's first write, so a concurrent repeat waits for it (on the
    row in PostgreSQL, on the write lock in SQLite), then finds the answer and replays it.
    """
    claim = IdempotentResponse(
        organisation_id=organisation_id,
        key=attempt.key,
        fingerprint=attempt.fingerprint,
        status=0,
        body=b"",
        headers={},
    )
    db.add(claim)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()  # nothing else was written yet: the claim was this request's first write
    else:
        return None
    stored = db.get(IdempotentResponse, (organisation_id, attempt.key))
    assert stored is not None, "the stored row is what refused the claim"
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
    claim = db.get(IdempotentResponse, (organisation_id, attempt.key))
    assert claim is not None, "respond() follows replay(), which claims the key"
    claim.status = status
    claim.body = json.dumps(jsonable_encoder(content), separators=(",", ":")).encode()
    claim.headers = headers or {}
    return JSONResponse(jsonable_encoder(content), status_code=status, headers=headers)
