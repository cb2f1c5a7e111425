"""Input a database cannot keep (NUL, text past a column's length) is a 4xx on every database.

SQLite stores such text; PostgreSQL refuses it, which used to surface as a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portal.sync.http import marketplace_client
from tests.sandbox.test_isolation import bearer, unsafe
from tests.sandbox.test_oauth import ADA, REDIRECT, pkce
from tests.sandbox_server import RunningSandbox

PLUGINS = "/v1/marketplace/plugins"


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as opened:
        yield opened


def sign_in_form(**changes: str) -> dict[str, str]:
    fields = {
        "client_id": "aic-partner-portal",
        "redirect_uri": REDIRECT,
        "code_challenge": pkce()[1],
        "email": ADA,
        "password": "sandbox-demo",
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "ada\x00@lagos-ai.example"},
        {"redirect_uri": f"{REDIRECT}?pad={'a' * 2000}"},
        {"redirect_uri": f"{REDIRECT}?nul=\x00"},
        {"code_challenge": "x\x00" * 21 + "y"},
    ],
    ids=["nul-email", "long-redirect", "nul-redirect", "nul-challenge"],
)
def test_the_sign_in_form_refuses_what_cannot_be_stored(
    client: httpx.Client, changes: dict[str, str]
) -> None:
    answer = client.post("/oauth/authorize", data=sign_in_form(**changes))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["location"][0] == "body"


def test_a_scope_not_offered_goes_back_to_the_app_as_invalid_scope(client: httpx.Client) -> None:
    answer = client.post("/oauth/authorize", data=sign_in_form(scope="s" * 600, state="st"))
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query == {"error": ["invalid_scope"], "state": ["st"]}


def test_a_device_code_with_nul_is_refused(client: httpx.Client) -> None:
    answer = client.post(
        "/device", data={"user_code": "BCDF\x00GHJK", "email": ADA, "password": "x"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{PLUGINS}/a%00b", None),
        ("GET", "/v1/uploads/a%00b", None),
        ("POST", PLUGINS, {"name": "nul", "display_name": "a\x00b"}),
        ("POST", PLUGINS, {"name": "nul", "display_name": "N", "description": "\x00"}),
        ("POST", "/v1/uploads", {"size": True}),
        ("POST", "/v1/uploads", {"size": "12"}),
    ],
    ids=["nul-plugin", "nul-upload", "nul-name", "nul-description", "bool-size", "text-size"],
)
def test_resources_refuse_what_cannot_be_stored(
    client: httpx.Client, method: str, path: str, body: dict[str, Any] | None
) -> None:
    headers = unsafe(bearer(client, ADA))
    answer = client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/health").status_code == 200  # and the server is fine after


def test_text_up_to_the_limits_is_kept(client: httpx.Client) -> None:
    headers = bearer(client, ADA)
    name = f"long-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "display_name": "D" * 200, "description": "é" * 5000}
    made = client.post(PLUGINS, json=body, headers=unsafe(headers))
    assert made.status_code == 201, made.text
    kept = client.get(f"{PLUGINS}/{name}", headers=headers).json()
    assert (kept["display_name"], kept["description"]) == (
        body["display_name"],
        body["description"],
    )
