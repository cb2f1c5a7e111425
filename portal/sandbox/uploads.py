"""`/v1/uploads`: resumable uploads. Create, append at an offset, ask the offset, finish."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi import Path as InPath
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update

from portal.sandbox.idempotency import Attempt, attempt, replay, respond
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import UploadSession, User

MAX_SIZE = 8 * 1024**3
MAX_CHUNK = 16 * 1024**2
CHUNK = "application/offset+octet-stream"  # the media type of a chunk, as in tus and RFC drafts

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])
Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]
UploadId = Annotated[str, InPath(pattern=r"^[0-9a-f]{16}$")]


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


OFFSET = {"Upload-Offset": _header("How many bytes the server has")}


class UploadCreate(BaseModel):
    """How many bytes will come."""

    model_config = ConfigDict(strict=True)

    size: int = Field(ge=0, le=MAX_SIZE)


class UploadFinish(BaseModel):
    """The SHA-256 the client computed; the server checks it against what it received."""

    model_config = ConfigDict(strict=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class UploadState(BaseModel):
    """Where an upload stands."""

    id: str
    size: int
    offset: int
    sha256: str | None


def _state(upload: UploadSession) -> UploadState:
    return UploadState(id=upload.id, size=upload.size, offset=upload.offset, sha256=upload.sha256)


def _file(request: Request, upload: UploadSession) -> Path:
    folder: Path = request.app.state.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{upload.id}.part"


async def _body(request: Request) -> bytes:
    """The chunk, read on the event loop: the endpoint itself waits on the database in a worker
    thread, where a wait (a concurrent append's lock) cannot stall the loop the holder needs."""
    return await request.body()


def _find(db: Db, user: User, upload_id: str) -> UploadSession:
    upload = db.get(UploadSession, upload_id)
    if upload is None or upload.organisation_id != user.organisation_id:
        raise ProblemError(404, f"Your organisation has no upload {upload_id!r}.")
    return upload


@router.post(
    "",
    status_code=201,
    response_model=UploadState,
    responses={201: {"headers": OFFSET | {"Location": _header("Where the new upload is")}}},
)
def create_upload(db: Db, user: Caller, unsafe: Unsafe, body: UploadCreate) -> Response:
    """Open an upload session."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    upload = UploadSession(organisation_id=user.organisation_id, size=body.size)
    db.add(upload)
    db.flush()
    return respond(
        db,
        user.organisation_id,
        unsafe,
        _state(upload),
        status=201,
        headers={"Location": f"{router.prefix}/{upload.id}", "Upload-Offset": "0"},
    )


@router.get(
    "/{upload_id}",
    response_model=UploadState,
    responses={200: {"headers": OFFSET | {"Upload-Length": _header("The announced size")}}},
)
def upload_state(db: Db, user: Caller, upload_id: UploadId) -> Response:
    """Where to continue after a break (also in the Upload-Offset header)."""
    upload = _find(db, user, upload_id)
    return Response(
        _state(upload).model_dump_json(),
        media_type="application/json",
        headers={"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.size)},
    )


@router.patch(
    "/{upload_id}",
    response_model=UploadState,
    responses={200: {"headers": OFFSET}},
    openapi_extra={
        "requestBody": {  # an empty chunk is a body of no bytes, which HTTP cannot tell from none
            "required": False,
            "content": {CHUNK: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def append(
    request: Request,
    db: Db,
    user: Caller,
    unsafe: Unsafe,
    upload_id: UploadId,
    upload_offset: Annotated[int, Header(ge=0)],
    chunk: Annotated[bytes, Depends(_body)],
) -> Response:
    """Append the body at `Upload-Offset`; any other offset is refused with the right one."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    upload = _find(db, user, upload_id)
    if upload.sha256 is not None:
        raise ProblemError(409, "This upload is already finished.")
    if upload_offset != upload.offset:
        raise ProblemError(
            409,
            f"The upload continues at byte {upload.offset}, not {upload_offset}.",
            headers={"Upload-Offset": str(upload.offset)},
        )
    if len(chunk) > MAX_CHUNK or upload.offset + len(chunk) > upload.size:
        raise ProblemError(413, "The chunk is too large or goes past the announced size.")
    claimed = db.execute(  # two appends at one offset: only the first may write
        update(UploadSession)
        .where(UploadSession.id == upload.id, UploadSession.offset == upload_offset)
        .values(offset=upload_offset + len(chunk))
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ProblemError(409, "Another request appended at this offset first; ask again.")
    with _file(request, upload).open("ab") as part:
        part.truncate(upload_offset)  # bytes past the committed offset came from a lost request
        part.write(chunk)
    db.refresh(upload)
    return respond(
        db,
        user.organisation_id,
        unsafe,
        _state(upload),
        headers={"Upload-Offset": str(upload.offset)},
    )


@router.post("/{upload_id}/finish", response_model=UploadState)
def finish(
    request: Request, db: Db, user: Caller, unsafe: Unsafe, upload_id: UploadId, body: UploadFinish
) -> Response:
    """Check the SHA-256 of what arrived against the client's."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    upload = _find(db, user, upload_id)
    if upload.offset != upload.size:
        raise ProblemError(409, f"Only {upload.offset} of {upload.size} bytes have arrived.")
    digest = hashlib.sha256()
    path = _file(request, upload)
    if path.exists():
        with path.open("rb") as part:
            while block := part.read(1024 * 1024):
                digest.update(block)
    if digest.hexdigest() != body.sha256:
        raise ProblemError(422, "The SHA-256 of the bytes received differs from the client's.")
    upload.sha256 = body.sha256
    return respond(db, user.organisation_id, unsafe, _state(upload))
