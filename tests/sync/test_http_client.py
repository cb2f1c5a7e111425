"""The one HTTPS client: client certificate, pins and proxy, against real servers over real TLS."""

from __future__ import annotations

import json
import ssl
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.auth.identity import ACCOUNT, client_identity, import_identity
from portal.auth.oauth import Marketplace, configured_marketplace, sign_in
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.errors import InputError
from portal.paths import DataDir
from portal.sandbox.tls import ensure_tls, spki_pin
from portal.settings import Settings, load_settings, save_settings, validate_pin, validate_proxy
from portal.sync.connectivity import Problem, probe_marketplace
from portal.sync.http import request_with_retries
from portal.sync.pins import PinnedSSLContext, PinsThroughProxyError
from portal.sync.profile import fetch_profile
from portal.sync.refusals import Refusal, RefusedError
from tests.client_certs import PASSPHRASE, issue, write_p12
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, fake_browser
from tests.tls_servers import connect_proxy, recording_tls_server


def _market(sandbox: RunningSandbox, data_dir: DataDir) -> Marketplace:
    return Marketplace(sandbox.url, sandbox.tls.ca_cert, identity=client_identity(data_dir))


def _import(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    tmp_path: Path,
    *,
    now: datetime | None = None,
    **how: Any,
) -> None:
    source = write_p12(tmp_path / "given", issue(sandbox, **how))
    import_identity(data_dir, source, PASSPHRASE, now=now)


def test_the_probe_says_how_the_client_certificate_fails(
    mtls_sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir, tmp_path: Path
) -> None:
    market = _market(mtls_sandbox, data_dir)
    missing = probe_marketplace(market)
    assert (missing.problem, missing.refusal) == (Problem.REFUSED, Refusal.CERTIFICATE_REQUIRED)
    assert "aic-portal cert import" in missing.reason()

    _import(mtls_sandbox, data_dir, tmp_path, ca=ensure_tls(tmp_path / "other-ca"))
    assert probe_marketplace(market).problem == Problem.CLOSED_AFTER_CERTIFICATE

    _import(mtls_sandbox, data_dir, tmp_path)
    assert probe_marketplace(market).online

    memory_keyring.entries.clear()  # the passphrase went missing from the keyring
    pinned = replace(market, pins=(spki_pin(mtls_sandbox.tls.server_cert),))  # a new context
    lost = probe_marketplace(pinned)
    assert lost.problem == Problem.UNUSABLE_CERTIFICATE
    assert "not in the keyring" in lost.reason()

    long_ago = datetime.now(UTC) - timedelta(days=10)
    _import(mtls_sandbox, data_dir, tmp_path, expired=True, now=long_ago)
    expired = probe_marketplace(market)
    assert expired.problem == Problem.UNUSABLE_CERTIFICATE
    assert "Your client certificate expired on" in expired.reason()


def test_a_token_of_another_organisation_is_refused_in_plain_words(
    mtls_sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir, tmp_path: Path
) -> None:
    _import(mtls_sandbox, data_dir, tmp_path)  # Lagos
    market = _market(mtls_sandbox, data_dir)
    tokens = TokenStore(data_dir.keyring_service, market.account)
    browser = fake_browser(mtls_sandbox, email="lena@qubitforge.example")
    sign_in(market, tokens, open_url=browser, cancel=CancelToken(), timeout=20)
    with pytest.raises(RefusedError) as refused:
        fetch_profile(market, tokens)
    assert refused.value.refusal == Refusal.CERTIFICATE_MISMATCH
    assert "belongs to another organisation" in refused.value.message


def test_a_refusal_in_the_tls_handshake_is_explained_and_not_retried(tmp_path: Path) -> None:
    tls = ensure_tls(tmp_path / "tls")
    with recording_tls_server(tls, require_cert=True) as server:
        market = Marketplace(server.url, tls.ca_cert)
        answer = probe_marketplace(market)
        with market.client() as client, pytest.raises(RefusedError) as refused:
            request_with_retries(client, "GET", "/v1/health", headers={}, cancel=CancelToken())
    assert answer.refusal == Refusal.CERTIFICATE_REQUIRED
    assert refused.value.refusal == Refusal.CERTIFICATE_REQUIRED
    assert len(server.received) == 2  # the probe, and one try: no retries


def test_a_pinned_key_is_checked_before_any_byte_is_sent(tmp_path: Path) -> None:
    tls = ensure_tls(tmp_path / "tls")
    right, wrong = spki_pin(tls.server_cert), spki_pin(ensure_tls(tmp_path / "other").server_cert)
    bearer = {"Authorization": "Bearer do-not-leak"}
    with recording_tls_server(tls) as server:
        with Marketplace(server.url, tls.ca_cert, pins=(wrong, right)).client() as client:
            assert client.get("/v1/health", headers=bearer).status_code == 200
        with Marketplace(server.url, tls.ca_cert, pins=(wrong,)).client() as client:
            with pytest.raises(httpx.ConnectError):
                client.get("/v1/health", headers=bearer)
        answer = probe_marketplace(Marketplace(server.url, tls.ca_cert, pins=(wrong,)))
    assert answer.refusal == Refusal.PIN_MISMATCH
    assert "matches none of the pinned keys" in answer.reason()
    requests = [got for got in server.received if got]
    assert len(requests) == 1 and b"Bearer do-not-leak" in requests[0]
    assert server.received.count(b"") == 2  # handshakes only: not a byte of a request


def test_pins_cannot_be_checked_inside_an_https_proxy_tunnel() -> None:
    context = PinnedSSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(PinsThroughProxyError):
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")


@pytest.fixture
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.usefixtures("no_proxy_environment")
def test_the_proxy_setting_carries_the_traffic(sandbox: RunningSandbox) -> None:
    host = sandbox.url.removeprefix("https://")
    with connect_proxy() as proxy:
        market = Marketplace(sandbox.url, sandbox.tls.ca_cert, proxy=proxy.url)
        assert probe_marketplace(market).online
        with Marketplace(sandbox.url, sandbox.tls.ca_cert).client() as direct:
            assert direct.get("/v1/health").status_code == 200
    assert proxy.connects == [host]  # the probe went through it, the direct client did not


@pytest.mark.usefixtures("no_proxy_environment")
def test_without_the_setting_the_environment_proxy_applies(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert probe_marketplace(Marketplace(sandbox.url, sandbox.tls.ca_cert)).online
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert probe_marketplace(Marketplace(sandbox.url, sandbox.tls.ca_cert)).online
    assert proxy.connects == [sandbox.url.removeprefix("https://")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "is not a pin-sha256 value"),
        ("AAAA", "is not a pin-sha256 value"),
    ],
)
def test_a_malformed_pin_is_refused(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_pin(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("proxy.example:3128", "must start with http:// or https://"),
        ("socks5://proxy.example:1080", "must start with http:// or https://"),
        ("http://user:secret@proxy.example:3128", "without a user name, a password or a path"),
    ],
)
def test_a_bad_proxy_is_refused_without_echoing_a_password(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as refused:
        validate_proxy(value)
    assert "secret" not in refused.value.message


def test_pins_and_proxy_are_kept_in_the_settings(data_dir: DataDir) -> None:
    pin = spki_pin(ensure_tls(data_dir.root / "tls").server_cert)
    chosen = Settings(
        marketplace_url="https://market.example",
        pins=(validate_pin(pin),),
        proxy=validate_proxy("http://proxy.example:3128/"),
    )
    save_settings(data_dir.settings, chosen)
    assert json.loads(data_dir.settings.read_text())["pins"] == [pin]
    assert load_settings(data_dir.settings) == (chosen, None)
    market = configured_marketplace(data_dir, chosen)
    assert market is not None
    assert (market.pins, market.proxy) == ((pin,), "http://proxy.example:3128")
    assert market.identity == client_identity(data_dir)
    assert ACCOUNT not in data_dir.settings.read_text()
