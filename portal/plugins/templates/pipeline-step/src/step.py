"""The function the platform calls for each batch of records in a pipeline."""

from __future__ import annotations

from typing import Any


def run(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the transformed batch; replace the copy with your transformation."""
    return [dict(record) for record in records]
