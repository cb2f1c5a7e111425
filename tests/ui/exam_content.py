"""A small exam with one item of every interaction, in English, French and Arabic."""

from __future__ import annotations

from typing import Any

from portal.exams.model import ExamContent

LANGS = ("en", "fr", "ar")


def t(en: str, fr: str, ar: str) -> dict[str, str]:
    """One text in the three languages."""
    return {"en": en, "fr": fr, "ar": ar}


def c(cid: str, en: str, fr: str, ar: str, **extra: Any) -> dict[str, Any]:
    """A choice."""
    return {"id": cid, "text": t(en, fr, ar), **extra}


ITEMS: list[dict[str, Any]] = [
    {
        "id": "q_choice",
        "title": "single choice",
        "prompt": t(
            "Which tensor backend runs on every machine?",
            "Quel backend de tenseurs fonctionne sur toute machine ?",
            "أي واجهة خلفية للموترات تعمل على كل جهاز؟",
        ),
        "interaction": {
            "kind": "choice",
            "shuffle": True,
            "choices": [
                c("cpu", "CPU reference", "Référence CPU", "مرجع المعالج"),
                c("cuda", "CUDA", "CUDA", "CUDA"),
                c("tpu", "TPU", "TPU", "TPU"),
            ],
        },
        "scoring": {"template": "match_correct", "correct": ["cpu"]},
        "feedback": t(
            "The CPU reference needs no accelerator.",
            "La référence CPU n'exige aucun accélérateur.",
            "لا يحتاج مرجع المعالج إلى مسرّع.",
        ),
    },
    {
        "id": "q_multi",
        "title": "multiple choice",
        "prompt": t(
            "Which files does a signed plugin package carry?",
            "Quels fichiers un paquet de plugin signé contient-il ?",
            "ما الملفات التي تحملها حزمة الإضافة الموقعة؟",
        ),
        "interaction": {
            "kind": "choice",
            "max_choices": 2,
            "choices": [
                c("manifest", "The manifest", "Le manifeste", "البيان"),
                c("signature", "A signature", "Une signature", "توقيع"),
                c("password", "The password", "Le mot de passe", "كلمة المرور"),
            ],
        },
        "scoring": {"template": "match_correct", "correct": ["manifest", "signature"]},
    },
    {
        "id": "q_text",
        "title": "text entry",
        "prompt": t(
            "Which command verifies a certificate offline?",
            "Quelle commande vérifie un certificat hors ligne ?",
            "ما الأمر الذي يتحقق من شهادة دون اتصال؟",
        ),
        "interaction": {"kind": "text_entry", "expected_length": 20},
        "scoring": {"template": "match_correct", "correct": ["aic-portal cert verify"]},
    },
    {
        "id": "q_essay",
        "title": "extended text",
        "prompt": t(
            "Explain why exam content is encrypted at rest.",
            "Expliquez pourquoi le contenu des examens est chiffré au repos.",
            "اشرح لماذا يُشفَّر محتوى الامتحان أثناء التخزين.",
        ),
        "interaction": {"kind": "extended_text", "expected_lines": 5},
        "scoring": {"template": "manual"},
    },
    {
        "id": "q_order",
        "title": "order",
        "prompt": t(
            "Put the release steps in order.",
            "Mettez les étapes de publication dans l'ordre.",
            "رتّب خطوات الإصدار.",
        ),
        "interaction": {
            "kind": "order",
            "choices": [
                c("lint", "Lint", "Vérifier", "الفحص"),
                c("pack", "Pack", "Empaqueter", "التحزيم"),
                c("sign", "Sign", "Signer", "التوقيع"),
            ],
        },
        "scoring": {"template": "match_correct", "correct": ["lint", "pack", "sign"]},
    },
    {
        "id": "q_match",
        "title": "match",
        "prompt": t(
            "Match each backend with its kind.",
            "Associez chaque backend à son type.",
            "طابق كل واجهة خلفية مع نوعها.",
        ),
        "interaction": {
            "kind": "match",
            "sources": [
                c("qiskit", "Qiskit", "Qiskit", "Qiskit"),
                c("loihi", "Loihi", "Loihi", "Loihi"),
            ],
            "targets": [
                c("quantum", "Quantum", "Quantique", "كمّي"),
                c("neuro", "Neuromorphic", "Neuromorphique", "عصبي الشكل"),
            ],
        },
        "scoring": {
            "template": "match_correct",
            "correct": ["qiskit quantum", "loihi neuro"],
        },
    },
    {
        "id": "q_inline",
        "title": "inline choice",
        "prompt": t("Complete the sentence.", "Complétez la phrase.", "أكمل الجملة."),
        "interaction": {
            "kind": "inline_choice",
            "before": t(
                "Tokens are kept in the", "Les jetons sont gardés dans le", "تُحفظ الرموز في"
            ),
            "after": t("of the system.", "du système.", "الخاص بالنظام."),
            "choices": [
                c("keyring", "keyring", "trousseau", "سلسلة المفاتيح"),
                c("registry", "registry", "registre", "السجل"),
            ],
        },
        "scoring": {"template": "match_correct", "correct": ["keyring"]},
    },
    {
        "id": "q_gap",
        "title": "gap match",
        "prompt": t("Fill the gaps.", "Complétez les trous.", "املأ الفراغات."),
        "interaction": {
            "kind": "gap_match",
            "text": t(
                "Packages are signed with {{g1}} and encrypted with {{g2}}.",
                "Les paquets sont signés avec {{g1}} et chiffrés avec {{g2}}.",
                "تُوقَّع الحزم بـ {{g1}} وتُشفَّر بـ {{g2}}.",
            ),
            "gaps": ["g1", "g2"],
            "gap_texts": [
                c("ed", "Ed25519", "Ed25519", "Ed25519"),
                c("aes", "AES-256-GCM", "AES-256-GCM", "AES-256-GCM"),
            ],
        },
        "scoring": {"template": "match_correct", "correct": ["ed g1", "aes g2"]},
    },
]


def exam_content(*, practice: bool = False, duration_s: int = 1800, extra: int = 0) -> ExamContent:
    """The exam; `extra` adds that many more items, every interaction in turn (for the
    navigation benchmark)."""
    items = list(ITEMS)
    for n in range(extra):
        copy = dict(ITEMS[n % len(ITEMS)])
        copy["id"] = f"q_extra_{n}"
        items.append(copy)
    return ExamContent.model_validate(
        {
            "exam_id": "aic_foundations",
            "version": "1.0",
            "title": t(
                "AIC Platform Foundations", "Fondamentaux de la plateforme AIC", "أساسيات منصة AIC"
            ),
            "languages": list(LANGS),
            "duration_s": duration_s,
            "pass_mark": 0.7,
            "practice": practice,
            "sections": [
                {
                    "id": "main",
                    "title": t("Foundations", "Fondamentaux", "الأساسيات"),
                    "items": items,
                }
            ],
        }
    )
