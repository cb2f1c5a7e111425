"""Exam content for the sitting, scoring and submission tests: every interaction, keyed."""

from __future__ import annotations

from typing import Any

from portal.db.models import Exam
from portal.db.store import Store
from portal.exams.model import ExamContent


def _t(text: str) -> dict[str, str]:
    return {"en": text}


def _choices(*ids: str, fixed: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"id": i, "text": _t(i.upper()), "fixed": i in fixed} for i in ids]


def items() -> list[dict[str, Any]]:
    """One item of each interaction, each with a key."""
    return [
        {
            "id": "single",
            "title": "single choice",
            "prompt": _t("Pick one"),
            "interaction": {
                "kind": "choice",
                "choices": _choices("a", "b", "c", "d"),
                "shuffle": True,
            },
            "scoring": {"template": "match_correct", "correct": ["b"]},
        },
        {
            "id": "multi",
            "title": "multiple response",
            "prompt": _t("Pick the right ones"),
            "points": 3,
            "interaction": {
                "kind": "choice",
                "choices": _choices("a", "b", "c", "d", "none", fixed=("none",)),
                "shuffle": True,
                "max_choices": 0,
            },
            "scoring": {
                "template": "map_response",
                "mapping": {
                    "entries": {"a": 1.5, "b": 1.5, "c": -1},
                    "lower_bound": 0,
                    "upper_bound": 3,
                },
            },
        },
        {
            "id": "text",
            "title": "text entry",
            "prompt": _t("Name the format"),
            "interaction": {"kind": "text_entry"},
            "scoring": {"template": "match_correct", "correct": ["DSSE", "dsse"]},
        },
        {
            "id": "mapped_text",
            "title": "text entry with a mapping",
            "prompt": _t("Name the curve"),
            "points": 2,
            "interaction": {"kind": "text_entry"},
            "scoring": {
                "template": "map_response",
                "mapping": {
                    "entries": {"ed25519": 2, "curve25519": 1},
                    "case_sensitive": False,
                },
            },
        },
        {
            "id": "essay",
            "title": "extended text",
            "prompt": _t("Explain"),
            "points": 5,
            "interaction": {"kind": "extended_text"},
            "scoring": {"template": "manual"},
        },
        {
            "id": "order",
            "title": "order",
            "prompt": _t("Order them"),
            "interaction": {
                "kind": "order",
                "choices": _choices("w", "x", "y", "z"),
                "shuffle": True,
            },
            "scoring": {"template": "match_correct", "correct": ["x", "w", "z", "y"]},
        },
        {
            "id": "match",
            "title": "match",
            "prompt": _t("Match them"),
            "points": 2,
            "interaction": {
                "kind": "match",
                "sources": _choices("s1", "s2"),
                "targets": _choices("t1", "t2", "t3"),
                "shuffle": True,
            },
            "scoring": {
                "template": "map_response",
                "mapping": {"entries": {"s1 t2": 1, "s2 t1": 1}, "upper_bound": 2},
            },
        },
        {
            "id": "inline",
            "title": "inline choice",
            "prompt": _t("Fill in"),
            "interaction": {
                "kind": "inline_choice",
                "before": _t("Keys are kept in the"),
                "after": _t("."),
                "choices": _choices("keyring", "registry", "settings"),
                "shuffle": True,
            },
            "scoring": {"template": "match_correct", "correct": ["keyring"]},
        },
        {
            "id": "gaps",
            "title": "gap match",
            "prompt": _t("Fill the gaps"),
            "points": 2,
            "interaction": {
                "kind": "gap_match",
                "text": _t("{{G1}} signs, {{G2}} encrypts"),
                "gaps": ["G1", "G2"],
                "gap_texts": _choices("ed", "aes", "md5"),
                "shuffle": True,
            },
            "scoring": {"template": "match_correct", "correct": ["ed G1", "aes G2"]},
        },
    ]


def pool(count: int) -> list[dict[str, Any]]:
    """`count` single-choice items, for draws and the benchmark."""
    return [
        {
            "id": f"p{n}",
            "title": f"pool item {n}",
            "prompt": _t(f"Question {n}"),
            "interaction": {
                "kind": "choice",
                "choices": _choices("a", "b", "c", "d"),
                "shuffle": True,
            },
            "scoring": {"template": "match_correct", "correct": ["a"]},
        }
        for n in range(count)
    ]


def exam(
    *, draw: int | None = 3, pool_size: int = 8, duration_s: int = 3600, **options: Any
) -> ExamContent:
    """A keyed exam: a section of every interaction, and a pool section drawing `draw`."""
    return ExamContent.model_validate(
        {
            "exam_id": "aic-core",
            "version": "1.0",
            "title": _t("AIC core"),
            "languages": ["en"],
            "duration_s": duration_s,
            "pass_mark": 0.6,
            "sections": [
                {"id": "all", "title": _t("Every kind"), "items": items()},
                {"id": "pool", "title": _t("Pool"), "draw": draw, "items": pool(pool_size)},
            ],
            **options,
        }
    )


def add_exam(store: Store, content: ExamContent) -> int:
    """The Exam row a sitting refers to, as importing its package would make it."""
    with store.session() as session, session.begin():
        row = Exam(
            exam_id=content.exam_id,
            version=content.version,
            title=content.title["en"],
            languages=content.languages,
            duration_s=content.duration_s,
            pass_mark=content.pass_mark,
            practice=content.practice,
            package_path="/nowhere/aic-core.aicexam",
            package_sha256="0" * 64,
        )
        session.add(row)
        session.flush()
        return row.id
