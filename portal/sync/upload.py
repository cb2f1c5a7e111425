"""Resumable uploads of large files: fixed chunks, the server's offset after any break, a SHA-256.

Memory stays at one chunk whatever the file size.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from portal.auth.oauth import Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, Progress
from portal.errors import InputError
from portal.i18n import _

if TYPE_CHECKING:
    import httpx

CHUNK = 16 * 1024 * 1024
BLOCK = 1024 * 1024
TRIES = 6


@dataclass(frozen=True)
class Uploaded:
    """A finished upload: the server's id for it, its size and SHA-256."""

    upload_id: str
    size: int
    sha256: str
    chunks_sent: int


def upload_file(
    market: Marketplace,
    tokens: TokenStore,
    path: Path,
    *,
    progress: Progress,
    cancel: CancelToken,
    resume: str | None = None,
    started: Callable[[str], object] = lambda _upload_id: None,
    chunk_size: int | None = None,
) -> Uploaded:
    """Send `path`, continuing upload `resume` where the server has it; `started` gets a new id.

    Chunks are `chunk_size` bytes, by default CHUNK as it is when called.
    """
    import httpx
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
    from tenacity import wait_random_exponential as backoff

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(
            _("The file {path} cannot be read: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc
    auth = {"Authorization": f"Bearer {access_token(market, tokens)}"}
    sent = 0
    with market.client() as client:
        offset = _offset(client, auth, resume) if resume else None
        if offset is None:  # new, or one the marketplace no longer knows (expired): start afresh
            upload_id, offset = _create(client, auth, size), 0
            started(upload_id)
        else:
            upload_id = str(resume)
        digest, hashed = hashlib.sha256(), 0  # hashed while sent, as long as it goes in order
        with path.open("rb") as source:
            while offset < size:
                cancel.raise_if_cancelled()
                length = min(chunk_size or CHUNK, size - offset)
                retrying = Retrying(
                    stop=stop_after_attempt(TRIES),
                    wait=backoff(multiplier=0.2, max=10),
                    retry=retry_if_exception_type(httpx.TransportError),
                    sleep=cancel.sleep,
                    reraise=True,
                )
                reader = _ChunkReader(
                    source,
                    path,
                    (offset, length, size),
                    hashed_before=digest if hashed == offset else None,
                    progress=progress,
                    cancel=cancel,
                )
                for attempt in retrying:
                    with attempt:
                        answer = _append(client, auth, upload_id, reader)
                        if answer.status_code == 401:  # the token expired during a long upload
                            bearer = auth["Authorization"].removeprefix("Bearer ")
                            fresh = access_token(market, tokens, rejected=bearer)
                            auth = {"Authorization": f"Bearer {fresh}"}
                            answer = _append(client, auth, upload_id, reader)
                sent += 1
                if answer.status_code == 409 and "Upload-Offset" in answer.headers:
                    moved = _offset_header(answer)  # the server knows better
                    if moved == offset:  # it refused this offset and names it again: stuck
                        _expect(answer, 200, market)
                    offset = moved
                    continue
                _expect(answer, 200, market)
                if reader.digest is not None:
                    digest, hashed = reader.digest, offset + length
                arrived = _offset_header(answer)
                if arrived <= offset:  # nothing was taken: asking again would loop forever
                    raise NetworkError(_("The marketplace did not take the upload's bytes."))
                offset = arrived
        progress(size, size, _("Checking {name}…").format(name=path.name))
        checksum = digest.hexdigest() if hashed == size else sha256_of(path, cancel)
        done = client.post(
            f"/v1/uploads/{upload_id}/finish",
            json={"sha256": checksum},
            headers={**auth, "Idempotency-Key": f"{upload_id}-finish"},
        )
        _expect(done, 200, market)
    return Uploaded(upload_id, size, checksum, sent)


def _create(client: httpx.Client, auth: dict[str, str], size: int) -> str:
    answer = client.post(
        "/v1/uploads", json={"size": size}, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
    )
    if answer.status_code != 201:
        raise NetworkError(
            _("The marketplace refused the upload (HTTP {status}).").format(
                status=answer.status_code
            )
        )
    return str(answer.json()["id"])


def _offset(client: httpx.Client, auth: dict[str, str], upload_id: str) -> int | None:
    """Where the upload continues; None when the marketplace no longer knows it."""
    answer = client.get(f"/v1/uploads/{upload_id}", headers=auth)
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise NetworkError(
            _("The marketplace did not say where the upload stands (HTTP {status}).").format(
                status=answer.status_code
            )
        )
    return _offset_header(answer)


def _offset_header(answer: httpx.Response) -> int:
    """The Upload-Offset the marketplace answered: untrusted, so checked."""
    try:
        offset = int(answer.headers["Upload-Offset"])
    except (KeyError, ValueError):
        raise NetworkError(_("The marketplace's answer about the upload is malformed.")) from None
    if offset < 0:
        raise NetworkError(_("The marketplace's answer about the upload is malformed."))
    return offset


def _append(
    client: httpx.Client, auth: dict[str, str], upload_id: str, reader: _ChunkReader
) -> httpx.Response:
    return client.patch(
        f"/v1/uploads/{upload_id}",
        content=reader.blocks(),
        headers={
            **auth,
            "Upload-Offset": str(reader.offset),
            "Content-Length": str(reader.length),
            "Content-Type": "application/offset+octet-stream",
            "Idempotency-Key": f"{upload_id}-{reader.offset}-{reader.length}",
        },
    )


class _ChunkReader:
    """One chunk streamed from the file in small blocks, so memory stays flat at any size."""

    def __init__(
        self,
        source: BinaryIO,
        path: Path,
        span: tuple[int, int, int],
        *,
        hashed_before: hashlib._Hash | None,
        progress: Progress,
        cancel: CancelToken,
    ) -> None:
        self.source, self.path = source, path
        self.offset, self.length, self.size = span
        self.hashed_before = hashed_before  # the file's digest up to here, when sent in order
        self.progress, self.cancel = progress, cancel
        self.digest: hashlib._Hash | None = None  # ...and with this chunk, once all of it went

    def blocks(self) -> Iterator[bytes]:
        """The chunk's bytes (again from its start on each try); a file that shrank meanwhile
        is an error, not a short upload."""
        running = self.hashed_before.copy() if self.hashed_before is not None else None
        self.source.seek(self.offset)
        left = self.length
        while left:
            self.cancel.raise_if_cancelled()
            block = self.source.read(min(BLOCK, left))
            if not block:
                raise InputError(
                    _("The file {path} became shorter while it was uploading.").format(
                        path=self.path
                    )
                )
            left -= len(block)
            if running is not None:
                running.update(block)
            self.progress(
                self.offset + self.length - left,
                self.size,
                _("Uploading {name}…").format(name=self.path.name),
            )
            yield block
        self.digest = running


def _expect(answer: httpx.Response, status: int, market: Marketplace) -> None:
    if answer.status_code != status:
        try:
            detail = answer.json().get("detail", "")
        except ValueError:
            detail = ""
        raise NetworkError(
            _("The upload to {url} failed (HTTP {status}): {detail}").format(
                url=market.url, status=answer.status_code, detail=detail
            )
        )


def sha256_of(path: Path, cancel: CancelToken) -> str:
    """The file's SHA-256 in hex, read a block at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(1024 * 1024):
            cancel.raise_if_cancelled()
            digest.update(block)
    return digest.hexdigest()
