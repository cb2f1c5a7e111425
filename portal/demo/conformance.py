"""The walkthrough's conformance step: a profile run on the reference CPU backend, under the
marketplace's challenge, signed, recorded, submitted through the outbox and certified."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from portal.cancel import CancelToken, no_progress
from portal.conformance import labels
from portal.conformance.challenge import Challenge
from portal.conformance.report import write_reports
from portal.conformance.results import Status
from portal.conformance.runner import run_profile
from portal.conformance.runs import list_runs, record_run, run_status
from portal.conformance.submit import fetch_challenge, queue_submission
from portal.db.store import Store
from portal.errors import ErrorKind, PortalError
from portal.i18n import _, format_duration, format_list, format_number
from portal.paths import DataDir
from portal.plugins.dsse import key_id
from portal.plugins.keys import has_signing_key, load_signing_key
from portal.sync.engine import sync

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from portal.demo import SignedIn

BACKEND = "cpu-reference"
PROFILE = "tensor-core-v1"


def show_conformance(
    data_dir: DataDir, signed_in: SignedIn | None, *, echo: Callable[[str], object]
) -> None:
    """Run the profile here; signed in, under a challenge, then sign, submit and show the verdict.

    Not signed in, the run still happens (it needs no network) but stays unchallenged, unsigned
    and on this computer.
    """
    challenge: Challenge | None = None
    key: Ed25519PrivateKey | None = None
    if signed_in is not None:
        try:
            challenge = fetch_challenge(signed_in.market, signed_in.tokens)
        except PortalError as exc:
            if exc.kind == ErrorKind.CANCELLED:
                raise
            echo(
                "   "
                + _("No challenge from the marketplace: {problem}").format(problem=exc.message)
            )
        else:
            echo(
                "   "
                + _(
                    "Challenge {id} from the marketplace: its nonce seeds this run's inputs, "
                    "so the report answers this challenge only."
                ).format(id=challenge.id)
            )
        if has_signing_key(data_dir):
            key = load_signing_key(data_dir)
    outcome = run_profile(BACKEND, PROFILE, cancel=CancelToken(), challenge=challenge)
    counts = Counter(result.status for result in outcome.results)
    seconds = (outcome.finished_at - outcome.started_at).total_seconds()
    echo(
        "   "
        + _("Ran {profile} on {backend}: {count} checks in {duration}, {verdict}.").format(
            profile=PROFILE,
            backend=BACKEND,
            count=format_number(len(outcome.results)),
            duration=format_duration(max(seconds, 1.0)),
            verdict=labels.run_status(run_status(outcome)),
        )
    )
    for status in Status:
        if counts[status]:
            echo(
                "      "
                + _("{status}: {count}").format(
                    status=labels.check_status(status), count=format_number(counts[status])
                )
            )
    folder = data_dir.root / "walkthrough" / f"conformance-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    written = write_reports(outcome, folder, key=key)
    files = format_list([path.name for path in written])
    if key is None:
        echo("   " + _("Wrote {files} to {folder}, unsigned.").format(files=files, folder=folder))
    else:
        echo(
            "   "
            + _("Wrote {files} to {folder}, signed with the key {key}.").format(
                files=files, folder=folder, key=key_id(key.public_key())[:16]
            )
        )
    with Store.open(data_dir) as store:
        run_id = record_run(store, outcome, report_dir=folder)
        echo(
            "   "
            + _("Recorded as run {id} (`aic-portal conformance runs {id}`).").format(id=run_id)
        )
        if signed_in is None or key is None or challenge is None:
            echo(
                "   "
                + _(
                    "Not submitted: a run is certified only when signed in, challenged and "
                    "signed; this one stays on this computer."
                )
            )
            return
        item = queue_submission(store, folder)
        report = sync(
            store, signed_in.market, signed_in.tokens, progress=no_progress, cancel=CancelToken()
        )
        echo(
            "   "
            + _("Queued it for certification (outbox item #{id}), then synced: {summary}").format(
                id=item, summary=report.summary()
            )
        )
        run = next(r for r in list_runs(store) if r.id == run_id)
    state = labels.certification(run.certification)
    if run.certification_detail:
        state += ": " + run.certification_detail
    echo("   " + _("Certification: {state}.").format(state=state))
