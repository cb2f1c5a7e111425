"""The function the platform calls for each inference request."""

from __future__ import annotations

from typing import Any


def serve(request: dict[str, Any]) -> dict[str, Any]:
    """Answer one request; replace the echo with your model's prediction."""
    return {"outputs": request.get("inputs", [])}
