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
from sqlalchemy.orm import Session

from portal.sandbox.problems import ProblemError
from portal.sandbox.store import IdempotentResponse

REPLAYED = "Idempotent-Replayed"
PREFETCHED = "idempotency.prefetched"  # Session.info key: a batch's answers, looked up at once


@dataclass(frozen=True)
class Attempt:
    """One unsafe request: its key, and a fingerprint of what it asks."""

    key: str
    fingerprint: str


async def attempt(
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
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


def prefetch(db: Session, organisation_id: str, keys: list[str]) -> None:
    """Look up the stored answers for a batch's keys in one query instead of one per request."""
    found = {
        stored.key: stored
        for stored in db.scalars(
            select(IdempotentResponse).where(
                IdempotentResponse.organisation_id == organisation_id,
                IdempotentResponse.key.in_(keys),
            )
        )
    }
    db.info[PREFETCHED] = {(organisation_id, key): found.get(key) for key in keys}


def replay(db: Session, organisation_id: str, attempt: Attempt) -> Response | None:
    """The stored first response for this key, or None when the key is new."""
    known: dict[tuple[str, str], IdempotentResponse | None] = db.info.get(PREFETCHED, {})
    key = (organisation_id, attempt.key)
    # looked up with the rest of its batch; taken out so that a repeat of the key later in the
    # same batch asks the database, where the first one's answer now is
    stored = known.pop(key) if key in known else db.get(IdempotentResponse, key)
    if stored is None:
        return None
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
    body = json.dumps(jsonable_encoder(content), separators=(",", ":")).encode()
    db.add(
        IdempotentResponse(
            organisation_id=organisation_id,
            key=attempt.key,
            fingerprint=attempt.fingerprint,
            status=status,
            body=body,
            headers=headers or {},
        )
    )
    return JSONResponse(jsonable_encoder(content), status_code=status, headers=headers)
