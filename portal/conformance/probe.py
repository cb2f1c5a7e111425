"""Backends' capabilities, read in a child process: importing vendor code (a CUDA runtime, a
simulator's native library) may crash or hang, and must never take the app down with it."""

from __future__ import annotations

import time
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from portal.cancel import CancelToken
from portal.conformance.backends import Capabilities
from portal.i18n import SOURCE_LOCALE, _, current_locale, set_locale

POLL_S = 0.05


def probe_backends(
    names: list[str], *, timeout_s: float = 60.0, cancel: CancelToken | None = None
) -> dict[str, Capabilities | str]:
    """Each backend's capabilities, or why it cannot be loaded, in words; a backend that kills or
    hangs its process is reported as such, and the others are read in a fresh one."""
    from portal.conformance.runner import worker_context

    cancel = cancel or CancelToken()
    found: dict[str, Capabilities | str] = {}
    while len(found) < len(names):
        left = [name for name in names if name not in found]
        context = worker_context()
        conn, child = context.Pipe()
        process = context.Process(target=serve, args=(left, child, current_locale()), daemon=True)
        process.start()
        child.close()
        try:
            for name in left:
                found[name] = _answer(conn, process, name, timeout_s, cancel)
                if isinstance(found[name], str) and not process.is_alive():
                    break  # that one crashed its process: the rest in a new one
                if not process.is_alive() and not conn.poll():
                    break
        finally:
            if process.is_alive():
                process.kill()
            process.join(5)
            conn.close()
    return found


def _answer(
    conn: Connection, process: Any, name: str, timeout_s: float, cancel: CancelToken
) -> Capabilities | str:
    """The child's reply for `name`, or why none came."""
    deadline = time.monotonic() + timeout_s
    while True:
        if cancel.cancelled:
            process.kill()
            cancel.raise_if_cancelled()
        if conn.poll(POLL_S):
            try:
                _name, reply = conn.recv()
            except EOFError:
                break
            return Capabilities(**reply) if isinstance(reply, dict) else str(reply)
        if not process.is_alive() and not conn.poll():
            break
        if time.monotonic() > deadline:
            process.kill()
            process.join(5)
            return _("loading it took more than {seconds} s; it was stopped").format(
                seconds=timeout_s
            )
    process.join(5)
    return _("loading it ended its process (exit code {code})").format(code=process.exitcode)


def serve(names: list[str], conn: Connection, locale: str = SOURCE_LOCALE) -> None:
    """In the child: load each backend in turn and send (name, capabilities or reason)."""
    from portal.conformance.backends import load_backend
    from portal.errors import PortalError

    if locale != current_locale():
        set_locale(locale)
    for name in names:
        try:
            reply: dict[str, Any] | str = asdict(load_backend(name).capabilities())
        except PortalError as exc:
            reply = exc.message
        except Exception as exc:  # noqa: BLE001 - whatever a vendor's import raised is the reason
            reply = f"{type(exc).__name__}: {exc}"
        conn.send((name, reply))
    conn.close()
