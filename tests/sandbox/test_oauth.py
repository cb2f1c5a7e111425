"""Signing in to the sandbox as the app will: code + PKCE over a loopback redirect, then tokens."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portal.sandbox.seed import DEMO_PASSWORD
from portal.sync.http import marketplace_client
from tests.sandbox_server import RunningSandbox

REDIRECT = "http://127.0.0.1:53117/callback"
ADA = "ada@lagos-ai.example"


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as opened:
        yield opened


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def sign_in(
    client: httpx.Client, *, email: str = ADA, password: str = DEMO_PASSWORD
) -> tuple[str, str]:
    """Walk the sign-in page as a browser would; returns (code, verifier)."""
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": "aic-partner-portal",
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s-42",
    }
    page = client.get("/oauth/authorize", params=query)
    assert page.status_code == 200 and "<form" in page.text
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    answer = client.post("/oauth/authorize", data={**fields, "email": email, "password": password})
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    params = parse_qs(location.query)
    assert params["state"] == ["s-42"]
    return params["code"][0], verifier


def exchange(client: httpx.Client, code: str, verifier: str) -> httpx.Response:
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": "aic-partner-portal",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )


def refresh(client: httpx.Client, token: str) -> httpx.Response:
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "aic-partner-portal",
            "refresh_token": token,
        },
    )


def me(client: httpx.Client, access: str) -> httpx.Response:
    return client.get("/v1/partners/me", headers={"Authorization": f"Bearer {access}"})


def test_metadata_names_the_endpoints(client: httpx.Client, sandbox: RunningSandbox) -> None:
    meta = client.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == sandbox.url
    assert meta["token_endpoint"] == f"{sandbox.url}/oauth/token"
    assert meta["code_challenge_methods_supported"] == ["S256"]


def test_sign_in_then_read_my_organisation(client: httpx.Client) -> None:
    code, verifier = sign_in(client)
    tokens = exchange(client, code, verifier).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 600
    profile = me(client, tokens["access_token"]).json()
    assert profile["name"] == "Lagos AI Integrators"
    assert profile["partner_type"] == "system_integrator"
    assert profile["email"] == ADA and profile["revenue_share"] == "0.2500"


def test_each_user_sees_only_their_own_organisation(client: httpx.Client) -> None:
    code, verifier = sign_in(client, email="sari@jakarta-edge.example")
    access = exchange(client, code, verifier).json()["access_token"]
    assert me(client, access).json()["name"] == "Jakarta Edge Compute"


def test_a_wrong_password_shows_the_form_again(client: httpx.Client) -> None:
    _verifier, challenge = pkce()
    answer = client.post(
        "/oauth/authorize",
        data={
            "client_id": "aic-partner-portal",
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "email": ADA,
            "password": "guess",
        },
    )
    assert answer.status_code == 401
    assert "Wrong e-mail or password." in answer.text and "location" not in answer.headers


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/callback",
        "http://localhost:4000/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:4000/other",
    ],
)
def test_only_loopback_redirects_are_accepted(client: httpx.Client, redirect: str) -> None:
    _verifier, challenge = pkce()
    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "aic-partner-portal",
            "redirect_uri": redirect,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 400 and "location" not in page.headers


def test_plain_pkce_is_refused(client: httpx.Client) -> None:
    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "aic-partner-portal",
            "redirect_uri": REDIRECT,
            "code_challenge": "x" * 43,
            "code_challenge_method": "plain",
            "state": "s",
        },
    )
    assert page.status_code == 303
    assert parse_qs(urlsplit(page.headers["location"]).query)["error"] == ["invalid_request"]


def test_a_wrong_verifier_is_refused(client: httpx.Client) -> None:
    code, _verifier = sign_in(client)
    answer = exchange(client, code, pkce()[0])
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["error"] == "invalid_grant"


def test_a_code_used_twice_revokes_what_it_gave(client: httpx.Client) -> None:
    code, verifier = sign_in(client)
    tokens = exchange(client, code, verifier).json()
    again = exchange(client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert me(client, tokens["access_token"]).status_code == 401


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(client: httpx.Client) -> None:
    code, verifier = sign_in(client)
    first = exchange(client, code, verifier).json()
    second = refresh(client, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second["access_token"]).status_code == 200

    stolen = refresh(client, first["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert me(client, second["access_token"]).status_code == 401
    assert refresh(client, second["refresh_token"]).status_code == 400


def test_revoking_the_refresh_token_signs_out(client: httpx.Client) -> None:
    code, verifier = sign_in(client)
    tokens = exchange(client, code, verifier).json()
    assert client.post("/oauth/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    assert me(client, tokens["access_token"]).status_code == 401
    assert client.post("/oauth/revoke", data={"token": "never-issued"}).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic YWRhOnB3"])
def test_resources_need_a_live_access_token(client: httpx.Client, header: str | None) -> None:
    answer = client.get("/v1/partners/me", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["instance"] == "/v1/partners/me"
