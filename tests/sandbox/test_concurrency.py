"""Requests that race for one record: each effect happens once, on SQLite and on PostgreSQL.

Every request gets its own connection, made before a barrier releases them all together.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from portal.sync.http import marketplace_client
from tests.sandbox.test_isolation import bearer, unsafe
from tests.sandbox.test_oauth import exchange, refresh, sign_in
from tests.sandbox_server import RunningSandbox

PLUGINS = "/v1/marketplace/plugins"
RACERS = 6


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as opened:
        yield opened


def race(
    sandbox: RunningSandbox, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """`send(client, n)` from RACERS threads at once; the answers in thread order."""
    start = threading.Barrier(RACERS)

    def one(n: int) -> httpx.Response:
        with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as client:
            client.get("/v1/health").raise_for_status()  # connected and through TLS already
            start.wait(10)
            return send(client, n)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


def test_one_idempotency_key_sent_at_once_acts_once(
    sandbox: RunningSandbox, client: httpx.Client
) -> None:
    headers = {**bearer(client, "ada@lagos-ai.example"), "Idempotency-Key": str(uuid.uuid4())}
    body = {"name": f"same-key-{uuid.uuid4().hex[:8]}", "display_name": "Same key"}
    answers = race(sandbox, lambda c, _n: c.post(PLUGINS, json=body, headers=headers))
    assert [a.status_code for a in answers] == [201] * RACERS, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    listed = [p["name"] for p in client.get(PLUGINS, headers=headers).json()]
    assert listed.count(body["name"]) == 1


def test_one_name_listed_at_once_is_listed_once(
    sandbox: RunningSandbox, client: httpx.Client
) -> None:
    auth = bearer(client, "ada@lagos-ai.example")
    body = {"name": f"same-name-{uuid.uuid4().hex[:8]}", "display_name": "Same name"}
    answers = race(sandbox, lambda c, _n: c.post(PLUGINS, json=body, headers=unsafe(auth)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * (RACERS - 1)
    assert all(
        a.headers["content-type"] == "application/problem+json"
        for a in answers
        if a.status_code == 409
    )


def test_one_etag_lets_one_change_through(sandbox: RunningSandbox, client: httpx.Client) -> None:
    auth = bearer(client, "ada@lagos-ai.example")
    name = f"one-etag-{uuid.uuid4().hex[:8]}"
    made = client.post(PLUGINS, json={"name": name, "display_name": "E"}, headers=unsafe(auth))
    etag = made.headers["etag"]
    answers = race(
        sandbox,
        lambda c, n: c.patch(
            f"{PLUGINS}/{name}",
            json={"description": f"writer {n}"},
            headers={**unsafe(auth), "If-Match": etag},
        ),
    )
    assert sorted(a.status_code for a in answers) == [200] + [412] * (RACERS - 1)
    (winner,) = (a for a in answers if a.status_code == 200)
    now = client.get(f"{PLUGINS}/{name}", headers=auth)
    assert now.json()["description"] == winner.json()["description"]
    assert now.json()["revision"] == 2


def test_one_code_redeemed_at_once_gives_tokens_once(
    sandbox: RunningSandbox, client: httpx.Client
) -> None:
    code, verifier = sign_in(client)
    answers = race(sandbox, lambda c, _n: exchange(c, code, verifier))
    assert sorted(a.status_code for a in answers) == [200] + [400] * (RACERS - 1)
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}


def test_one_refresh_token_rotated_at_once_rotates_once(
    sandbox: RunningSandbox, client: httpx.Client
) -> None:
    code, verifier = sign_in(client)
    tokens = exchange(client, code, verifier).json()
    answers = race(sandbox, lambda c, _n: refresh(c, tokens["refresh_token"]))
    assert sorted(a.status_code for a in answers) == [200] + [400] * (RACERS - 1)


def test_one_chunk_sent_at_once_is_appended_once(
    sandbox: RunningSandbox, client: httpx.Client
) -> None:
    auth = bearer(client, "ada@lagos-ai.example")
    upload = client.post("/v1/uploads", json={"size": 4}, headers=unsafe(auth)).json()["id"]
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4()), "Upload-Offset": "0"}
    answers = race(
        sandbox,
        lambda c, _n: c.patch(
            f"/v1/uploads/{upload}", content=b"abcd", headers=headers, timeout=30
        ),
    )
    assert [a.status_code for a in answers] == [200] * RACERS, [a.text for a in answers]
    assert client.get(f"/v1/uploads/{upload}", headers=auth).json()["offset"] == 4
