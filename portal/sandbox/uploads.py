"""`/v1/uploads`: resumable uploads. Create, append at an offset, ask the offset, finish.

A whole file can also come in one streamed PUT, for clients that do not need to resume. Bodies
are streamed to disk; one append at a time per upload, with its database work in a worker
thread, so a wait on the database never stalls the event loop that streams.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Annotated, Any
from weakref import WeakValueDictionary

from fastapi import APIRouter, Depends, Header, Request
from fastapi import Path as InPath
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from portal.sandbox.idempotency import Attempt, attempt, replay, respond, streamed_attempt
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError
from portal.sandbox.store import UploadSession, User

MAX_SIZE = 8 * 1024**3
MAX_CHUNK = 64 * 1024**2
BINARY = {"type": "string", "format": "binary"}
CHUNK = "application/offset+octet-stream"  # the media type of a chunk, as in tus and RFC drafts

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])
Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]
Streamed = Annotated[Attempt, Depends(streamed_attempt)]
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
            "content": {CHUNK: {"schema": BINARY}},
        }
    },
)
async def append(
    request: Request,
    db: Db,
    user: Caller,
    unsafe: Streamed,
    upload_id: UploadId,
    upload_offset: Annotated[int, Header(ge=0)],
) -> Response:
    """Append the body at `Upload-Offset`; any other offset is refused with the right one."""
    content_length = _length(request, MAX_CHUNK)
    await run_in_threadpool(db.commit)  # hold no database lock while waiting or streaming
    async with _lock(request, upload_id):
        replayed, upload = await run_in_threadpool(_look, db, user, unsafe, upload_id)
        if replayed is not None:
            return replayed
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
        return await run_in_threadpool(_arrived, db, user, unsafe, upload, received)


@router.put(
    "/{upload_id}",
    response_model=UploadState,
    responses={200: {"headers": OFFSET}},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def put_whole(
    request: Request,
    db: Db,
    user: Caller,
    unsafe: Streamed,
    upload_id: UploadId,
) -> Response:
    """Send the whole file in one request, streamed to disk: simpler, but nothing to resume."""
    content_length = _length(request, MAX_SIZE)
    await run_in_threadpool(db.commit)  # hold no database lock while waiting or streaming
    async with _lock(request, upload_id):
        replayed, upload = await run_in_threadpool(_look, db, user, unsafe, upload_id)
        if replayed is not None:
            return replayed
        if upload.sha256 is not None or upload.offset != 0:
            raise ProblemError(409, "This upload has begun already; continue it with PATCH.")
        if content_length != upload.size:
            raise ProblemError(
                413, f"The body has {content_length} bytes; the upload announced {upload.size}."
            )
        received = await _receive(request, _file(request, upload), 0, upload.size)
        return await run_in_threadpool(_arrived, db, user, unsafe, upload, received)


def _length(request: Request, limit: int) -> int:
    """The body's announced length: streamed bodies must say it, and within `limit`."""
    try:
        length = int(request.headers.get("content-length", ""))
    except ValueError:
        raise ProblemError(411, "Send the body with a Content-Length.") from None
    if not 0 <= length <= limit:
        raise ProblemError(413, f"A body here carries at most {limit} bytes.")
    return length


async def _receive(request: Request, path: Path, offset: int, length: int) -> int:
    """Write the body at `offset` (dropping bytes a broken earlier try left past it); all of
    its `length` bytes must come."""
    received = 0
    with path.open("r+b" if path.exists() else "wb") as part:
        part.truncate(offset)
        part.seek(offset)
        async for block in request.stream():
            received += len(block)
            if received > length:
                raise ProblemError(413, "The body is longer than its Content-Length.")
            part.write(block)
    if received != length:
        raise ProblemError(400, f"Only {received} of {length} bytes arrived; send them again.")
    return received


def _look(
    db: Db, user: User, unsafe: Attempt, upload_id: str
) -> tuple[Response | None, UploadSession]:
    """The first answer to a repeat, and where the upload stands; the read ends at once."""
    try:
        return replay(db, user.organisation_id, unsafe, claim=False), _find(db, user, upload_id)
    finally:
        db.commit()


def _arrived(db: Db, user: User, unsafe: Attempt, upload: UploadSession, received: int) -> Response:
    """Record the new offset and the answer, committed before the upload's lock is let go."""
    upload.offset += received
    response = respond(
        db,
        user.organisation_id,
        unsafe,
        _state(upload),
        headers={"Upload-Offset": str(upload.offset)},
    )
    db.commit()
    return response


def _lock(request: Request, upload_id: str) -> asyncio.Lock:
    """The upload's lock, kept only while someone holds or waits for it."""
    locks: WeakValueDictionary[str, asyncio.Lock] = request.app.state.upload_locks
    return locks.setdefault(upload_id, asyncio.Lock())


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
