"""The worker-leak fixture itself: a test that leaves an operation running must fail."""

from __future__ import annotations

from pathlib import Path

import pytest

LEAKY = """
import threading
from ui.operations import CoreOp

release = threading.Event()

def test_leaves_a_worker_running(qtbot):
    CoreOp(None, lambda _ctx: release.wait(3), name="slow import").run_in_background()

def test_waits_for_its_worker(qtbot):
    done = []
    CoreOp(None, lambda _ctx: 1).success(done.append).run_in_background()
    qtbot.waitUntil(lambda: done == [1])
"""


def test_a_leaked_worker_fails_the_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest_subprocess("-p", "tests.worker_leaks")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*left background operations running: slow import #1*"])
