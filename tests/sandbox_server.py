"""A real sandbox server over real TLS on loopback, in a thread of the test process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from portal.sandbox.app import create_app
from portal.sandbox.seed import seed_demo
from portal.sandbox.serve import base_url, listen, server_config
from portal.sandbox.tls import TLSFiles, ensure_tls


@dataclass(frozen=True)
class RunningSandbox:
    """Where the test server listens and the CA that signed its certificate."""

    url: str
    tls: TLSFiles


@contextmanager
def running_sandbox(
    state: Path, *, require_client_cert: bool = False, **options: Any
) -> Iterator[RunningSandbox]:
    """A seeded sandbox server with `options` for create_app, stopped when the block ends.

    `require_client_cert` serves it as `sandbox serve --require-client-cert` does (mTLS).
    """
    tls = ensure_tls(state / "tls")
    app = create_app(
        database_url=f"sqlite:///{state / 'marketplace.sqlite3'}",
        upload_dir=state / "uploads",
        require_client_cert=require_client_cert,
        **options,
    )
    seed_demo(app.state.sessions)
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(
        server_config(app, tls, require_client_cert=require_client_cert, log_level="critical")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        thread.join(0.02)
    try:
        yield RunningSandbox(base_url(sock), tls)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One well-behaved sandbox for the whole run."""
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(scope="session")
def mtls_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox that requires client certificates (`sandbox serve --require-client-cert`)."""
    with running_sandbox(tmp_path_factory.mktemp("mtls"), require_client_cert=True) as running:
        yield running


def fake_browser(
    sandbox: RunningSandbox, email: str = "ada@lagos-ai.example"
) -> Callable[[str], None]:
    """A stand-in for the system browser: fills the sign-in page, follows the redirect."""
    from portal.auth.oauth import Marketplace
    from portal.demo import fill_sandbox_sign_in

    return fill_sandbox_sign_in(Marketplace(sandbox.url, sandbox.tls.ca_cert), email=email)
