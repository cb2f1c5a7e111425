"""Answer-save benchmark: `SittingSession.save_answer` on a 200-item exam against a plain SQLite
insert with the same durability (WAL, synchronous=FULL, one transaction per row), same disk.

Alternates the two sides `--runs` times; prints the medians of each run's p50 and p99 and the
p99 ratio (goal: <= 2x the baseline).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.db.store import Store  # noqa: E402
from portal.exams.model import ExamContent  # noqa: E402
from portal.exams.sitting import SittingSession  # noqa: E402
from portal.paths import DataDir  # noqa: E402
from tests.exams.content import add_exam, pool  # noqa: E402

ITEMS = 200


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at `fraction` of the sorted list (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def exam_of(items: int) -> ExamContent:
    return ExamContent.model_validate(
        {
            "exam_id": "bench",
            "version": "1",
            "title": {"en": "Bench"},
            "languages": ["en"],
            "duration_s": 10 * 3600,
            "pass_mark": 0.5,
            "sections": [{"id": "s", "title": {"en": "S"}, "items": pool(items)}],
        }
    )


def app_side(root: Path, saves: int, rng: random.Random) -> list[float]:
    """Seconds per save_answer, each one a change of answer."""
    content = exam_of(ITEMS)
    with Store.open(DataDir(root).ensure()) as store:
        sitting = SittingSession.start(
            store,
            exam_pk=add_exam(store, content),
            content=content,
            candidate_name="Bench",
            partner_id="bench",
            language="en",
        )
        samples = []
        for n in range(saves):
            number = rng.randrange(1, ITEMS + 1)
            choice = "abcd"[n % 4]
            started = time.perf_counter()
            sitting.save_answer(number, [choice])
            samples.append(time.perf_counter() - started)
        sitting.close()
    return samples


def baseline(root: Path, saves: int, rng: random.Random) -> list[float]:
    """Seconds per plain INSERT of a row of the same size, committed alone, WAL + FULL."""
    root.mkdir(parents=True)
    db = sqlite3.connect(root / "plain.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE entries (id INTEGER PRIMARY KEY, sitting_id INTEGER, seq INTEGER,"
        " kind TEXT, item_id TEXT, answer TEXT, elapsed_ms INTEGER, recorded_at TEXT,"
        " prev_hash TEXT, entry_hash TEXT, UNIQUE (sitting_id, seq))"
    )
    samples = []
    for n in range(saves):
        row = (
            1,
            n + 1,
            "answer",
            f"p{rng.randrange(ITEMS)}",
            json.dumps(["abcd"[n % 4]]),
            n,
            "2026-11-26 08:00:00.000000",
            "0" * 64,
            "f" * 64,
        )
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO entries (sitting_id, seq, kind, item_id, answer, elapsed_ms,"
            " recorded_at, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        db.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    db.close()
    return samples


def main() -> int:
    """Measure both sides alternately; print medians of p50/p99 and the p99 ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="exam-save-"))
    app50, app99, base50, base99 = [], [], [], []
    for run in range(args.runs):
        plain = baseline(work / f"plain-{run}", args.saves, rng)
        saved = app_side(work / f"app-{run}", args.saves, rng)
        base50.append(percentile(plain, 0.5))
        base99.append(percentile(plain, 0.99))
        app50.append(percentile(saved, 0.5))
        app99.append(percentile(saved, 0.99))

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    ratio = ms(app99) / ms(base99)
    print(f"answer save, {ITEMS}-item exam, {args.saves} saves x {args.runs} runs (medians)")
    print(f"  save_answer:          p50 {ms(app50):7.2f} ms   p99 {ms(app99):7.2f} ms")
    print(f"  plain insert (FULL):  p50 {ms(base50):7.2f} ms   p99 {ms(base99):7.2f} ms")
    print(f"  p99 ratio: {ratio:.2f}x (goal <= 2x)  p50 ratio: {ms(app50) / ms(base50):.2f}x")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
