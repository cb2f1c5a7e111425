"""The function the platform calls to pull records from the data source."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def fetch(config: dict[str, Any], secrets: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Yield records; replace the sample with calls to your source, authenticated by `secrets`."""
    yield {"id": 1, "source": config.get("source", "sample")}
