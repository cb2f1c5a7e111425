"""Exams the sandbox marketplace offers: its own store of them (with answer keys and sitting
codes), the marketplace's public keys, and the entitled partner's downloads.

Decisions: a certification exam's sitting code is never sent to the app (the proctor reads it
out); a practice exam's code is in the listing, since a practice package carries its own keys
and has nothing to hide. An exam another organisation is entitled to is answered 404, as if it
did not exist.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.demo_accounts import DEMO_CERTIFICATION_EXAM, DEMO_EXAM_CODE, demo_exams_folder
from portal.errors import InputError
from portal.exams.model import ExamContent
from portal.exams.package import build_package, new_sitting_code, normalise_code
from portal.i18n import _
from portal.plugins.dsse import key_id
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.signing import public_pem
from portal.sandbox.store import ExamEntitlement, Organisation, SandboxExam, User, now

router = APIRouter(tags=["exams"])
Caller = Annotated[User, Depends(bearer_user)]
PACKAGE_TYPE = "application/vnd.aic-platform.exam-package"
EXAM_ID = r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$"
VERSION = r"^[0-9A-Za-z.\-+]{1,32}$"
DEFAULT_VALIDITY = timedelta(days=365)

DEMO_EXAMS = [
    # (file, practice, organisations entitled: None for all of them)
    (DEMO_CERTIFICATION_EXAM, False, ["Lagos AI Integrators", "Jakarta Edge Compute"]),
    ("aic-platform-practice.json", True, None),
]


class MarketplaceKey(BaseModel):
    """A public key the marketplace signs with, and what it signs."""

    key_id: str
    algorithm: Literal["Ed25519"]
    public_key: str
    use: list[str]


class ExamListing(BaseModel):
    """An exam the caller's organisation may download."""

    exam_id: str
    version: str
    title: dict[str, str]
    languages: list[str]
    practice: bool
    duration_s: int
    pass_mark: float
    expires_at: datetime
    sitting_code: str | None
    """Only for practice exams; a certification exam's code comes from the proctor."""


@router.get("/v1/marketplace/keys")
def marketplace_keys(request: Request) -> list[MarketplaceKey]:
    """The marketplace's signing keys (public; needs no token), for the app to pin."""
    key: Ed25519PrivateKey = request.app.state.marketplace_key
    return [
        MarketplaceKey(
            key_id=key_id(key.public_key()),
            algorithm="Ed25519",
            public_key=public_pem(key),
            use=["exam-packages"],
        )
    ]


@router.get("/v1/exams")
def list_exams(db: Db, user: Caller) -> list[ExamListing]:
    """The exams the caller's organisation is entitled to and that have not expired."""
    rows = db.scalars(
        select(SandboxExam)
        .join(ExamEntitlement, ExamEntitlement.exam_pk == SandboxExam.id)
        .where(ExamEntitlement.organisation_id == user.organisation_id)
        .where(SandboxExam.expires_at > now())
        .order_by(SandboxExam.exam_id, SandboxExam.version)
    )
    listing = []
    for row in rows:
        content = ExamContent.model_validate(row.content)
        listing.append(
            ExamListing(
                exam_id=row.exam_id,
                version=row.version,
                title=content.title,
                languages=content.languages,
                practice=row.practice,
                duration_s=content.duration_s,
                pass_mark=content.pass_mark,
                expires_at=row.expires_at,
                sitting_code=row.sitting_code if row.practice else None,
            )
        )
    return listing


@router.get(
    "/v1/exams/{exam_id}/{version}/package",
    response_class=Response,
    responses={
        200: {"content": {PACKAGE_TYPE: {}}, "description": "The signed, encrypted package"},
        304: {"description": "The package the client has (If-None-Match) is current"},
    },
)
def exam_package(
    request: Request,
    db: Db,
    user: Caller,
    exam_id: Annotated[str, Path(pattern=EXAM_ID)],
    version: Annotated[str, Path(pattern=VERSION)],
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """The `.aicexam` bytes of an exam the caller's organisation is entitled to (else 404)."""
    row = db.scalars(
        select(SandboxExam)
        .join(ExamEntitlement, ExamEntitlement.exam_pk == SandboxExam.id)
        .where(ExamEntitlement.organisation_id == user.organisation_id)
        .where(SandboxExam.exam_id == exam_id, SandboxExam.version == version)
    ).first()
    if row is None:
        raise ProblemError(404, f"No exam {exam_id} {version} is offered to your organisation.")
    if row.expires_at <= now():
        raise ProblemError(410, f"The exam {exam_id} {version} is no longer offered.")
    key: Ed25519PrivateKey = request.app.state.marketplace_key
    if row.package is None or row.package_key_id != key_id(key.public_key()):
        row.package = _build(row, key)
        row.package_key_id = key_id(key.public_key())
        row.package_sha256 = hashlib.sha256(row.package).hexdigest()
    etag = f'"{row.package_sha256}"'
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(row.package, media_type=PACKAGE_TYPE, headers={"ETag": etag})


def _build(row: SandboxExam, key: Ed25519PrivateKey) -> bytes:
    """The package of `row`, sealed under its sitting code and signed with the marketplace key."""
    content = ExamContent.model_validate(row.content)
    with tempfile.TemporaryDirectory(prefix="aic-exam-") as folder:
        out = build_package(
            content,
            code=row.sitting_code,
            signing_key=key,
            out=FilePath(folder) / "package.aicexam",
            expires_at=row.expires_at,
        )
        return out.read_bytes()


def exam_content(session: Session, exam_id: str, version: str) -> ExamContent | None:
    """The exam with its answer keys, as the sandbox scores it; None when it does not offer it."""
    row = session.scalars(
        select(SandboxExam).where(SandboxExam.exam_id == exam_id, SandboxExam.version == version)
    ).first()
    return None if row is None else ExamContent.model_validate(row.content)


def add_exam(
    sessions: sessionmaker[Any],
    content: ExamContent,
    *,
    code: str | None = None,
    partners: list[str] | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Offer `content` (replacing the same exam id and version) to `partners` (organisation ids;
    None for every organisation there is); returns the sitting code."""
    code = code or new_sitting_code()
    if len(normalise_code(code)) < 8:
        raise InputError(_("A sitting code needs at least {n} letters or digits.").format(n=8))
    expires_at = expires_at or datetime.now(UTC) + DEFAULT_VALIDITY
    with sessions() as session, session.begin():
        row = session.scalars(
            select(SandboxExam).where(
                SandboxExam.exam_id == content.exam_id, SandboxExam.version == content.version
            )
        ).first()
        if row is None:
            row = SandboxExam(exam_id=content.exam_id, version=content.version)
            session.add(row)
        row.practice = content.practice
        row.content = content.model_dump(mode="json")
        row.sitting_code = code
        row.expires_at = expires_at
        row.package = row.package_sha256 = row.package_key_id = None
        session.flush()
        organisations = partners
        if organisations is None:
            organisations = list(session.scalars(select(Organisation.id)))
        known = {
            e.organisation_id
            for e in session.scalars(
                select(ExamEntitlement).where(ExamEntitlement.exam_pk == row.id)
            )
        }
        for organisation in organisations:
            if organisation not in known:
                session.add(ExamEntitlement(exam_pk=row.id, organisation_id=organisation))
    return code


def load_exam(path: FilePath, *, practice: bool = False) -> ExamContent:
    """An exam from ExamContent JSON; `practice` marks it so (it must then have every key)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            _("The exam file {path} cannot be read: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc
    try:
        content = ExamContent.model_validate_json(raw)
        if practice and not content.practice:
            content = ExamContent.model_validate(
                {**content.model_dump(mode="json"), "practice": True}
            )
    except ValidationError as exc:
        raise InputError(
            _("The exam file {path} is not a valid exam: {problem}").format(
                path=path, problem=_first_error(exc)
            )
        ) from exc
    return content


def load_exam_source(
    path: FilePath, *, practice: bool = False, skip_unsupported: bool = False
) -> ExamContent:
    """An exam from ExamContent JSON (a .json file) or from QTI (an item, test, folder or zip)."""
    if path.suffix.lower() == ".json":
        return load_exam(path, practice=practice)
    from portal.exams.qti import import_qti

    return import_qti(path, skip_unsupported=skip_unsupported, practice=practice).content


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))


def seed_demo_exams(sessions: sessionmaker[Any]) -> None:
    """Offer the demo exams that are missing: a certification exam with DEMO_EXAM_CODE to two
    demo organisations, and a practice exam to every organisation."""
    for name, practice, organisation_names in DEMO_EXAMS:
        content = load_exam(demo_exams_folder() / name, practice=practice)
        with sessions() as session:
            if exam_content(session, content.exam_id, content.version) is not None:
                continue
            partners = None
            if organisation_names is not None:
                partners = list(
                    session.scalars(
                        select(Organisation.id).where(Organisation.name.in_(organisation_names))
                    )
                )
        add_exam(sessions, content, code=None if practice else DEMO_EXAM_CODE, partners=partners)
