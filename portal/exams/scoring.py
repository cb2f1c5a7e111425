"""Scoring with the answer keys: QTI's match_correct and map_response templates, per item, per
section and overall. The sandbox scores certification submissions with it; practice exams score
locally, item by item, for instant feedback.

Comparisons follow QTI: single and multiple responses and (directed) pairs compare as sets, an
order compares in order, a text entry matches one of the accepted texts exactly (after trimming
the spaces around it). map_response adds the mapping's points of each distinct value (the default
for values it does not list), case-insensitively where the mapping says so, then applies its
bounds; an item never scores more than its points.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any, Literal

from portal.errors import InputError
from portal.exams.model import (
    Answer,
    ExamContent,
    ExtendedTextInteraction,
    Item,
    Mapping,
    OrderInteraction,
    TextEntryInteraction,
)
from portal.i18n import _

Status = Literal["correct", "partial", "incorrect", "unanswered", "manual"]


class ScoringError(InputError):
    """The exam cannot be scored here (an item has no key); the message names the item."""


@dataclass(frozen=True)
class ItemScore:
    """One item's points; `manual` items wait for a person and score nothing yet."""

    item_id: str
    section_id: str
    score: float
    max_score: float
    status: Status


@dataclass(frozen=True)
class SectionScore:
    """A section's points, over the items the candidate was given."""

    section_id: str
    score: float
    max_score: float


@dataclass(frozen=True)
class ScoreReport:
    """The whole result.

    `passed` compares the points scored so far with the pass mark; while items wait for manual
    scoring (`pending_manual`) it may still change, which `final` says.
    """

    items: list[ItemScore]
    sections: list[SectionScore]
    score: float
    max_score: float
    fraction: float
    pass_mark: float
    passed: bool
    final: bool
    pending_manual: list[str]

    def item(self, item_id: str) -> ItemScore:
        """The score of one item (KeyError when it was not scored)."""
        for scored in self.items:
            if scored.item_id == item_id:
                return scored
        raise KeyError(item_id)

    def as_json(self) -> dict[str, Any]:
        """The report as the marketplace returns it."""
        return asdict(self)


def score(
    content: ExamContent,
    answers: dict[str, Answer],
    *,
    delivered: Collection[str] | None = None,
) -> ScoreReport:
    """Score `answers` (by item id) against the keys of `content`, over the `delivered` items
    (every item when None: a pool's draw decides which count)."""
    shown = set(delivered) if delivered is not None else None
    items: list[ItemScore] = []
    sections: list[SectionScore] = []
    for section in content.sections:
        scored = [
            _score(item, section.id, answers.get(item.id, []))
            for item in section.items
            if shown is None or item.id in shown
        ]
        items.extend(scored)
        sections.append(
            SectionScore(
                section.id,
                _round(sum(s.score for s in scored)),
                _round(sum(s.max_score for s in scored)),
            )
        )
    total = max(_round(sum(s.score for s in items)), 0.0)
    most = _round(sum(s.max_score for s in items))
    pending = [s.item_id for s in items if s.status == "manual"]
    needed = content.pass_mark * most
    passed = total >= needed - 1e-9
    could_still = total + sum(s.max_score for s in items if s.status == "manual") >= needed - 1e-9
    return ScoreReport(
        items=items,
        sections=sections,
        score=total,
        max_score=most,
        fraction=_round(total / most) if most else 0.0,
        pass_mark=content.pass_mark,
        passed=passed,
        final=not pending or passed or not could_still,
        pending_manual=pending,
    )


def score_item(item: Item, answer: Answer, *, section_id: str = "") -> ItemScore:
    """One item's score, for a practice exam's feedback after each answer."""
    return _score(item, section_id, answer)


def _score(item: Item, section_id: str, answer: Answer) -> ItemScore:
    key = item.scoring
    if key is None:
        raise ScoringError(_("item {item} has no answer key").format(item=item.id))
    if key.template == "manual" or isinstance(item.interaction, ExtendedTextInteraction):
        return ItemScore(item.id, section_id, 0.0, item.points, "manual")
    values = _values(item, answer)
    if not values:
        return ItemScore(item.id, section_id, 0.0, item.points, "unanswered")
    if key.template == "match_correct":
        right = _matches(item, values, key.correct)
        points = item.points if right else 0.0
    else:
        assert key.mapping is not None, "the model requires a mapping for map_response"
        points = min(_mapped(key.mapping, values), item.points)
    points = _round(points)
    status: Status = (
        "correct" if points >= item.points else "partial" if points > 0 else "incorrect"
    )
    return ItemScore(item.id, section_id, points, item.points, status)


def _values(item: Item, answer: Answer) -> list[str]:
    """The answer's values, a typed text trimmed; an empty text is no answer."""
    if isinstance(item.interaction, TextEntryInteraction):
        return [text.strip() for text in answer[:1] if text.strip()]
    return list(answer)


def _matches(item: Item, values: list[str], correct: Answer) -> bool:
    if isinstance(item.interaction, TextEntryInteraction):
        return values[0] in correct  # any one accepted text
    if isinstance(item.interaction, OrderInteraction):
        return values == list(correct)
    return set(values) == set(correct)  # choices, pairs ("SOURCE TARGET" is directed)


def _mapped(mapping: Mapping, values: list[str]) -> float:
    def fold(text: str) -> str:
        return text if mapping.case_sensitive else text.casefold()

    entries = {fold(k): v for k, v in mapping.entries.items()}
    total = sum(entries.get(value, mapping.default) for value in {fold(v) for v in values})
    if mapping.lower_bound is not None:
        total = max(total, mapping.lower_bound)
    if mapping.upper_bound is not None:
        total = min(total, mapping.upper_bound)
    return total


def _round(value: float) -> float:
    return round(value, 6)
