"""The sitting journal's hash chain: each entry names the one before, so an edit or a removal shows.

Server-safe (no database, no keyring): the sandbox checks submitted journals with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from portal.errors import InputError
from portal.exams.model import Answer
from portal.i18n import _

ANSWER = "answer"
FLAG = "flag"
FLAGGED: Answer = ["flagged"]
KINDS = (ANSWER, FLAG)


class ChainError(InputError):
    """A journal whose chain does not hold; the message says which entry and why."""


@dataclass(frozen=True)
class ChainEntry:
    """One journal entry as it is hashed, stored and sealed."""

    seq: int
    kind: str
    item_id: str
    answer: Answer
    elapsed_ms: int
    prev_hash: str
    entry_hash: str

    def as_json(self) -> dict[str, Any]:
        """The entry as a sealed submission carries it."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "item": self.item_id,
            "answer": list(self.answer),
            "elapsed_ms": self.elapsed_ms,
            "prev": self.prev_hash,
            "hash": self.entry_hash,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ChainEntry:
        """An entry from untrusted JSON, or a ChainError saying what is wrong with it."""
        try:
            entry = cls(
                seq=raw["seq"],
                kind=raw["kind"],
                item_id=raw["item"],
                answer=raw["answer"],
                elapsed_ms=raw["elapsed_ms"],
                prev_hash=raw["prev"],
                entry_hash=raw["hash"],
            )
        except (KeyError, TypeError) as exc:
            raise ChainError(_("a journal entry lacks {field}").format(field=exc)) from exc
        well_typed = (
            type(entry.seq) is int
            and type(entry.elapsed_ms) is int
            and isinstance(entry.kind, str)
            and isinstance(entry.item_id, str)
            and isinstance(entry.prev_hash, str)
            and isinstance(entry.entry_hash, str)
            and isinstance(entry.answer, list)
            and all(isinstance(v, str) for v in entry.answer)
        )
        if not well_typed:
            raise ChainError(_("a journal entry has a field of the wrong type"))
        return entry


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis_hash(
    *,
    uid: str,
    exam_id: str,
    version: str,
    seed: int,
    candidate_name: str,
    partner_id: str,
    language: str,
) -> str:
    """The "previous hash" of the first entry: binds the chain to its sitting."""
    return hashlib.sha256(
        canonical(
            {
                "sitting": uid,
                "exam": exam_id,
                "version": version,
                "seed": seed,
                "candidate": candidate_name,
                "partner": partner_id,
                "language": language,
            }
        )
    ).hexdigest()


def entry_hash(
    *, seq: int, kind: str, item_id: str, answer: Answer, elapsed_ms: int, prev_hash: str
) -> str:
    """SHA-256 over the canonical encoding of what the entry says and the hash before it."""
    return hashlib.sha256(
        canonical(
            {
                "seq": seq,
                "kind": kind,
                "item": item_id,
                "answer": list(answer),
                "elapsed_ms": elapsed_ms,
                "prev": prev_hash,
            }
        )
    ).hexdigest()


def verify_chain(entries: Sequence[ChainEntry], *, genesis: str) -> str:
    """Check every link (numbering, order of time, hashes); returns the last hash.

    Raises ChainError naming the first entry that does not hold: an edited entry fails its own
    hash, a removed or reordered one breaks the numbering or the link of the next.
    """
    prev, elapsed = genesis, 0
    for position, entry in enumerate(entries, start=1):
        if entry.seq != position:
            raise ChainError(
                _("journal entry {seq} is where entry {position} should be").format(
                    seq=entry.seq, position=position
                )
            )
        if entry.kind not in KINDS:
            raise ChainError(_("journal entry {seq} is of no known kind").format(seq=entry.seq))
        if entry.prev_hash != prev:
            raise ChainError(
                _("journal entry {seq} does not follow the entry before it").format(seq=entry.seq)
            )
        if entry.elapsed_ms < elapsed:
            raise ChainError(_("journal entry {seq} goes back in time").format(seq=entry.seq))
        expected = entry_hash(
            seq=entry.seq,
            kind=entry.kind,
            item_id=entry.item_id,
            answer=entry.answer,
            elapsed_ms=entry.elapsed_ms,
            prev_hash=entry.prev_hash,
        )
        if entry.entry_hash != expected:
            raise ChainError(
                _("journal entry {seq} was changed after it was written").format(seq=entry.seq)
            )
        prev, elapsed = entry.entry_hash, entry.elapsed_ms
    return prev


def final_state(entries: Sequence[ChainEntry]) -> tuple[dict[str, Answer], set[str]]:
    """The answers (empty ones left out) and flagged items the journal ends with."""
    answers: dict[str, Answer] = {}
    flagged: set[str] = set()
    for entry in entries:
        if entry.kind == ANSWER:
            if entry.answer:
                answers[entry.item_id] = list(entry.answer)
            else:
                answers.pop(entry.item_id, None)
        elif entry.answer:
            flagged.add(entry.item_id)
        else:
            flagged.discard(entry.item_id)
    return answers, flagged
