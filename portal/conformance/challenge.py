"""The marketplace's challenge: a one-time nonce mixed into a run's seed, so a report shows that
its inputs were drawn after the marketplace asked, and cannot be one picked from many runs.

Derivation (documented in the report schema too): with the base seed S (`--seed`, default 0) and
the challenge nonce N (hex), the run's seed is the first 8 bytes of SHA-256("S:N"), big-endian,
shifted right by one bit (so it fits a signed 64-bit integer). Each check's seed then comes from
the run's seed as before, so `--only` and the repro snippets draw the same inputs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DERIVATION = "sha256(f'{baseSeed}:{nonce}')[:8], big-endian, >> 1"


@dataclass(frozen=True)
class Challenge:
    """A nonce the marketplace issued to one partner organisation, valid until `expires_at`."""

    id: str
    nonce: str
    expires_at: datetime


def challenged_seed(base_seed: int, nonce: str) -> int:
    """The run's seed for `base_seed` under the challenge `nonce` (see the module's docstring)."""
    digest = hashlib.sha256(f"{base_seed}:{nonce}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def challenge_json(challenge: Challenge | None, base_seed: int) -> dict[str, Any]:
    """How report.json records the challenge, or that the run had none."""
    if challenge is None:
        return {"state": "unchallenged"}
    return {
        "state": "challenged",
        "id": challenge.id,
        "nonce": challenge.nonce,
        "expiresAt": challenge.expires_at.isoformat(),
        "baseSeed": base_seed,
        "derivation": DERIVATION,
    }
