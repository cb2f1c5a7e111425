"""Resumable uploads against the sandbox: whole files, a break at half way, a wrong checksum."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from portal.auth.oauth import Marketplace, NetworkError, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, no_progress
from portal.errors import Cancelled
from portal.paths import DataDir
from portal.sync.upload import upload_file
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox
from tests.sync.test_engine import signed_in

MIB = 1024 * 1024


@pytest.fixture
def signed(
    sandbox: RunningSandbox, data_dir: DataDir, memory_keyring: MemoryKeyring
) -> tuple[Marketplace, TokenStore]:
    return signed_in(sandbox, data_dir, "lena@qubitforge.example")


def payload(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "weights.bin"
    path.write_bytes(os.urandom(size))
    return path


def test_a_file_arrives_whole(signed: tuple[Marketplace, TokenStore], tmp_path: Path) -> None:
    market, tokens = signed
    path = payload(tmp_path, 5 * MIB + 123)
    seen: list[int] = []
    done = upload_file(
        market,
        tokens,
        path,
        progress=lambda d, _t, _m: seen.append(d),
        cancel=CancelToken(),
        chunk_size=MIB,
    )
    assert done.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert done.chunks_sent == 6 and seen[-1] == done.size
    with market.client() as client:
        state = client.get(
            f"/v1/uploads/{done.upload_id}",
            headers={"Authorization": f"Bearer {access_token(market, tokens)}"},
        )
    assert state.json() == {
        "id": done.upload_id,
        "size": done.size,
        "offset": done.size,
        "sha256": done.sha256,
    }


def test_a_break_at_half_way_resumes_without_resending(
    signed: tuple[Marketplace, TokenStore], tmp_path: Path
) -> None:
    market, tokens = signed
    path = payload(tmp_path, 8 * MIB)
    cancel = CancelToken()
    ids: list[str] = []

    def stop_at_half(done: int, total: int | None, _message: str) -> None:
        if total and done >= total // 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        upload_file(
            market,
            tokens,
            path,
            progress=stop_at_half,
            cancel=cancel,
            started=ids.append,
            chunk_size=MIB,
        )
    resumed = upload_file(
        market,
        tokens,
        path,
        progress=no_progress,
        cancel=CancelToken(),
        resume=ids[0],
        chunk_size=MIB,
    )
    assert resumed.upload_id == ids[0]
    assert resumed.chunks_sent <= 4 + 1  # the second half, at most one chunk again
    assert resumed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_changed_file_fails_the_checksum(
    signed: tuple[Marketplace, TokenStore], tmp_path: Path
) -> None:
    market, tokens = signed
    path = payload(tmp_path, 2 * MIB)
    cancel = CancelToken()
    ids: list[str] = []
    with pytest.raises(Cancelled):
        upload_file(
            market,
            tokens,
            path,
            cancel=cancel,
            started=ids.append,
            chunk_size=MIB,
            progress=lambda d, _t, _m: cancel.cancel() if d >= MIB else None,
        )
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF  # the first half, already sent, no longer matches the file
    path.write_bytes(bytes(data))
    with pytest.raises(NetworkError, match="SHA-256"):
        upload_file(
            market,
            tokens,
            path,
            progress=no_progress,
            cancel=CancelToken(),
            resume=ids[0],
            chunk_size=MIB,
        )


def test_a_wrong_offset_is_told_the_right_one(signed: tuple[Marketplace, TokenStore]) -> None:
    market, tokens = signed
    auth = {"Authorization": f"Bearer {access_token(market, tokens)}"}
    with market.client() as client:
        made = client.post(
            "/v1/uploads",
            json={"size": 10},
            headers={**auth, "Idempotency-Key": "offset-test-create"},
        ).json()
        wrong = client.patch(
            f"/v1/uploads/{made['id']}",
            content=b"abc",
            headers={**auth, "Upload-Offset": "5", "Idempotency-Key": "o-1"},
        )
    assert wrong.status_code == 409 and wrong.headers["upload-offset"] == "0"


def test_a_file_that_shrinks_while_uploading_is_a_clear_error(
    signed: tuple[Marketplace, TokenStore], tmp_path: Path
) -> None:
    from portal.errors import InputError

    market, tokens = signed
    path = payload(tmp_path, 3 * MIB)

    def shrink(done: int, _total: int | None, _message: str) -> None:
        if done >= MIB:
            with path.open("r+b") as handle:
                handle.truncate(MIB + 10)

    with pytest.raises(InputError, match="became shorter"):
        upload_file(market, tokens, path, progress=shrink, cancel=CancelToken(), chunk_size=MIB)


def test_a_whole_file_can_come_in_one_put_and_must_match_its_announced_size(
    sandbox: RunningSandbox, data_dir: DataDir, memory_keyring: MemoryKeyring
) -> None:
    import uuid

    market, tokens = signed_in(sandbox, data_dir, "ada@lagos-ai.example")
    auth = {"Authorization": f"Bearer {access_token(market, tokens)}"}
    body = os.urandom(300_000)
    with market.client() as client:

        def create(size: int) -> str:
            made = client.post(
                "/v1/uploads",
                json={"size": size},
                headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            )
            return str(made.json()["id"])

        def put(upload: str, content: bytes, key: str) -> httpx.Response:
            return client.put(
                f"/v1/uploads/{upload}", content=content, headers={**auth, "Idempotency-Key": key}
            )

        upload, key = create(len(body)), str(uuid.uuid4())
        assert put(upload, body, key).headers["upload-offset"] == str(len(body))
        assert put(upload, body, key).headers["idempotent-replayed"] == "true"
        assert put(upload, body, str(uuid.uuid4())).status_code == 409  # already complete
        finished = client.post(
            f"/v1/uploads/{upload}/finish",
            json={"sha256": hashlib.sha256(body).hexdigest()},
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert finished.status_code == 200
        short = put(create(len(body) + 1), body, str(uuid.uuid4()))
        assert short.status_code == 413 and "announced" in short.json()["detail"]


def test_an_upload_the_marketplace_forgot_starts_afresh(
    signed: tuple[Marketplace, TokenStore], tmp_path: Path
) -> None:
    market, tokens = signed
    path = payload(tmp_path, MIB + 7)
    started: list[str] = []
    done = upload_file(
        market,
        tokens,
        path,
        progress=no_progress,
        cancel=CancelToken(),
        resume="0123456789abcdef",  # well formed, but no such upload (expired, or another server)
        started=started.append,
        chunk_size=MIB,
    )
    assert started == [done.upload_id] and done.upload_id != "0123456789abcdef"
    assert done.chunks_sent == 2
