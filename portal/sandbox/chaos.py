"""`--chaos RATE`: faults injected into a share of requests, for resilience tests.

Faults: a 503 before any work, a 429 with Retry-After, a slow answer, and a connection dropped
after the work was done and committed (the case that tests exactly-once delivery).
"""

from __future__ import annotations

import asyncio
import json
import random
from http import HTTPStatus
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULTS = ("unavailable", "too_many", "slow", "drop")


class ChaosDropError(Exception):
    """Raised mid-response so the server closes the connection without finishing it."""


class Chaos:
    """ASGI middleware that picks a fault for a share `rate` of the /v1 requests."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        retry_after: int = 1,
        slow_seconds: float = 0.2,
        seed: int | None = None,
    ) -> None:
        self.app, self.rate, self.retry_after = app, rate, retry_after
        self.slow_seconds = slow_seconds
        self.random = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        fault = self.random.choice(FAULTS) if self.random.random() < self.rate else None
        if fault == "unavailable":
            await _problem(send, 503, "Chaos: the service is unavailable; try again.", {})
        elif fault == "too_many":
            await _problem(
                send, 429, "Chaos: too many requests.", {"retry-after": str(self.retry_after)}
            )
        elif fault == "slow":
            await asyncio.sleep(self.slow_seconds)
            await self.app(scope, receive, send)
        elif fault == "drop":
            await self.app(scope, receive, _drop_body(send))
        else:
            await self.app(scope, receive, send)


def _drop_body(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise ChaosDropError("chaos: connection dropped after the work was done")
        await send(message)

    return wrapped


async def _problem(send: Send, status: int, detail: str, extra: dict[str, str]) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        *((k.encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
