"""Signing in, staying signed in and signing out, against the real sandbox over real TLS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.auth.oauth import AuthError, Marketplace, access_token, sign_in, sign_out
from portal.auth.tokens import NoKeyringError, TokenStore
from portal.cancel import CancelToken
from portal.db.store import Store
from portal.errors import Cancelled
from portal.overview import overview
from portal.paths import DataDir
from portal.sync.profile import fetch_profile, forget_profile, save_profile
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, fake_browser


@pytest.fixture
def market(sandbox: RunningSandbox) -> Marketplace:
    return Marketplace(sandbox.url, sandbox.tls.ca_cert)


def test_sign_in_keeps_tokens_only_in_the_keyring(
    market: Marketplace, sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    tokens = TokenStore(data_dir.keyring_service, market.account)
    signed = sign_in(
        market, tokens, open_url=fake_browser(sandbox), cancel=CancelToken(), timeout=20
    )
    assert list(memory_keyring.entries) == [(data_dir.keyring_service, f"oauth:{market.url}")]
    assert signed.access_token not in repr(signed)

    who = fetch_profile(market, tokens)
    store = Store.open(data_dir)
    try:
        save_profile(store, who)
        seen = overview(store).organisation
        assert seen is not None and seen.name == "Lagos AI Integrators"
    finally:
        store.close()
    for path in data_dir.root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert signed.access_token.encode() not in content, path
            assert signed.refresh_token.encode() not in content, path


def test_an_expired_access_token_is_refreshed_and_the_rotation_kept(
    market: Marketplace, sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    tokens = TokenStore(data_dir.keyring_service, market.account)
    first = sign_in(
        market, tokens, open_url=fake_browser(sandbox), cancel=CancelToken(), timeout=20
    )
    tokens.save(replace(first, expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    fresh = access_token(market, tokens)
    assert fresh != first.access_token
    kept = tokens.load()
    assert kept is not None and kept.refresh_token != first.refresh_token
    assert fetch_profile(market, tokens).email == "ada@lagos-ai.example"


def test_a_refused_refresh_signs_out(
    market: Marketplace, sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    tokens = TokenStore(data_dir.keyring_service, market.account)
    first = sign_in(
        market, tokens, open_url=fake_browser(sandbox), cancel=CancelToken(), timeout=20
    )
    access_token(market, tokens)  # nothing expired yet: no rotation
    with market.client() as client:  # someone else rotates it first: reuse is detected
        client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "aic-partner-portal",
                "refresh_token": first.refresh_token,
            },
        )
    tokens.save(replace(first, expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    with pytest.raises(AuthError, match="sign in again"):
        access_token(market, tokens)
    assert tokens.load() is None


def test_sign_out_revokes_at_the_marketplace(
    market: Marketplace, sandbox: RunningSandbox, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    tokens = TokenStore(data_dir.keyring_service, market.account)
    signed = sign_in(
        market, tokens, open_url=fake_browser(sandbox), cancel=CancelToken(), timeout=20
    )
    assert sign_out(market, tokens) is True
    assert tokens.load() is None
    with market.client() as client:
        answer = client.get(
            "/v1/partners/me", headers={"Authorization": f"Bearer {signed.access_token}"}
        )
    assert answer.status_code == 401


def test_sign_in_can_be_cancelled(
    market: Marketplace, memory_keyring: MemoryKeyring, data_dir: DataDir
) -> None:
    cancel = CancelToken()
    tokens = TokenStore(data_dir.keyring_service, market.account)
    with pytest.raises(Cancelled):
        sign_in(market, tokens, open_url=lambda _url: cancel.cancel(), cancel=cancel, timeout=20)
    assert tokens.load() is None


def test_without_a_keyring_nothing_is_attempted(market: Marketplace, data_dir: DataDir) -> None:
    opened: list[str] = []
    with pytest.raises(NoKeyringError, match="No OS keyring"):
        sign_in(
            market,
            TokenStore(data_dir.keyring_service, market.account),
            open_url=opened.append,
            cancel=CancelToken(),
        )
    assert opened == []


def test_forget_profile_empties_the_dashboard(data_dir: DataDir) -> None:
    store = Store.open(data_dir)
    try:
        forget_profile(store)
        assert overview(store).organisation is None
    finally:
        store.close()


def test_login_whoami_logout_from_the_command_line(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        "AIC_TEST_KEYRING": str(tmp_path / "keyring.json"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    base = [sys.executable, "-m", "portal.cli", "--data-dir", str(tmp_path / "d")]
    login = subprocess.Popen(
        [
            *base,
            "login",
            "--no-browser",
            "--marketplace",
            sandbox.url,
            "--ca-bundle",
            str(sandbox.tls.ca_cert),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert login.stdout is not None
    login.stdout.readline()
    fake_browser(sandbox, email="sari@jakarta-edge.example")(login.stdout.readline().strip())
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert "Signed in as Sari Wijaya <sari@jakarta-edge.example> for Jakarta Edge Compute." in out

    who = subprocess.run([*base, "whoami"], capture_output=True, text=True, env=env, timeout=60)
    assert who.returncode == 0, who.stderr
    assert "Organisation:  Jakarta Edge Compute" in who.stdout
    assert "Revenue share: 20%" in who.stdout

    out_ = subprocess.run([*base, "logout"], capture_output=True, text=True, env=env, timeout=60)
    assert out_.stdout.strip() == "Signed out."
    again = subprocess.run([*base, "whoami"], capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 1
    assert again.stderr.strip() == f"Error: You are not signed in to {sandbox.url}."
    settings = (tmp_path / "d" / "settings.json").read_text()
    log = (tmp_path / "d" / "logs" / "portal.log").read_text()
    assert "access_token" not in settings and "refresh_token" not in log


def test_the_loopback_ignores_answers_to_other_requests() -> None:
    import threading
    import urllib.request

    from portal.auth.loopback import LoopbackReceiver

    receiver = LoopbackReceiver(state="mine")

    def answer() -> None:
        for query in ("state=other&code=stolen", "state=mine&code=good"):
            try:
                urllib.request.urlopen(f"{receiver.redirect_uri}?{query}", timeout=5)
            except OSError:
                pass

    threading.Thread(target=answer, daemon=True).start()
    assert receiver.wait(cancel=CancelToken(), timeout=10)["code"] == "good"
