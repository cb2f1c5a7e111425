"""`/v1/batch`: each request in it answered as if sent alone, in order, exactly once."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest

from tests.sandbox.test_isolation import PLUGINS, bearer
from tests.sandbox_server import RunningSandbox


@pytest.fixture
def client(sandbox: RunningSandbox) -> httpx.Client:
    from portal.sync.http import marketplace_client

    return marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert)


def create(name: str, *, key: str | None = None) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": PLUGINS,
        "idempotency_key": key or str(uuid.uuid4()),
        "body": {"name": name, "display_name": name.title()},
    }


def run(client: httpx.Client, headers: dict[str, str], *requests: dict[str, Any]) -> Any:
    answer = client.post("/v1/batch", json={"requests": list(requests)}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["responses"]


def test_a_batch_answers_each_request_and_a_repeat_replays_them(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    names = [f"batch-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    requests = [create(name) for name in names]
    first = run(client, lagos, *requests)
    assert [a["status"] for a in first] == [201, 201, 201]
    assert [a["body"]["name"] for a in first] == names
    assert all(a["headers"]["etag"] for a in first)

    again = run(client, lagos, *requests)  # the answer was lost: the client sends it all again
    assert [a["status"] for a in again] == [201, 201, 201]
    assert all(a["headers"]["idempotent-replayed"] == "true" for a in again)
    listed = [p["name"] for p in client.get(PLUGINS, headers=lagos).json()]
    assert all(listed.count(name) == 1 for name in names)


def test_a_refused_request_undoes_only_itself(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    taken, fresh = (f"refused-{uuid.uuid4().hex[:8]}" for _ in range(2))
    made = client.post(
        PLUGINS,
        json={"name": taken, "display_name": "Taken"},
        headers={**lagos, "Idempotency-Key": str(uuid.uuid4())},
    )
    stale = made.headers["etag"]
    client.patch(
        f"{PLUGINS}/{taken}",
        json={"description": "newer"},
        headers={**lagos, "Idempotency-Key": str(uuid.uuid4()), "If-Match": stale},
    )
    answers = run(
        client,
        lagos,
        create(taken),
        {
            "method": "PATCH",
            "path": f"{PLUGINS}/{taken}",
            "idempotency_key": str(uuid.uuid4()),
            "if_match": stale,
            "body": {"description": "lost update"},
        },
        create(fresh),
    )
    assert [a["status"] for a in answers] == [409, 412, 201]
    assert answers[1]["headers"]["content-type"] == "application/problem+json"
    assert client.get(f"{PLUGINS}/{taken}", headers=lagos).json()["description"] == "newer"
    assert client.get(f"{PLUGINS}/{fresh}", headers=lagos).status_code == 200


def test_a_batch_is_refused_whole_when_it_is_malformed(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    nested = {"method": "POST", "path": "/v1/batch", "idempotency_key": "k", "body": {}}
    too_many = [create(f"many-{n}") for n in range(101)]
    for requests in ([nested], too_many, [], [{**create("x"), "path": "/oauth/token"}]):
        answer = client.post("/v1/batch", json={"requests": requests}, headers=lagos)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert client.post("/v1/batch", json={"requests": [create("y")]}).status_code == 401
    assert client.get(f"{PLUGINS}/many-0", headers=lagos).status_code == 404


def test_a_request_that_needs_to_go_alone_says_so(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    upload = client.post(
        "/v1/uploads", json={"size": 0}, headers={**lagos, "Idempotency-Key": str(uuid.uuid4())}
    ).json()["id"]
    key = str(uuid.uuid4())
    answers = run(
        client,
        lagos,
        {
            "method": "POST",
            "path": f"/v1/uploads/{upload}/finish",
            "idempotency_key": str(uuid.uuid4()),
            "body": {"sha256": hashlib.sha256(b"").hexdigest()},
        },
        {"method": "DELETE", "path": PLUGINS, "idempotency_key": str(uuid.uuid4())},
        {"method": "POST", "path": "/v1/nowhere", "idempotency_key": str(uuid.uuid4())},
        create(f"twice-{key[:8]}", key=key),
        create(f"twice-{key[:8]}", key=key),
        {**create("x"), "body": {"name": "Not A Label"}},
    )
    assert [a["status"] for a in answers] == [422, 405, 404, 201, 201, 422]
    assert answers[0]["body"]["type"] == "https://aic-platform.io/problems/not-batchable"
    assert "idempotent-replayed" not in answers[3]["headers"]
    assert answers[4]["headers"]["idempotent-replayed"] == "true"
    assert {e["location"][-1] for e in answers[5]["body"]["errors"]} >= {"name", "display_name"}
