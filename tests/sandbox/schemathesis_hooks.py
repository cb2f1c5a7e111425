"""Loaded by the Schemathesis run (its `hooks` setting) so its cases reach the sandbox's logic."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

# Upload chunks are plain bytes, whatever their media type says about offsets.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: Any) -> None:
    """A fresh Idempotency-Key per case, or most would replay the first answer to that key."""
    headers = case.headers or {}
    key = headers.get("idempotency-key")
    if isinstance(key, str) and 0 < len(key) <= 200:
        headers["idempotency-key"] = str(uuid.uuid4())
