"""`sandbox serve --require-client-cert`: the partner CA's certificates, checked over real TLS."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from portal.sandbox.mtls import CERTIFICATE_MISMATCH, CERTIFICATE_REQUIRED
from portal.sandbox.tls import ensure_tls
from tests.client_certs import QUBIT, issue, raw_tls
from tests.sandbox.test_oauth import exchange, pkce, sign_in
from tests.sandbox_server import RunningSandbox


def client(sandbox: RunningSandbox, p12: bytes | None, folder: Path) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, verify=raw_tls(sandbox, p12, folder))


def test_without_a_certificate_the_api_refuses_but_the_sign_in_page_opens(
    mtls_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with client(mtls_sandbox, None, tmp_path) as bare:
        for path in ("/v1/health", "/v1/partners/me", "/oauth/token"):
            refused = bare.request("POST" if path.startswith("/oauth") else "GET", path)
            assert refused.status_code == 403, path
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"] == CERTIFICATE_REQUIRED
            assert "client certificate" in refused.json()["detail"]
        _verifier, challenge = pkce()
        page = bare.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": "aic-partner-portal",
                "redirect_uri": "http://127.0.0.1:53117/callback",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
    assert page.status_code == 200 and "<form" in page.text  # a browser has no certificate


@pytest.mark.parametrize("which", ["another CA", "expired"])
def test_a_certificate_from_another_ca_or_expired_is_refused_in_the_handshake(
    mtls_sandbox: RunningSandbox, tmp_path: Path, which: str
) -> None:
    p12 = (
        issue(mtls_sandbox, ca=ensure_tls(tmp_path / "other-ca"))
        if which == "another CA"
        else issue(mtls_sandbox, expired=True)
    )
    with client(mtls_sandbox, p12, tmp_path) as refused, pytest.raises(httpx.TransportError):
        refused.get("/v1/health")


def test_the_organisations_certificate_and_its_token_are_served(
    mtls_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with client(mtls_sandbox, issue(mtls_sandbox), tmp_path) as lagos:
        assert lagos.get("/v1/health").json()["status"] == "ok"
        token = exchange(lagos, *sign_in(lagos)).json()["access_token"]
        me = lagos.get("/v1/partners/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["name"] == "Lagos AI Integrators"


def test_a_token_of_another_organisation_is_refused_with_the_certificate(
    mtls_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with client(mtls_sandbox, issue(mtls_sandbox, QUBIT), tmp_path) as qubit:
        token = exchange(qubit, *sign_in(qubit)).json()["access_token"]  # Ada, of Lagos
        me = qubit.get("/v1/partners/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 403
    assert me.headers["content-type"] == "application/problem+json"
    assert me.json()["type"] == CERTIFICATE_MISMATCH
