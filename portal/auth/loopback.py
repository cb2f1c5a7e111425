"""The loopback redirect of RFC 8252: a one-shot HTTP listener on 127.0.0.1 for the browser."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from portal.cancel import CancelToken
from portal.errors import ErrorKind, PortalError
from portal.i18n import _

CALLBACK_PATH = "/callback"

_DONE_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>AIC Partner Portal</title></head>"
    "<body style='font-family:sans-serif;max-width:30rem;margin:3rem auto'><h1>{title}</h1>"
    "<p>{text}</p></body></html>"
)


class LoopbackReceiver:
    """Listens on a free loopback port until the browser brings back the sign-in answer."""

    def __init__(self, *, state: str) -> None:
        self._answer: dict[str, str] | None = None
        self._arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a connection that sends nothing must not stall the wait

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                answer = {k: v[0] for k, v in parse_qs(parts.query).items()}
                wrong = parts.path != CALLBACK_PATH or answer.get("state") != state
                if wrong or receiver._arrived.is_set():  # only the answer to this request counts
                    self.send_error(404)
                    return
                receiver._answer = answer
                ok = "code" in receiver._answer
                page = _DONE_PAGE.format(
                    title=_("Signed in") if ok else _("Sign-in did not finish"),
                    text=_("You can close this tab and go back to AIC Partner Portal.")
                    if ok
                    else _("Go back to AIC Partner Portal to see what happened."),
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                receiver._arrived.set()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the query holds the one-time code."""

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._server.timeout = 0.2
        port = self._server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{port}{CALLBACK_PATH}"

    def wait(self, *, cancel: CancelToken, timeout: float) -> dict[str, str]:
        """The query the browser brought back; raises on cancel or when nothing came in time."""
        waited = 0.0
        try:
            while not self._arrived.is_set():
                cancel.raise_if_cancelled()
                if waited >= timeout:
                    raise PortalError(
                        _("Sign-in timed out: the browser did not come back. Try again."),
                        kind=ErrorKind.AUTH,
                    )
                self._server.handle_request()
                waited += self._server.timeout or 0
        finally:
            self._server.server_close()
        assert self._answer is not None
        return self._answer
