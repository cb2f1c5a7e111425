"""The child process that runs checks, so a backend that crashes or hangs takes down only itself."""

from __future__ import annotations

from dataclasses import asdict
from multiprocessing.connection import Connection

from portal.conformance.backends import load_backend
from portal.conformance.catalogue import PROFILE_KINDS, execute, profile_checks
from portal.conformance.tolerances import ToleranceTable
from portal.errors import PortalError
from portal.i18n import SOURCE_LOCALE, _, current_locale, set_locale


def serve(
    spec: str,
    profile: str,
    seed: int,
    check_ids: list[str],
    table: ToleranceTable,
    conn: Connection,
    locale: str = SOURCE_LOCALE,
) -> None:
    """Load the backend, say ("ready", capabilities) or ("failed", why), then run the checks,
    sending each one's result as it ends, and end."""
    if locale != current_locale():  # a new process starts in the source language
        set_locale(locale)
    try:
        backend = load_backend(spec)
        capabilities = backend.capabilities()
    except PortalError as exc:
        conn.send(("failed", exc.message))
        return
    except Exception as exc:  # noqa: BLE001 - whatever the backend's import raised is the reason
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    if capabilities.kind != PROFILE_KINDS[profile]:
        conn.send(
            (
                "failed",
                _("{profile} is for {wanted} backends; {backend} is a {kind} backend.").format(
                    profile=profile,
                    wanted=PROFILE_KINDS[profile],
                    backend=spec,
                    kind=capabilities.kind,
                ),
            )
        )
        return
    conn.send(("ready", asdict(capabilities)))
    checks = {check.id: check for check in profile_checks(profile)}
    for check_id in check_ids:
        result = execute(
            backend, checks[check_id], spec=spec, profile=profile, seed=seed, table=table
        )
        conn.send(result)
