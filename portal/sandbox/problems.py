"""RFC 9457 problem details for every error the sandbox returns, so clients parse one shape."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from portal.sandbox.chaos import ChaosDropError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(BaseModel):
    """The RFC 9457 members the sandbox fills; `errors` lists what failed validation."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class ProblemError(Exception):
    """Raised by an endpoint to answer with a problem; `extra` adds members (OAuth's `error`).

    `keep_changes` commits what the request did before failing (revoking a stolen token family);
    `errors` lists each thing found wrong (lint findings of a submitted package).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        keep_changes: bool = False,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers, extra
        self.keep_changes, self.errors = keep_changes, errors


def oauth_error(
    error: str, description: str, *, status: int = 400, keep_changes: bool = False
) -> ProblemError:
    """An RFC 6749 error (`error`, `error_description`) carried inside an RFC 9457 problem."""
    return ProblemError(
        status,
        description,
        extra={"error": error, "error_description": description},
        keep_changes=keep_changes,
    )


def problem_response(
    request: Request,
    status: int,
    *,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response for `status` about the request's path."""
    return JSONResponse(
        problem_document(status, request.url.path, detail=detail, errors=errors, extra=extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def problem_document(
    status: int,
    instance: str,
    *,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The RFC 9457 members for `status` about the resource at `instance`."""
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
        **(extra or {}),
    )
    return problem.model_dump(exclude_none=True)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, exc.status_code, detail=detail, headers=headers)


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request,
        exc.status,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        request,
        422,
        detail="The request does not match the API schema.",
        errors=validation_errors(exc.errors()),
    )


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors as the problem's `errors` member: where, and what is wrong."""
    return [{"location": list(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in errors]


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    """A unique key taken by a concurrent request between this one's check and its write."""
    assert isinstance(exc, IntegrityError)
    return problem_response(
        request, 409, detail="A concurrent request changed this first: read again, then retry."
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ChaosDropError):  # injected on purpose; the connection just drops
        raise exc
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(request, 500, detail="The sandbox failed; see its log.")


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error, including unknown paths and bad bodies, through problem+json."""
    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(Exception, _unexpected)
    app.openapi = partial(_openapi, app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with errors declared as problem+json, the only type they come in.

    FastAPI files the error model under each route's own media type (JSON, or HTML for pages).
    """
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = FastAPI.openapi(app)  # kept as app.openapi_schema, changed in place below
    for operations in schema["paths"].values():
        for operation in operations.values():
            default = operation["responses"]["default"]
            (problem,) = default["content"].values()
            default["content"] = {PROBLEM_JSON: problem}
    return schema
