"""Scoring with the keys: every interaction, both templates, mapping bounds and case, directed
pairs, sections, draws, pass mark and manual items."""

from __future__ import annotations

import pytest

from portal.exams.model import Answer, ExamContent
from portal.exams.scoring import ScoringError, score, score_item
from tests.exams.content import exam

CASES: list[tuple[str, Answer, float, str]] = [
    ("single", ["b"], 1, "correct"),
    ("single", ["a"], 0, "incorrect"),
    ("single", [], 0, "unanswered"),
    ("multi", ["a", "b"], 3, "correct"),
    ("multi", ["b", "a"], 3, "correct"),
    ("multi", ["a"], 1.5, "partial"),
    ("multi", ["a", "c"], 0.5, "partial"),
    ("multi", ["c"], 0, "incorrect"),  # -1, bounded below at 0
    ("multi", ["a", "b", "d"], 3, "correct"),  # default 0 for an unlisted choice
    ("text", ["DSSE"], 1, "correct"),
    ("text", ["  dsse "], 1, "correct"),  # any accepted text, trimmed
    ("text", ["Dsse"], 0, "incorrect"),  # match_correct is case-sensitive
    ("text", ["   "], 0, "unanswered"),
    ("mapped_text", ["ED25519"], 2, "correct"),  # the mapping is case-insensitive
    ("mapped_text", ["Curve25519"], 1, "partial"),
    ("mapped_text", ["rsa"], 0, "incorrect"),
    ("essay", ["A long answer"], 0, "manual"),
    ("order", ["x", "w", "z", "y"], 1, "correct"),
    ("order", ["w", "x", "z", "y"], 0, "incorrect"),
    ("match", ["s1 t2", "s2 t1"], 2, "correct"),
    ("match", ["s1 t2"], 1, "partial"),
    ("match", ["t2 s1", "t1 s2"], 0, "incorrect"),  # pairs are directed
    ("inline", ["keyring"], 1, "correct"),
    ("inline", ["registry"], 0, "incorrect"),
    ("gaps", ["aes G2", "ed G1"], 2, "correct"),
    ("gaps", ["ed G1"], 0, "incorrect"),  # match_correct: all or nothing
    ("gaps", ["ed G2", "aes G1"], 0, "incorrect"),
]


@pytest.mark.parametrize(("item_id", "answer", "points", "status"), CASES)
def test_every_interaction_and_template(
    content: ExamContent, item_id: str, answer: Answer, points: float, status: str
) -> None:
    scored = score_item(content.item(item_id), answer)
    assert (scored.score, scored.status) == (points, status)
    assert score(content, {item_id: answer}).item(item_id).score == points


def test_a_mapping_that_is_case_sensitive_and_upper_bounded() -> None:
    content = exam()
    match = content.item("match")
    assert score_item(match, ["s1 t2", "s2 t1", "s1 t1"]).score == 2  # upper bound 2
    assert score_item(content.item("mapped_text"), ["ed25519"]).score == 2


def test_sections_overall_pass_mark_and_manual_items(content: ExamContent) -> None:
    drawn = ["p0", "p1", "p2"]
    everything_in_all = [i.id for i in content.sections[0].items]
    answers: dict[str, Answer] = {
        "single": ["b"],
        "multi": ["a", "b"],
        "text": ["DSSE"],
        "mapped_text": ["ed25519"],
        "order": ["x", "w", "z", "y"],
        "match": ["s1 t2", "s2 t1"],
        "inline": ["keyring"],
        "gaps": ["ed G1", "aes G2"],
        "essay": ["..."],
        "p0": ["a"],
        "p1": ["b"],
        "p5": ["a"],  # not delivered: does not count
    }
    report = score(content, answers, delivered=everything_in_all + drawn)
    by_section = {s.section_id: (s.score, s.max_score) for s in report.sections}
    assert by_section == {"all": (13, 18), "pool": (1, 3)}
    assert (report.score, report.max_score) == (14, 21)
    assert report.fraction == pytest.approx(14 / 21)
    assert report.pending_manual == ["essay"]
    assert report.passed  # 14 >= 0.6 * 21 = 12.6, whatever the essay scores
    assert report.final
    near = {k: answers[k] for k in ("single", "multi", "match", "gaps")}
    waiting = score(content, near, delivered=everything_in_all + drawn)
    assert waiting.score == 8 and not waiting.passed
    assert not waiting.final  # 8 + the essay's 5 could still reach 12.6


def test_a_fail_that_the_essay_cannot_rescue_is_final(content: ExamContent) -> None:
    report = score(content, {}, delivered=[i.id for i in content.items()][:9])
    assert report.score == 0 and not report.passed
    assert report.final  # 0 + 5 < 0.6 * 18


def test_an_item_without_a_key_cannot_be_scored(content: ExamContent) -> None:
    with pytest.raises(ScoringError, match="item single has no answer key"):
        score(content.without_keys(), {"single": ["b"]})
