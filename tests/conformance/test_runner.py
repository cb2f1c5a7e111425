"""The isolated runner: crashes and hangs are one check's ERROR, seeds reproduce, cancel stops."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest

from portal.cancel import CancelToken
from portal.conformance import runner, worker
from portal.conformance.catalogue import profile_checks
from portal.conformance.results import Status
from portal.conformance.runner import StartError, run_profile
from portal.conformance.tolerances import load_table
from portal.errors import Cancelled


def test_a_crashing_check_is_an_error_and_the_run_goes_on() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.crashes_in_matmul", "tensor-core-v1", only="*.float32"
    )
    statuses = {r.check: r.status for r in outcome.results}
    assert statuses["matmul.float32"] is Status.ERROR
    assert statuses["matmul.batched.float32"] is Status.ERROR
    assert statuses["softmax.float32"] is Status.PASS  # after the crashes, on a fresh worker
    crashed = next(r for r in outcome.results if r.check == "matmul.float32")
    assert "exit code 3" in crashed.message
    assert crashed.repro is not None and "matmul.float32" in crashed.repro.snippet
    assert outcome.exit_code == 1


def test_a_hanging_check_times_out_as_an_error() -> None:
    outcome = run_profile(
        "array-api:tests.conformance.hangs_in_var",
        "tensor-core-v1",
        only="[ls]*.float32",
        timeout_s=2,
    )
    statuses = {r.check: r.status for r in outcome.results}
    assert statuses == {
        "layer-norm.float32": Status.ERROR,
        "softmax.float32": Status.PASS,
    }
    assert "no answer within 2 s" in outcome.results[1].message


def test_the_same_seed_gives_the_same_measurements_and_another_seed_does_not() -> None:
    def measured(seed: int) -> list[object]:
        outcome = run_profile("cpu-reference", "tensor-core-v1", seed=seed, only="*.float32")
        timed = [r for r in outcome.results if r.check.startswith("performance.")]
        assert timed and all(r.status is Status.PASS for r in timed)
        # Timings differ from run to run by nature; everything else must not.
        return [(r.check, r.status, r.measured) for r in outcome.results if r not in timed]

    assert measured(11) == measured(11)
    assert measured(11) != measured(12)


def test_an_unknown_backend_profile_or_kind_cannot_start() -> None:
    with pytest.raises(StartError, match="There is no backend “nope”"):
        run_profile("nope", "tensor-core-v1")
    with pytest.raises(StartError, match="There is no conformance profile"):
        run_profile("cpu-reference", "nope-v1")
    with pytest.raises(StartError, match="There is no Python module"):
        run_profile("array-api:no_such_module_here", "tensor-core-v1")
    with pytest.raises(StartError, match="is for neuromorphic backends"):
        run_profile("cpu-reference", "neuromorphic-lif-v1")


def test_cancel_stops_the_run_and_its_worker() -> None:
    cancel = CancelToken()
    seen: list[str] = []

    def progress(done: int, total: int | None, message: str) -> None:
        seen.append(message)
        if message == "layer-norm.float32":
            threading.Timer(0.3, cancel.cancel).start()

    with pytest.raises(Cancelled):
        run_profile(
            "array-api:tests.conformance.hangs_in_var",
            "tensor-core-v1",
            only="layer-norm.*",
            timeout_s=60,
            progress=progress,
            cancel=cancel,
        )
    assert seen == ["layer-norm.float32"]


def test_a_run_ended_by_its_caller_stops_its_worker_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[BaseProcess] = []
    start = runner._Worker.__init__

    def init(self: runner._Worker, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        started.append(self.process)

    def shown(result: object) -> None:
        raise RuntimeError("the window that listed results was closed")

    monkeypatch.setattr(runner._Worker, "__init__", init)
    with pytest.raises(RuntimeError, match="window"):
        run_profile(  # softmax passes, then layer-norm would hang for an hour
            "array-api:tests.conformance.hangs_in_var",
            "tensor-core-v1",
            only="[sl]*.float32",
            on_result=shown,
        )
    assert [p.is_alive() for p in started] == [False]


def test_the_worker_speaks_the_language_the_user_chose() -> None:
    from portal.i18n import current_locale, set_locale

    before = current_locale()
    set_locale("fr")
    try:
        outcome = run_profile("cpu-reference", "tensor-core-v1", only="casts")
    finally:
        set_locale(before)
    assert outcome.results[0].message == "les conversions de type sont exactes"


def _ended_workers(run: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> list[BaseProcess]:
    """The worker processes of `run()`, once ended: after the runner's threads that wait for that
    are done (their join and ours at once would race for the exit code)."""
    started: list[BaseProcess] = []
    start = runner._Worker.__init__

    def init(self: runner._Worker, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        started.append(self.process)

    monkeypatch.setattr(runner._Worker, "__init__", init)
    threads = set(threading.enumerate())
    run()
    for thread in set(threading.enumerate()) - threads:
        thread.join(30)
    for process in started:
        process.join(30)
    return started


def test_the_worker_ends_by_itself_after_its_last_check(monkeypatch: pytest.MonkeyPatch) -> None:
    workers = _ended_workers(
        lambda: run_profile("cpu-reference", "tensor-core-v1", only="casts"), monkeypatch
    )
    assert [p.exitcode for p in workers] == [0]  # not killed, though the run did not wait


def test_a_worker_that_does_not_end_after_its_last_check_is_killed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcomes = []
    workers = _ended_workers(
        lambda: outcomes.append(
            run_profile("array-api:tests.conformance.never_ends", "tensor-core-v1", only="casts")
        ),
        monkeypatch,
    )
    assert [r.status for r in outcomes[0].results] == [Status.PASS]  # the run is complete
    assert [p.exitcode for p in workers] == [-signal.SIGKILL]  # 5 s after its last result


def _modules_a_worker_imports(spec: str, profile: str, conn: Connection) -> None:
    """In a worker from the runner's forkserver: run the profile, send what it imported."""
    table = load_table()  # the runner's process loads it, and sends it with the check ids
    before = set(sys.modules)
    receive, send = multiprocessing.Pipe(duplex=False)
    ids = [check.id for check in profile_checks(profile)]
    results = threading.Thread(target=lambda: [receive.recv() for _ in range(len(ids) + 1)])
    results.start()
    worker.serve(spec, profile, 0, ids, table, send)
    results.join()
    conn.send(sorted(set(sys.modules) - before))


def test_a_worker_imports_nothing_the_forkserver_could_have() -> None:
    run_profile("cpu-reference", "tensor-core-v1", only="casts")  # the server, as a run starts it
    context = runner.worker_context()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=_modules_a_worker_imports, args=("cpu-reference", "tensor-core-v1", send)
    )
    process.start()
    send.close()
    imported = receive.recv()
    process.join(30)
    assert imported == []  # else worker_preload should import it, once for every run


def test_the_forkserver_imports_what_the_main_script_took_names_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main = types.ModuleType("__main__")
    main.json = __import__("json")  # type: ignore[attr-defined]
    main.run_profile = run_profile  # type: ignore[attr-defined]
    main.print = print  # type: ignore[attr-defined]
    main.answer = 42  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert runner._main_imports() == ["json", "portal.conformance.runner"]


def test_a_forkserver_that_cannot_start_is_a_start_error(tmp_path: Path) -> None:
    script = tmp_path / "main.py"
    script.write_text(
        "from tests.conformance import fails_in_forkserver  # noqa: F401\n"
        "from portal.conformance.runner import StartError, run_profile\n"
        "if __name__ == '__main__':\n"
        "    try:\n"
        "        run_profile('cpu-reference', 'tensor-core-v1', only='casts')\n"
        "    except StartError as exc:\n"
        "        print(exc.message)\n",
        encoding="utf-8",
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.startswith("The backend cpu-reference could not start: no process")
