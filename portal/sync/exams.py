"""Exam downloads: the marketplace's signing keys, the exams the partner is entitled to, and
their packages, imported as a proctor's file would be (the package proves itself; the
connection only carries it). No sitting code is ever received for a certification exam."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal.auth.oauth import AuthError, Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, Progress
from portal.db.models import Exam
from portal.db.store import Store
from portal.errors import PortalError
from portal.exams.library import exams_folder, import_package, set_practice_code, trust_keys
from portal.exams.package import MAX_PACKAGE_BYTES
from portal.i18n import _
from portal.sync.http import TransientError, request_with_retries
from portal.sync.refusals import RefusedError, refusal_in, refusal_of

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
KEYS_PATH = "/v1/marketplace/keys"
EXAMS_PATH = "/v1/exams"
_EXAM_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-+]{0,31}")


@dataclass(frozen=True)
class ExamOffer:
    """An exam the marketplace lists for the partner."""

    exam_id: str
    version: str
    title: dict[str, str]
    practice: bool
    expires_at: datetime
    sitting_code: str | None


@dataclass
class DownloadReport:
    """What one download run did."""

    downloaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def fetch_marketplace_keys(store: Store, market: Marketplace, *, cancel: CancelToken) -> list[str]:
    """Read the marketplace's signing keys over the verified connection and trust the new ones;
    returns their ids. Keys once trusted stay (packages signed with them stay valid)."""
    with market.client() as client:
        response = _get(client, market, KEYS_PATH, headers={}, cancel=cancel)
    body = _json(response, KEYS_PATH)
    try:
        pems = [str(k["public_key"]) for k in body if k.get("algorithm") == "Ed25519"]
    except (TypeError, KeyError, AttributeError) as exc:
        raise _unexpected(KEYS_PATH, exc) from exc
    try:
        return trust_keys(store.data_dir, pems, source=market.url)
    except PortalError as exc:
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what=KEYS_PATH, problem=exc.message)
        ) from exc


def list_offers(market: Marketplace, tokens: TokenStore, *, cancel: CancelToken) -> list[ExamOffer]:
    """The exams the partner's organisation is entitled to."""
    with market.client() as client:
        response = _authorised_get(client, market, tokens, EXAMS_PATH, cancel=cancel)
    body = _json(response, EXAMS_PATH)
    try:
        offers = [
            ExamOffer(
                exam_id=str(e["exam_id"]),
                version=str(e["version"]),
                title={str(k): str(v) for k, v in e["title"].items()},
                practice=bool(e["practice"]),
                expires_at=datetime.fromisoformat(str(e["expires_at"])),
                sitting_code=None if e.get("sitting_code") is None else str(e["sitting_code"]),
            )
            for e in body
        ]
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise _unexpected(EXAMS_PATH, exc) from exc
    for offer in offers:  # they become a path: nothing but the identifiers the model allows
        if not (_EXAM_ID.fullmatch(offer.exam_id) and _VERSION.fullmatch(offer.version)):
            raise _unexpected(EXAMS_PATH, ValueError(f"exam id {offer.exam_id!r}"))
    return offers


def download_exams(
    store: Store,
    market: Marketplace,
    tokens: TokenStore,
    *,
    progress: Progress,
    cancel: CancelToken,
) -> DownloadReport:
    """Fetch the keys, then every entitled package that is new or changed, and import it; a
    package that fails is named in the report and the others go on."""
    report = DownloadReport()
    fetch_marketplace_keys(store, market, cancel=cancel)
    offers = list_offers(market, tokens, cancel=cancel)
    with market.client() as client:
        for done, offer in enumerate(offers):
            cancel.raise_if_cancelled()
            progress(done, len(offers), _("Downloading exams…"))
            try:
                pk = _download_one(store, client, market, tokens, offer, cancel=cancel)
            except (AuthError, RefusedError):
                raise
            except PortalError as exc:
                log.warning("exam %s %s not downloaded: %s", offer.exam_id, offer.version, exc)
                report.errors.append(
                    _("{exam} {version}: {problem}").format(
                        exam=offer.exam_id, version=offer.version, problem=exc.message
                    )
                )
                continue
            if pk is None:
                report.unchanged += 1
                continue
            if offer.practice and offer.sitting_code:
                set_practice_code(store, pk, offer.sitting_code)
            report.downloaded.append(f"{offer.exam_id} {offer.version}")
    progress(len(offers), len(offers), _("Exams downloaded."))
    return report


def _download_one(
    store: Store,
    client: httpx.Client,
    market: Marketplace,
    tokens: TokenStore,
    offer: ExamOffer,
    *,
    cancel: CancelToken,
) -> int | None:
    """Download and import one package; None when the one here is current."""
    import httpx

    with store.session() as session:
        have = session.scalars(
            select(Exam.package_sha256).where(
                Exam.exam_id == offer.exam_id, Exam.version == offer.version
            )
        ).first()
    path = f"{EXAMS_PATH}/{offer.exam_id}/{offer.version}/package"
    headers = {"If-None-Match": f'"{have}"'} if have else {}
    folder = exams_folder(store.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".download.", suffix=".part", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            bearer = access_token(market, tokens)
            for attempt in range(2):
                try:
                    with client.stream(
                        "GET", path, headers={**headers, "Authorization": f"Bearer {bearer}"}
                    ) as response:
                        if response.status_code == 401:
                            if attempt:
                                raise AuthError(
                                    _("Your sign-in is no longer accepted. Please sign in again.")
                                )
                            bearer = access_token(market, tokens, rejected=bearer)
                            continue
                        refused = refusal_in(response)
                        if refused is not None:
                            raise RefusedError(refused)
                        if response.status_code == 304:
                            return None
                        if response.status_code != 200:
                            response.read()
                            raise NetworkError(
                                _("the marketplace answered {status}").format(
                                    status=response.status_code
                                )
                            )
                        size = 0
                        for chunk in response.iter_bytes():
                            cancel.raise_if_cancelled()
                            size += len(chunk)
                            if size > MAX_PACKAGE_BYTES:
                                raise NetworkError(
                                    _("the package is larger than {n} bytes").format(
                                        n=MAX_PACKAGE_BYTES
                                    )
                                )
                            out.write(chunk)
                        break
                except httpx.TransportError as exc:
                    refused_by = refusal_of(exc)
                    if refused_by is not None:
                        raise RefusedError(refused_by) from exc
                    raise NetworkError(
                        _("the download failed ({problem})").format(problem=type(exc).__name__)
                    ) from exc
        return import_package(store, temp)
    finally:
        temp.unlink(missing_ok=True)


def _authorised_get(
    client: httpx.Client,
    market: Marketplace,
    tokens: TokenStore,
    path: str,
    *,
    cancel: CancelToken,
) -> httpx.Response:
    bearer = access_token(market, tokens)
    response = _get(
        client, market, path, headers={"Authorization": f"Bearer {bearer}"}, cancel=cancel
    )
    if response.status_code == 401:
        bearer = access_token(market, tokens, rejected=bearer)
        response = _get(
            client, market, path, headers={"Authorization": f"Bearer {bearer}"}, cancel=cancel
        )
    if response.status_code == 401:
        raise AuthError(_("Your sign-in is no longer accepted. Please sign in again."))
    return response


def _get(
    client: httpx.Client,
    market: Marketplace,
    path: str,
    *,
    headers: dict[str, str],
    cancel: CancelToken,
) -> httpx.Response:
    import httpx

    try:
        return request_with_retries(client, "GET", path, headers=headers, cancel=cancel)
    except (httpx.HTTPError, TransientError) as exc:
        raise NetworkError(
            _("The marketplace at {url} could not be reached ({problem}).").format(
                url=market.url, problem=type(exc).__name__
            )
        ) from exc


def _json(response: httpx.Response, what: str) -> Any:
    if response.status_code != 200:
        raise NetworkError(
            _("The marketplace answered {what} with an unexpected {status}.").format(
                what=what, status=response.status_code
            )
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise _unexpected(what, exc) from exc
    if not isinstance(body, list):
        raise _unexpected(what, TypeError("not a list"))
    return body


def _unexpected(what: str, exc: Exception) -> NetworkError:
    return NetworkError(
        _("The marketplace's answer to {what} is not what this app expects ({problem}).").format(
            what=what, problem=exc
        )
    )
