"""RFC 8628 device sign-in against the sandbox: a short code approved in another browser."""

from __future__ import annotations

import threading

import pytest

from portal.auth.oauth import Marketplace, sign_in_with_device_code
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.errors import Cancelled
from portal.paths import DataDir
from portal.sandbox.seed import DEMO_PASSWORD
from portal.sync.profile import fetch_profile
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def market(sandbox: RunningSandbox) -> Marketplace:
    return Marketplace(sandbox.url, sandbox.tls.ca_cert)


def approve(market: Marketplace, user_code: str, email: str = "sari@jakarta-edge.example") -> str:
    with market.client() as web:
        return web.post(
            "/device", data={"user_code": user_code, "email": email, "password": DEMO_PASSWORD}
        ).text


def test_the_protocol_pending_slow_down_approved_and_used(market: Marketplace) -> None:
    with market.client() as client:
        offer = client.post(
            "/oauth/device_authorization", data={"client_id": "aic-partner-portal"}
        ).json()
        assert offer["verification_uri_complete"].endswith(offer["user_code"])
        ask = {
            "grant_type": DEVICE,
            "client_id": "aic-partner-portal",
            "device_code": offer["device_code"],
        }
        assert client.post("/oauth/token", data=ask).json()["error"] == "authorization_pending"
        assert client.post("/oauth/token", data=ask).json()["error"] == "slow_down"
        assert "Device signed in" in approve(market, offer["user_code"].replace("-", " "))
        tokens = client.post("/oauth/token", data=ask).json()
        assert tokens["token_type"] == "Bearer"
        again = client.post("/oauth/token", data=ask)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_code_or_password_is_said_on_the_page(market: Marketplace) -> None:
    assert "unknown or has expired" in approve(market, "ZZZZ-ZZZZ")
    with market.client() as client:
        offer = client.post(
            "/oauth/device_authorization", data={"client_id": "aic-partner-portal"}
        ).json()
        wrong = client.post(
            "/device",
            data={
                "user_code": offer["user_code"],
                "email": "sari@jakarta-edge.example",
                "password": "nope",
            },
        )
    assert wrong.status_code == 401 and "Wrong e-mail or password." in wrong.text


def test_the_app_waits_for_the_approval_then_keeps_the_tokens(
    market: Marketplace, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    tokens = TokenStore(data_dir.keyring_service, market.account)
    shown: list[tuple[str, str]] = []

    def show(code: str, address: str) -> None:
        shown.append((code, address))
        threading.Timer(1.5, approve, args=(market, code)).start()

    sign_in_with_device_code(market, tokens, show_code=show, cancel=CancelToken())
    assert shown and shown[0][1].endswith(shown[0][0])
    assert fetch_profile(market, tokens).organisation == "Jakarta Edge Compute"


def test_waiting_can_be_cancelled(
    market: Marketplace, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    cancel = CancelToken()
    tokens = TokenStore(data_dir.keyring_service, market.account)
    with pytest.raises(Cancelled):
        sign_in_with_device_code(
            market, tokens, show_code=lambda _code, _url: cancel.cancel(), cancel=cancel
        )
    assert tokens.load() is None


def test_an_unknown_client_is_refused(market: Marketplace) -> None:
    with market.client() as client:
        answer = client.post("/oauth/device_authorization", data={"client_id": "evil"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
