"""Which items a candidate gets and in what order: drawn and shuffled from the sitting's seed.

Server-safe: the marketplace redraws from the sealed seed to check what the candidate was shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from portal.exams.model import (
    Choice,
    ChoiceInteraction,
    ExamContent,
    GapMatchInteraction,
    InlineChoiceInteraction,
    Item,
    MatchInteraction,
    OrderInteraction,
)

SEED_BITS = 31  # fits every database's INTEGER


@dataclass(frozen=True)
class DeliveredItem:
    """An item as this candidate sees it: its number, and each choice group's order."""

    number: int
    """1-based, in the order shown."""
    section_id: str
    item: Item
    order: dict[str, list[str]]
    """Per choice group ("choices", "sources", "targets", "gap_texts"), the ids as shown."""


def new_seed() -> int:
    """A fresh seed for a sitting, recorded with it so its delivery can be made again."""
    return random.SystemRandom().getrandbits(SEED_BITS)


def deliver(content: ExamContent, seed: int) -> list[DeliveredItem]:
    """The candidate's items: sections in order, each pool's draw taken and shuffled, choices
    shuffled where the interaction allows (fixed ones keep their place)."""
    delivered: list[DeliveredItem] = []
    for section in content.sections:
        rng = random.Random(f"{seed}/{section.id}")  # a section's draw does not move another's
        pool = list(section.items)
        drawn = rng.sample(pool, section.draw) if section.draw is not None else pool
        rng.shuffle(drawn)
        for item in drawn:
            order = _orders(item, random.Random(f"{seed}/{section.id}/{item.id}"))
            delivered.append(DeliveredItem(len(delivered) + 1, section.id, item, order))
    return delivered


def _orders(item: Item, rng: random.Random) -> dict[str, list[str]]:
    i = item.interaction
    if isinstance(i, MatchInteraction):
        return {
            "sources": _shuffled(i.sources, rng, shuffle=i.shuffle),
            "targets": _shuffled(i.targets, rng, shuffle=i.shuffle),
        }
    if isinstance(i, GapMatchInteraction):
        return {"gap_texts": _shuffled(i.gap_texts, rng, shuffle=i.shuffle)}
    if isinstance(i, ChoiceInteraction | OrderInteraction | InlineChoiceInteraction):
        return {"choices": _shuffled(i.choices, rng, shuffle=i.shuffle)}
    return {}


def _shuffled(choices: list[Choice], rng: random.Random, *, shuffle: bool) -> list[str]:
    """The ids, the movable ones shuffled among the places fixed ones leave (QTI's rule)."""
    ids = [c.id for c in choices]
    if not shuffle:
        return ids
    movable = [c.id for c in choices if not c.fixed]
    rng.shuffle(movable)
    moved = iter(movable)
    return [c.id if c.fixed else next(moved) for c in choices]
