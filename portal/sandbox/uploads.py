"""`/v1/uploads`: resumable uploads. Create, append at an offset, ask the offset, finish.

A whole file can also come in one streamed PUT, for clients that do not need to resume.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Annotated
from weakref import WeakValueDictionary

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from portal.sandbox.idempotency import Attempt, attempt, replay, respond, streamed_attempt
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import UploadSession, User

MAX_SIZE = 8 * 1024**3
MAX_CHUNK = 64 * 1024**2

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])
Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]
Streamed = Annotated[Attempt, Depends(streamed_attempt)]


class UploadCreate(BaseModel):
    """How many bytes will come."""

    size: int = Field(ge=0, le=MAX_SIZE)


class UploadFinish(BaseModel):
    """The SHA-256 the client computed; the server checks it against what it received."""

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


def finished_upload(request: Request, db: Db, user: User, upload_id: str) -> Path:
    """The file of the caller's finished upload `upload_id`, for an endpoint that consumes it."""
    upload = _find(db, user, upload_id)
    if upload.sha256 is None:
        raise ProblemError(409, f"The upload {upload_id!r} is not finished.")
    path = _file(request, upload)
    path.touch()  # an empty upload never wrote its file
    return path


def _find(db: Db, user: User, upload_id: str) -> UploadSession:
    upload = db.get(UploadSession, upload_id)
    if upload is None or upload.organisation_id != user.organisation_id:
        raise ProblemError(404, f"Your organisation has no upload {upload_id!r}.")
    return upload


@router.post("", status_code=201, response_model=UploadState)
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


@router.get("/{upload_id}", response_model=UploadState)
def upload_state(db: Db, user: Caller, upload_id: str) -> Response:
    """Where to continue after a break (also in the Upload-Offset header)."""
    upload = _find(db, user, upload_id)
    return Response(
        _state(upload).model_dump_json(),
        media_type="application/json",
        headers={"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.size)},
    )


@router.patch("/{upload_id}", response_model=UploadState)
async def append(
    request: Request,
    db: Db,
    user: Caller,
    unsafe: Streamed,
    upload_id: str,
    upload_offset: Annotated[int, Header(ge=0)],
    content_length: Annotated[int, Header(ge=0, le=MAX_CHUNK)],
) -> Response:
    """Append the body at `Upload-Offset`, streamed to disk; any other offset is refused with
    the right one. One append at a time per upload, so two tries of one chunk cannot interleave."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    upload = _find(db, user, upload_id)
    db.commit()  # end this read: under the lock, read again what an earlier append committed
    async with _lock(request, upload.id):
        db.refresh(upload)
        if upload.sha256 is not None:
            raise ProblemError(409, "This upload is already finished.")
        if upload_offset != upload.offset:
            raise ProblemError(
                409,
                f"The upload continues at byte {upload.offset}, not {upload_offset}.",
                headers={"Upload-Offset": str(upload.offset)},
            )
        if upload.offset + content_length > upload.size:
            raise ProblemError(413, "The chunk goes past the announced size.")
        received = await _receive(request, _file(request, upload), upload_offset, content_length)
        if received != content_length:
            raise ProblemError(400, f"Only {received} of {content_length} bytes arrived.")
        upload.offset = upload_offset + received
        db.flush()
        return respond(
            db,
            user.organisation_id,
            unsafe,
            _state(upload),
            headers={"Upload-Offset": str(upload.offset)},
        )


async def _receive(request: Request, path: Path, offset: int, limit: int) -> int:
    """Write the body at `offset` (dropping bytes a broken earlier try left past it)."""
    received = 0
    with path.open("r+b" if path.exists() else "wb") as part:
        part.truncate(offset)
        part.seek(offset)
        async for block in request.stream():
            received += len(block)
            if received > limit:
                raise ProblemError(413, "The body is longer than its Content-Length.")
            part.write(block)
    return received


def _lock(request: Request, upload_id: str) -> asyncio.Lock:
    """The upload's lock, kept only while someone holds or waits for it."""
    locks: WeakValueDictionary[str, asyncio.Lock] = request.app.state.upload_locks
    return locks.setdefault(upload_id, asyncio.Lock())


@router.put("/{upload_id}", response_model=UploadState)
async def put_whole(
    request: Request,
    db: Db,
    user: Caller,
    unsafe: Streamed,
    upload_id: str,
    content_length: Annotated[int, Header(ge=0)],
) -> Response:
    """Send the whole file in one request, streamed to disk: simpler, but nothing to resume."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    upload = _find(db, user, upload_id)
    if upload.sha256 is not None or upload.offset != 0:
        raise ProblemError(409, "This upload has begun already; continue it with PATCH.")
    if content_length != upload.size:
        raise ProblemError(
            413, f"The body has {content_length} bytes; the upload announced {upload.size}."
        )
    async with _lock(request, upload.id):
        received = await _receive(request, _file(request, upload), 0, upload.size)
    if received != upload.size:
        raise ProblemError(400, f"Only {received} of {upload.size} bytes arrived; send it again.")
    upload.offset = received
    return respond(
        db, user.organisation_id, unsafe, _state(upload), headers={"Upload-Offset": str(received)}
    )


@router.post("/{upload_id}/finish", response_model=UploadState)
def finish(
    request: Request, db: Db, user: Caller, unsafe: Unsafe, upload_id: str, body: UploadFinish
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
