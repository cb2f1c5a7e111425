"""Small exams for the package, library and sandbox tests, written as an author would."""

from __future__ import annotations

from portal.exams.model import (
    Choice,
    ChoiceInteraction,
    ExamContent,
    Item,
    Scoring,
    Section,
    TextEntryInteraction,
)


def sample_exam(*, exam_id: str = "aic-sample", practice: bool = False) -> ExamContent:
    """A two-item exam with keys, in English and French."""
    return ExamContent(
        exam_id=exam_id,
        version="1.0",
        title={"en": "Sample exam", "fr": "Examen d’essai"},
        languages=["en", "fr"],
        duration_s=600,
        pass_mark=0.5,
        practice=practice,
        sections=[
            Section(
                id="basics",
                title={"en": "Basics", "fr": "Bases"},
                items=[
                    Item(
                        id="q1",
                        title="signing algorithm",
                        prompt={
                            "en": "Which algorithm signs plugin packages?",
                            "fr": "Quel algorithme signe les paquets de plugins ?",
                        },
                        interaction=ChoiceInteraction(
                            choices=[
                                Choice(id="ed25519", text={"en": "Ed25519", "fr": "Ed25519"}),
                                Choice(id="md5", text={"en": "MD5", "fr": "MD5"}),
                            ]
                        ),
                        scoring=Scoring(template="match_correct", correct=["ed25519"]),
                        feedback={"en": "DSSE with Ed25519.", "fr": "DSSE avec Ed25519."},
                        media=["diagram.png"],
                    ),
                    Item(
                        id="q2",
                        title="outbox",
                        prompt={
                            "en": "Name the queue that holds offline work.",
                            "fr": "Nommez la file qui garde le travail hors ligne.",
                        },
                        interaction=TextEntryInteraction(),
                        scoring=Scoring(template="match_correct", correct=["outbox"]),
                    ),
                ],
            )
        ],
    )


MEDIA = {"diagram.png": b"\x89PNG\r\n\x1a\n not really a picture, but bytes all the same"}
