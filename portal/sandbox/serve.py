"""`aic-portal sandbox serve`: the sandbox marketplace over HTTPS with its own CA."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from portal.sandbox.app import create_app
from portal.sandbox.mtls import tls_options
from portal.sandbox.seed import seed_demo
from portal.sandbox.signing import ensure_marketplace_key
from portal.sandbox.tls import TLSFiles, ensure_tls


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host`; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio turns Nagle off only for sockets that say so, and
    # with Nagle on, every response waits ~40 ms for a delayed ACK between headers and body.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def base_url(sock: socket.socket) -> str:
    """The https URL clients use for a listening socket."""
    host, port = sock.getsockname()[:2]
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def server_config(
    app: FastAPI, tls: TLSFiles, *, require_client_cert: bool, **options: Any
) -> uvicorn.Config:
    """uvicorn settings for the sandbox over TLS; mTLS asks for partner-CA client certificates."""
    return uvicorn.Config(
        app,
        ssl_certfile=str(tls.server_cert),
        ssl_keyfile=str(tls.server_key),
        lifespan="off",
        server_header=False,
        **(tls_options(tls.partner_ca) if require_client_cert else {}),
        **options,
    )


def serve(
    state_dir: Path,
    *,
    host: str,
    port: int,
    database_url: str | None,
    seed: bool,
    chaos: float,
    require_client_cert: bool = False,
    until_stdin_closes: bool = False,
    announce: Callable[[str, TLSFiles, list[str]], None],
) -> None:
    """Serve until interrupted (or, with `until_stdin_closes`, until the process that started
    this one closes our standard input, which the system does when it exits in any way);
    `announce` gets the URL, TLS files and demo sign-ins once ready."""
    tls = ensure_tls(state_dir / "tls")
    app = create_app(
        database_url=database_url or f"sqlite:///{state_dir / 'marketplace.sqlite3'}",
        chaos_rate=chaos,
        upload_dir=state_dir / "uploads",
        require_client_cert=require_client_cert,
        marketplace_key=ensure_marketplace_key(state_dir / "tls"),
    )
    demo_users = seed_demo(app.state.sessions) if seed else []
    sock = listen(host, port)
    config = server_config(app, tls, require_client_cert=require_client_cert, log_level="warning")
    announce(base_url(sock), tls, demo_users)
    server = uvicorn.Server(config)
    if until_stdin_closes:
        threading.Thread(target=_stop_at_end_of_input, args=(server,), daemon=True).start()
    server.run(sockets=[sock])


def _stop_at_end_of_input(server: uvicorn.Server) -> None:
    while sys.stdin.buffer.read(4096):
        pass
    server.should_exit = True
