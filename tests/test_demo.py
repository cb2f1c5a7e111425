"""The walkthrough's prepared candidate: the answers it gives score every point a key can give."""

from __future__ import annotations

import pytest

from portal.demo.exams import prepared_answer
from portal.demo_accounts import DEMO_CERTIFICATION_EXAM, demo_exams_folder
from portal.exams.model import ExamContent, answer_problem
from portal.exams.scoring import score_item


@pytest.mark.parametrize("name", [DEMO_CERTIFICATION_EXAM, "aic-platform-practice.json"])
def test_prepared_answers_are_accepted_and_score_full_points(name: str) -> None:
    content = ExamContent.model_validate_json((demo_exams_folder() / name).read_bytes())
    for item in content.items():
        for language in content.languages:
            answer = prepared_answer(item, language)
            assert answer, item.id  # every item answered, the written ones with the model answer
            assert answer_problem(item, answer) is None, item.id
            scored = score_item(item, answer)
            assert scored.status in ("correct", "manual"), (item.id, answer)
            assert scored.status == "manual" or scored.score == item.points


def test_a_written_answer_is_in_the_sitting_language() -> None:
    content = ExamContent.model_validate_json(
        (demo_exams_folder() / DEMO_CERTIFICATION_EXAM).read_bytes()
    )
    written = content.item("why-signed-report")
    assert prepared_answer(written, "fr")[0].startswith("Le rapport est signé")
