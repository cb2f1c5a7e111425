"""A real sandbox server over real TLS on loopback, in a thread of the test process.

Each server keeps its records in a fresh database: a SQLite file, or, for the tests marked
`postgres`, a schema of its own in the PostgreSQL database at $AIC_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import create_engine, make_url, text

from portal.sandbox.app import create_app
from portal.sandbox.seed import seed_demo
from portal.sandbox.serve import base_url, listen, server_config
from portal.sandbox.signing import ensure_marketplace_key
from portal.sandbox.tls import TLSFiles, ensure_tls


@dataclass(frozen=True)
class RunningSandbox:
    """Where the test server listens and the CA that signed its certificate."""

    url: str
    tls: TLSFiles


POSTGRES_URL = "AIC_TEST_POSTGRES_URL"
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def sandbox_database(state: Path, database: str) -> Iterator[str]:
    """The URL of an empty database for one server, dropped after it on PostgreSQL."""
    if database == "sqlite":
        yield f"sqlite:///{state / 'marketplace.sqlite3'}"
        return
    url = os.environ.get(POSTGRES_URL)
    if not url:
        pytest.skip(f"{POSTGRES_URL} is not set: no PostgreSQL server (.ci/run starts one)")
    schema = f"sandbox_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def running_sandbox(
    state: Path, *, database: str = "sqlite", require_client_cert: bool = False, **options: Any
) -> Iterator[RunningSandbox]:
    """A seeded sandbox server on `database` with `options` for create_app, stopped after.

    `require_client_cert` serves it as `sandbox serve --require-client-cert` does (mTLS).
    """
    tls = ensure_tls(state / "tls")
    with sandbox_database(state, database) as url:
        options.setdefault("marketplace_key", ensure_marketplace_key(state / "tls"))
        app = create_app(
            database_url=url,
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
        try:
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the sandbox server did not start")
                thread.join(0.02)
            yield RunningSandbox(base_url(sock), tls)
        finally:
            server.should_exit = True
            thread.join(10)
            app.state.sessions.kw["bind"].dispose()  # no connection outlives its database


@pytest.fixture(scope="session", params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """Which database the sandbox servers of a test keep their records in."""
    return str(request.param)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[RunningSandbox]:
    """One well-behaved sandbox for the whole run, per database."""
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), database=database) as running:
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
