"""The sandbox's published demo sign-in and demo exams, shared by its seed data and the headless
walkthrough."""

from __future__ import annotations

import sys
from pathlib import Path

DEMO_PASSWORD = "sandbox-demo"  # published on purpose: the sandbox holds no real data
DEMO_EMAIL = "ada@lagos-ai.example"
DEMO_EXAM_CODE = "AICP-DEMO-2026"
"""The certification demo exam's sitting code, as a proctor would hand it out."""
DEMO_CERTIFICATION_EXAM = "aic-platform-associate.json"
"""The certification demo exam as authored, answer keys included (published with the source)."""


def demo_exams_folder() -> Path:
    """resources/exams, beside the source tree or inside the installed bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parents[1]
    return base / "resources" / "exams"
