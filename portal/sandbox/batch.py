"""`/v1/batch`: many small writes in one round trip and one transaction.

Each request in a batch is answered by the same endpoint function, with the same checks and
Idempotency-Key handling, as if it had come alone: in order, each inside a savepoint of the batch's
transaction, which commits once. A refused request undoes only itself. If the answer is lost, the
client sends the same requests again with the same keys and gets the first answers back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.params import Depends as DependsMarker
from fastapi.params import Header
from fastapi.params import Path as PathMarker
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.routing import Match

from portal.sandbox.idempotency import Attempt, attempt, fingerprint, look_ahead
from portal.sandbox.oauth import Db, bearer_user, session
from portal.sandbox.problems import (
    PROBLEM_JSON,
    ProblemError,
    problem_document,
    validation_errors,
)
from portal.sandbox.store import User

router = APIRouter(tags=["batch"])
Caller = Annotated[User, Depends(bearer_user)]

BATCH_PATH = "/v1/batch"
MAX_REQUESTS = 100
MAX_BODY_BYTES = 64 * 1024
NOT_BATCHABLE = "https://aic-platform.io/problems/not-batchable"  # the client then sends it alone
KEPT_HEADERS = ("etag", "location", "idempotent-replayed")


class BatchRequest(BaseModel):
    """One write: what it would have sent alone, its own key and precondition included."""

    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(pattern=r"^/v1/[-a-zA-Z0-9._~/%]*$", max_length=512)
    idempotency_key: str = Field(min_length=1, max_length=200)
    if_match: str | None = Field(default=None, max_length=200)
    body: Any = None


class Batch(BaseModel):
    """Writes to run in this order; the batch itself needs no key, each request has its own."""

    requests: list[BatchRequest] = Field(min_length=1, max_length=MAX_REQUESTS)


class BatchAnswer(BaseModel):
    """What one request would have got alone."""

    status: int
    headers: dict[str, str]
    body: Any = None


class BatchResult(BaseModel):
    """The answers, in the order of the requests."""

    responses: list[BatchAnswer]


class NotBatchableError(Exception):
    """The route needs something a batch cannot give it (a raw body, the request itself)."""


@router.post(BATCH_PATH)
def run_batch(request: Request, db: Db, batch: Batch, user: Caller) -> BatchResult:
    """Run small writes in order, in one transaction, each answered as if sent alone."""
    if any(r.path.rstrip("/") == BATCH_PATH for r in batch.requests):
        raise ProblemError(422, "A batch cannot contain another batch.")
    bodies = [b"" if r.body is None else json.dumps(r.body).encode() for r in batch.requests]
    if any(len(body) > MAX_BODY_BYTES for body in bodies):
        raise ProblemError(
            413, f"A request in a batch carries at most {MAX_BODY_BYTES} bytes of body."
        )
    look_ahead(db, user.organisation_id, [r.idempotency_key for r in batch.requests])
    return BatchResult(
        responses=[
            _answer(request.app, db, user, item, body)
            for item, body in zip(batch.requests, bodies, strict=True)
        ]
    )


def _answer(app: FastAPI, db: Session, user: User, item: BatchRequest, body: bytes) -> BatchAnswer:
    """One request through its route's endpoint, in a savepoint that a refusal rolls back."""
    path = item.path.partition("?")[0]
    savepoint = db.begin_nested()
    try:
        endpoint, arguments = _bind(app, item, path, body, db, user)
        result = endpoint(**arguments)
    except ProblemError as exc:
        savepoint.commit() if exc.keep_changes else savepoint.rollback()
        return _problem(
            exc.status,
            path,
            detail=exc.detail,
            headers=exc.headers,
            errors=exc.errors,
            extra=exc.extra,
        )
    except ValidationError as exc:
        savepoint.rollback()
        return _problem(
            422,
            path,
            detail="The request does not match the API schema.",
            errors=validation_errors(exc.errors()),
        )
    except NotBatchableError:
        savepoint.rollback()
        return _problem(
            422,
            path,
            detail="This request cannot go in a batch: send it alone.",
            extra={"type": NOT_BATCHABLE},
        )
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    if isinstance(result, Response):
        headers = {k: v for k, v in result.headers.items() if k in KEPT_HEADERS}
        return BatchAnswer(
            status=result.status_code, headers=headers, body=json.loads(bytes(result.body))
        )
    return BatchAnswer(status=200, headers={}, body=jsonable_encoder(result))


def _bind(
    app: FastAPI, item: BatchRequest, path: str, body: bytes, db: Session, user: User
) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The endpoint for the request and its arguments, resolved as FastAPI would."""
    route, path_params = _route(app, item.method, path)
    arguments: dict[str, Any] = {}
    for name, (kind, target) in _parameters(route.endpoint).items():
        if kind == "db":
            arguments[name] = db
        elif kind == "user":
            arguments[name] = user
        elif kind == "attempt":
            arguments[name] = Attempt(item.idempotency_key, fingerprint(item.method, path, body))
        elif kind == "if_match":
            arguments[name] = item.if_match
        elif kind == "body":
            arguments[name] = target.validate_json(body or b"null")
        elif kind == "path":
            arguments[name] = target.validate_python(path_params[name])
    return route.endpoint, arguments


def _route(app: FastAPI, method: str, path: str) -> tuple[APIRoute, dict[str, Any]]:
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    allowed = False
    for route in app.state.api_routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route, child["path_params"]
        allowed = allowed or match == Match.PARTIAL
    raise ProblemError(405 if allowed else 404, f"No {method} {path} in this API.")


@cache
def _parameters(endpoint: Callable[..., Any]) -> dict[str, tuple[str, Any]]:
    """How to fill each parameter of an endpoint; NotBatchableError when one cannot be filled."""
    kinds: dict[str, tuple[str, Any]] = {}
    for name, hint in get_type_hints(endpoint, include_extras=True).items():
        if name == "return":
            continue
        base, *meta = get_args(hint) if get_origin(hint) is Annotated else (hint,)
        marker = next((m for m in meta if isinstance(m, DependsMarker | Header | PathMarker)), None)
        dependency = getattr(marker, "dependency", None)
        if dependency is session:
            kinds[name] = ("db", None)
        elif dependency is bearer_user:
            kinds[name] = ("user", None)
        elif dependency is attempt:
            kinds[name] = ("attempt", None)
        elif isinstance(marker, Header) and name == "if_match":
            kinds[name] = ("if_match", None)
        elif isinstance(base, type) and issubclass(base, BaseModel):
            kinds[name] = ("body", TypeAdapter(base))
        elif isinstance(marker, PathMarker) or (marker is None and base in (str, int)):
            kinds[name] = ("path", TypeAdapter(hint))  # with the route's pattern, if it has one
        else:
            raise NotBatchableError(name)
    return kinds


def _problem(
    status: int,
    instance: str,
    *,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, str] | None = None,
) -> BatchAnswer:
    kept = {k.lower(): v for k, v in (headers or {}).items() if k.lower() in KEPT_HEADERS}
    return BatchAnswer(
        status=status,
        headers={**kept, "content-type": PROBLEM_JSON},
        body=problem_document(status, instance, detail=detail, errors=errors, extra=extra),
    )
