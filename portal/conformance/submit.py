"""Certification: a challenge fetched before a run, a signed report checked here as the
marketplace will check it and queued in the outbox with its files, and the marketplace's verdict
read back with each sync."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.oauth import Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.conformance.challenge import Challenge
from portal.conformance.report import REPORT_NAME, SIGNATURE_NAME, verify_report
from portal.conformance.runs import SUBMISSION_RESOURCE
from portal.conformance.verification import VerifiedReport
from portal.db.enums import Certification, CheckStatus, OutboxState, RunStatus
from portal.db.models import ConformanceResult, ConformanceRun, OutboxItem
from portal.db.store import Store
from portal.errors import InputError
from portal.i18n import _
from portal.plugins.attestation import file_sha256
from portal.plugins.keys import load_public_key, own_public_key_path
from portal.plugins.publish import queue_key_registration
from portal.sync.http import TransientError, request_with_retries
from portal.sync.outbox import FileToUpload, enqueue
from portal.sync.reads import get_signed_in, unexpected

if TYPE_CHECKING:
    import httpx

REPORTS_PATH = "/v1/conformance/reports"
CHALLENGES_PATH = "/v1/conformance/challenges"
VERDICTS = {
    "certified": Certification.CERTIFIED,
    "failed": Certification.FAILED,
    "unchallenged": Certification.UNCHALLENGED,
}


def report_files(path: Path) -> tuple[Path, Path]:
    """report.json and report.dsse.json for a report folder or a report.json in it."""
    path = path.expanduser().absolute()
    report = path / REPORT_NAME if path.is_dir() else path
    if not report.is_file():
        raise InputError(_("There is no conformance report at {path}.").format(path=report))
    signature = report.with_name(SIGNATURE_NAME)
    if not signature.is_file():
        raise InputError(
            _(
                "{path} is not signed: there is no {signature} beside it. Run it again without "
                "--no-sign (a signing key is made by `aic-portal plugin keygen`)."
            ).format(path=report, signature=signature.name)
        )
    return report, signature


def queue_submission(store: Store, report_dir: Path) -> int:
    """Verify the signed report in `report_dir` with this data dir's key, then queue it for
    certification (after the key's registration); returns the outbox item's id.

    The run is found by the report's SHA-256 (recorded when it was made here), or recorded from
    the report. A report already queued or sent is refused; a refused one may be queued again.
    """
    report, signature = report_files(report_dir)
    public_path = own_public_key_path(store.data_dir)
    if not public_path.is_file():
        raise InputError(
            _(
                "There is no signing key in {path}; make one with `aic-portal plugin keygen` "
                "and run the profile again."
            ).format(path=store.data_dir.keys)
        )
    verified = verify_report(report, load_public_key(public_path), signature=signature)
    key_item_id = queue_key_registration(store, store.data_dir)
    with store.session() as session, session.begin():
        _refuse_if_sent(session, verified.sha256, report)
        run = session.scalars(
            select(ConformanceRun)
            .where(ConformanceRun.report_sha256 == verified.sha256)
            .order_by(ConformanceRun.id.desc())
        ).first() or _run_from_report(session, report, verified)
        run.report_path = str(report)
        run.certification, run.certification_detail = Certification.SUBMITTED, None
        item = enqueue(
            session,
            resource=SUBMISSION_RESOURCE + verified.sha256,
            method="POST",
            path=REPORTS_PATH,
            body={"sha256": verified.sha256, "profile": verified.profile},
            uploads={
                "report_upload": FileToUpload(report, verified.sha256),
                "signature_upload": FileToUpload(signature, file_sha256(signature)),
            },
            after=session.get(OutboxItem, key_item_id),
        )
        session.flush()
        return item.id


def _refuse_if_sent(session: Session, sha256: str, report: Path) -> None:
    for item in session.scalars(
        select(OutboxItem).where(OutboxItem.resource == SUBMISSION_RESOURCE + sha256)
    ):
        if item.state == OutboxState.FAILED:
            session.delete(item)  # refused before: this submission replaces it
        else:
            raise InputError(
                _(
                    "{path} was already submitted (outbox item #{id}, {state}); "
                    "`aic-portal conformance runs` shows its certification after a sync."
                ).format(path=report, id=item.id, state=item.state.value)
            )


def _run_from_report(session: Session, report: Path, verified: VerifiedReport) -> ConformanceRun:
    """Record a run made elsewhere (another computer, a CI job) from its verified report."""
    content: dict[str, Any] = json.loads(report.read_bytes())
    results = content["results"]
    run = ConformanceRun(
        backend=verified.backend,
        profile=verified.profile,
        seed=verified.seed,
        status=RunStatus.PASSED if verified.passed else RunStatus.FAILED,
        tolerance_table_sha256=content["toleranceTable"]["sha256"],
        report_sha256=verified.sha256,
        started_at=_moment(content.get("startedAt")),
        finished_at=_moment(content.get("finishedAt")),
        challenge_id=verified.challenge.id if verified.challenge else None,
        results=[
            ConformanceResult(
                check_id=r["check"],
                status=CheckStatus(r["status"]),
                required=bool(r.get("required")),
                message=str(r.get("message", "")),
                measured=r.get("measured") if isinstance(r.get("measured"), dict) else None,
                measured_error=_number((r.get("measured") or {}).get("ratio")),
                repro=(r.get("repro") or {}).get("snippet"),
            )
            for r in results
        ],
    )
    session.add(run)
    return run


def _moment(text: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(value: object) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if value in ("Infinity", "-Infinity"):
        return float(str(value).lower().replace("infinity", "inf"))
    return None


def fetch_challenge(
    market: Marketplace, tokens: TokenStore, *, cancel: CancelToken | None = None
) -> Challenge:
    """A fresh challenge from the marketplace, issued to the signed-in partner organisation."""
    import httpx

    cancel = cancel or CancelToken()
    key = str(uuid.uuid4())  # one challenge, however many tries it takes
    bearer = access_token(market, tokens)
    try:
        with market.client() as client:
            response = _post_challenge(client, bearer, key, cancel)
            if response.status_code == 401:
                fresh = access_token(market, tokens, rejected=bearer)
                response = _post_challenge(client, fresh, key, cancel)
    except (httpx.HTTPError, TransientError) as exc:
        raise NetworkError(
            _("The marketplace at {url} could not be reached ({problem}).").format(
                url=market.url, problem=_reason(exc)
            )
        ) from exc
    if response.status_code != 201:
        raise NetworkError(
            _("The marketplace answered {what} with an unexpected {status}.").format(
                what=CHALLENGES_PATH, status=response.status_code
            )
        )
    try:
        data = response.json()
        nonce = str(data["nonce"])
        if not (16 <= len(nonce) <= 128 and all(c in "0123456789abcdef" for c in nonce)):
            raise ValueError(nonce)
        return Challenge(str(data["id"])[:64], nonce, _aware(data["expires_at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what=CHALLENGES_PATH, problem=exc)
        ) from exc


def _post_challenge(
    client: httpx.Client, bearer: str, key: str, cancel: CancelToken
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": key}
    return request_with_retries(
        client, "POST", CHALLENGES_PATH, json={}, headers=headers, cancel=cancel
    )


def _aware(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def refresh_certification(
    store: Store, market: Marketplace, tokens: TokenStore, *, cancel: CancelToken | None = None
) -> int:
    """Read the marketplace's verdict on each submitted report still waiting for one; how many
    changed."""
    cancel = cancel or CancelToken()
    with store.session() as session:
        waiting = session.scalar(
            select(ConformanceRun.id)
            .where(ConformanceRun.certification == Certification.SUBMITTED)
            .limit(1)
        )
    if waiting is None:
        return 0
    verdicts = _marketplace_reports(market, tokens, cancel)
    changed = 0
    with store.session() as session, session.begin():
        for run in session.scalars(
            select(ConformanceRun).where(ConformanceRun.certification == Certification.SUBMITTED)
        ):
            found = verdicts.get(run.report_sha256 or "")
            if found is None:
                continue  # not arrived yet
            run.certification, run.certification_detail = found
            changed += 1
    return changed


def _marketplace_reports(
    market: Marketplace, tokens: TokenStore, cancel: CancelToken
) -> dict[str, tuple[Certification, str | None]]:
    """The organisation's submitted reports: SHA-256 → (verdict, why)."""
    response = get_signed_in(market, tokens, REPORTS_PATH, cancel=cancel)
    if response.status_code != 200:
        raise unexpected(REPORTS_PATH, response)
    try:
        return {
            str(r["sha256"]): (
                VERDICTS[r["state"]],
                str(r["detail"]) if r.get("detail") else None,
            )
            for r in response.json()["reports"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what=REPORTS_PATH, problem=exc)
        ) from exc


def _reason(exc: Exception) -> str:
    """What went wrong on the wire, briefly: a retried failure keeps the last one's name."""
    return str(exc) if isinstance(exc, TransientError) and str(exc) else type(exc).__name__
