"""Tiny real servers on loopback for what the sandbox cannot show: a blocking TLS server that
records every byte it receives (and sends TLS alerts, which asyncio servers drop), and an HTTP
CONNECT proxy that records where it tunnelled to."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from portal.sandbox.tls import TLSFiles

HEALTHY = b'{"status": "ok", "api": "v1"}'


@dataclass
class Recorded:
    """What a test server saw: its URL, the bytes of each connection, the tunnels it opened."""

    url: str
    received: list[bytes] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    return sock


@contextmanager
def _serving(sock: socket.socket, handle: Callable[[socket.socket], None]) -> Iterator[None]:
    """Hand each connection to `handle` on its own thread; on exit, wait for every one."""
    stop, handlers = threading.Event(), []

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _addr = sock.accept()
            except TimeoutError:
                continue
            handler = threading.Thread(target=handle, args=(conn,), daemon=True)
            handlers.append(handler)
            handler.start()

    accepting = threading.Thread(target=loop, daemon=True)
    accepting.start()
    try:
        yield
    finally:
        stop.set()
        accepting.join(5)
        sock.close()
        for handler in handlers:
            handler.join(5)


@contextmanager
def recording_tls_server(tls: TLSFiles, *, require_cert: bool = False) -> Iterator[Recorded]:
    """A TLS server with the sandbox's certificate that answers a health body to any request;
    `require_cert` makes it demand a partner-CA client certificate, refusing with an alert."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.server_cert, tls.server_key)
    if require_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(tls.partner_ca)
    sock = _listener()
    recorded = Recorded(f"https://127.0.0.1:{sock.getsockname()[1]}")

    def handle(conn: socket.socket) -> None:
        got = b""
        conn.settimeout(5)
        try:
            with context.wrap_socket(conn, server_side=True) as tls_conn:
                while b"\r\n\r\n" not in got:
                    chunk = tls_conn.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                if got:
                    tls_conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(HEALTHY)}\r\nConnection: close\r\n\r\n".encode()
                        + HEALTHY
                    )
        except (OSError, ssl.SSLError):
            pass
        finally:
            recorded.received.append(got)

    with _serving(sock, handle):
        yield recorded


@contextmanager
def connect_proxy() -> Iterator[Recorded]:
    """An HTTP proxy that only tunnels (CONNECT host:port), as corporate proxies do for HTTPS."""
    sock = _listener()
    recorded = Recorded(f"http://127.0.0.1:{sock.getsockname()[1]}")

    def handle(conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        method, target, _version = head.split(b"\r\n", 1)[0].decode().split(" ")
        if method != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        recorded.connects.append(target)
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=5)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for source, sink in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    with _serving(sock, handle):
        yield recorded


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
