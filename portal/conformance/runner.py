"""Running a profile against a backend in a child process, with a timeout per check."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from types import ModuleType
from typing import Any

from portal.cancel import CancelToken, Progress, no_progress
from portal.conformance import worker
from portal.conformance.backends import check_backend_spec
from portal.conformance.catalogue import profile_checks, repro
from portal.conformance.challenge import Challenge, challenged_seed
from portal.conformance.checks import Check
from portal.conformance.results import CheckResult, Status, passed
from portal.conformance.tolerances import ToleranceTable, Waiver, load_table
from portal.errors import InputError
from portal.i18n import _, current_locale

POLL_S = 0.05


class StartError(InputError):
    """The run could not start: unknown backend or profile, or the backend failed to load."""


@dataclass(frozen=True)
class RunOutcome:
    """Everything a report says about one run."""

    backend: str
    profile: str
    seed: int
    capabilities: dict[str, Any]
    table: ToleranceTable
    results: list[CheckResult]
    started_at: datetime
    finished_at: datetime
    challenge: Challenge | None = None
    base_seed: int | None = None
    """The seed asked for, when a challenge made `seed` from it; else `seed` itself."""

    @property
    def exit_code(self) -> int:
        """0 when every required check passed and nothing failed or erred; else 1."""
        bad = any(r.status in (Status.FAIL, Status.ERROR) for r in self.results)
        missing = any(r.required and not passed(r.status) for r in self.results)
        return 1 if bad or missing else 0


def worker_context() -> ForkServerContext | SpawnContext:
    """Where the OS has it, forkserver: every worker is still a fresh single-threaded process with
    no state, threads or locks of ours (it is forked from a clean server process, not from us,
    and imports the backend itself), but the server has imported and warmed everything else once
    (worker_preload), so a worker starts at a fork's cost instead of a new interpreter's.
    Elsewhere (Windows), spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Last: it freezes what the server holds for the collector.
    context.set_forkserver_preload([*_main_imports(), "portal.conformance.worker_preload"])
    return context


def _main_imports() -> list[str]:
    """The modules our main script took names from. multiprocessing runs that script again in
    every worker (Python 3.11's forkserver never preloads "__main__"); with these loaded in the
    server, that costs a worker the script's own few lines instead of its imports (the
    aic-portal command's: 100 ms a run)."""
    names = set()
    for value in vars(sys.modules["__main__"]).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        if isinstance(name, str) and name in sys.modules and name not in _NOT_PRELOADED:
            names.add(name)
    return sorted(names)


_NOT_PRELOADED = {"__main__", "__mp_main__", "builtins"}


class _Worker:
    """One worker process, given the checks to run, and our end of its pipe."""

    def __init__(
        self,
        spec: str,
        profile: str,
        seed: int,
        check_ids: list[str],
        table: ToleranceTable,
        *,
        timeout_s: float,
    ) -> None:
        context = worker_context()
        self.conn, child = context.Pipe(duplex=False)
        # The checks go with the process, so it starts on them as soon as it is ready, and ends
        # after the last: no check, and not the end, waits for a message from us.
        self.process: BaseProcess = context.Process(
            target=worker.serve,
            args=(spec, profile, seed, check_ids, table, child, current_locale()),
            daemon=True,
        )
        self.timeout_s = timeout_s
        self.unstarted: str | None = None
        try:
            self.process.start()
        except (OSError, EOFError) as exc:  # the forkserver ended: a module it imported failed
            self.unstarted = _("no process could be started for it ({error})").format(
                error=f"{type(exc).__name__}: {exc}"
            )
        finally:
            child.close()

    def handshake(self, cancel: CancelToken) -> tuple[str, Any]:
        """("ready", capabilities) or ("failed", why), within the check timeout."""
        if self.unstarted is not None:
            return "failed", self.unstarted
        reply = self._wait(cancel)
        if isinstance(reply, tuple):
            return reply
        return "failed", reply

    def result(self, cancel: CancelToken) -> CheckResult | str:
        """The next check's result, or why the process gave none (crash, hang)."""
        reply: CheckResult | str = self._wait(cancel)
        return reply

    def _wait(self, cancel: CancelToken) -> Any:
        deadline = time.monotonic() + self.timeout_s
        while True:
            if cancel.cancelled:
                self.stop()
                cancel.raise_if_cancelled()
            if self.conn.poll(POLL_S):
                try:
                    return self.conn.recv()
                except EOFError:
                    return self._died()
            if not self.process.is_alive() and not self.conn.poll():
                return self._died()
            if time.monotonic() > deadline:
                self.stop()
                return _("no answer within {seconds} s; the backend process was stopped").format(
                    seconds=self.timeout_s
                )

    def _died(self) -> str:
        self.process.join(5)
        return _("the backend process ended with exit code {code}").format(
            code=self.process.exitcode
        )

    def stop(self) -> None:
        """Kill the process if it still runs and release the pipe."""
        if self.process.pid is not None:  # it started
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)
        self.conn.close()

    def close(self) -> None:
        """After the last result: the run is complete and the process ends by itself, so the run
        does not wait for that; a thread does, and kills it if it has not ended within 5 s."""
        if self.conn.closed:  # stopped already, on cancel
            return
        threading.Thread(target=self._finish, name="conformance worker exit", daemon=True).start()

    def _finish(self) -> None:
        """Wait for the end of the pipe, which the process's exit closes (a join would also wait
        for the server to reap it and tell us); kill it if it holds on (a thread of the
        backend's that never ends) or says more than it should."""
        if self.conn.poll(5):
            try:
                self.conn.recv()
            except EOFError:
                self.conn.close()
                return
        self.stop()


def run_profile(
    spec: str,
    profile: str,
    *,
    seed: int = 0,
    only: str | None = None,
    timeout_s: float = 60.0,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    challenge: Challenge | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    waivers: list[Waiver] | None = None,
) -> RunOutcome:
    """Run each check in a worker; a crash or hang is that check's ERROR and the run goes on.

    Under a marketplace `challenge`, the inputs are drawn from the seed its nonce derives from
    `seed`; without one the report says the run was unchallenged. `on_result` is told each
    check's result as soon as it is known, so a window can list it live. `waivers` loosen
    limits of the tolerance table for this run, and the report records them.
    """
    cancel = cancel or CancelToken()
    base_seed = seed
    if challenge is not None:
        seed = challenged_seed(seed, challenge.nonce)
    try:
        checks = profile_checks(profile, only=only)
        check_backend_spec(spec)
    except InputError as exc:
        raise StartError(exc.message) from exc
    # The one the checks use is the one the report names.
    table = load_table().waived(waivers or [])
    check_ids = [c.id for c in checks]
    started = datetime.now(UTC)
    current = _Worker(spec, profile, seed, check_ids, table, timeout_s=timeout_s)
    state, detail = current.handshake(cancel)
    if state != "ready":
        current.stop()
        raise StartError(
            _("The backend {backend} could not start: {reason}").format(backend=spec, reason=detail)
        )
    capabilities: dict[str, Any] = detail
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    live: _Worker | None = current
    try:
        for done, check in enumerate(checks):
            progress(done, len(checks), check.id)
            if live is None:  # the rest of the run, on a new worker after a crash or hang
                live = _Worker(spec, profile, seed, check_ids[done:], table, timeout_s=timeout_s)
                state, detail = live.handshake(cancel)
                if state != "ready":
                    live.stop()
                    live = None
                    record(_error(check, spec, profile, seed, str(detail)))
                    continue
            start = time.perf_counter()
            reply = live.result(cancel)
            if isinstance(reply, CheckResult):
                record(reply)
            else:
                live.stop()
                live = None
                record(_error(check, spec, profile, seed, reply, time.perf_counter() - start))
        progress(len(checks), len(checks), _("done"))
    except BaseException:  # a progress or on_result callback's: the rest of the run is not wanted
        if live is not None:
            live.stop()
        raise
    if live is not None:
        live.close()
    return RunOutcome(
        spec,
        profile,
        seed,
        capabilities,
        table,
        results,
        started,
        datetime.now(UTC),
        challenge,
        base_seed,
    )


def _error(
    check: Check, spec: str, profile: str, seed: int, why: str, duration: float = 0.0
) -> CheckResult:
    """The ERROR of a check whose process crashed, hung or would not start."""
    return CheckResult(
        check.id,
        Status.ERROR,
        check.required,
        why,
        {},
        repro(spec, profile, check.id, seed=seed, shapes=[], dtype=check.dtype),
        round(duration, 4),
    )
