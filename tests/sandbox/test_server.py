"""The sandbox marketplace as a client meets it: HTTPS with its own CA, problem+json errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from sqlalchemy import create_engine, text

from portal.auth.oauth import Marketplace
from portal.sandbox.app import create_app
from portal.sandbox.tls import ensure_tls
from portal.sync.connectivity import Problem, probe_marketplace
from portal.sync.http import marketplace_client
from tests.sandbox_server import RunningSandbox, sandbox_database

ROOT = Path(__file__).resolve().parents[2]


def test_health_over_tls_with_the_sandbox_ca(sandbox: RunningSandbox) -> None:
    with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as client:
        response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["api"] == "v1"


def test_the_sandbox_certificate_is_not_trusted_without_its_ca(sandbox: RunningSandbox) -> None:
    with marketplace_client(sandbox.url) as client, pytest.raises(httpx.ConnectError):
        client.get("/v1/health")


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/v1/no-such-thing", 404, "Not Found"),
        ("DELETE", "/v1/health", 405, "Method Not Allowed"),
    ],
)
def test_errors_are_problem_json(
    sandbox: RunningSandbox, method: str, path: str, status: int, title: str
) -> None:
    with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": title,
        "status": status,
        "instance": path,
    }


def test_the_committed_openapi_document_is_current(sandbox: RunningSandbox) -> None:
    committed = json.loads((ROOT / "resources" / "api" / "openapi.json").read_text())
    assert committed == create_app(database_url="sqlite://").openapi(), (
        "run `make api` and commit the result"
    )
    with marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert) as client:
        assert client.get("/openapi.json").json() == committed


def test_probe_says_online_untrusted_unreachable_or_not_a_marketplace(
    sandbox: RunningSandbox,
) -> None:
    ca = sandbox.tls.ca_cert
    assert probe_marketplace(Marketplace(sandbox.url, ca)).online
    assert probe_marketplace(Marketplace(sandbox.url)).problem == Problem.UNTRUSTED
    assert probe_marketplace(Marketplace(sandbox.url + "/elsewhere", ca)).problem == (
        Problem.NOT_A_MARKETPLACE
    )
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert probe_marketplace(Marketplace(f"https://127.0.0.1:{port}", ca)).problem == (
        Problem.UNREACHABLE
    )
    assert probe_marketplace(None).problem == Problem.UNCONFIGURED


def test_certificates_are_kept_then_renewed_before_expiry(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path)
    ca_pem = first.ca_cert.read_bytes()
    server_pem = first.server_cert.read_bytes()
    assert ensure_tls(tmp_path).server_cert.read_bytes() == server_pem
    assert first.server_key.stat().st_mode & 0o777 == 0o600

    later = datetime.now(UTC) + timedelta(days=380)
    renewed = ensure_tls(tmp_path, now=later)
    assert renewed.ca_cert.read_bytes() == ca_pem
    cert = x509.load_pem_x509_certificate(renewed.server_cert.read_bytes())
    assert cert.not_valid_after_utc > later + timedelta(days=300)


def test_serve_command_announces_its_url_and_ca(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal.cli",
            "--data-dir",
            str(tmp_path),
            "sandbox",
            "serve",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert server.stdout is not None
        first, second = server.stdout.readline(), server.stdout.readline()
        url = first.split(": ", 1)[1].strip()
        ca = Path(second.split(": ", 1)[1].strip())
        assert first.startswith("Sandbox marketplace: https://127.0.0.1:")
        assert ca == tmp_path / "sandbox" / "tls" / "ca.pem"
        assert probe_marketplace(Marketplace(url, ca)).online
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(20)
    assert server.returncode == 0


def test_serve_keeps_its_records_in_the_database_named_by_db(tmp_path: Path, database: str) -> None:
    with sandbox_database(tmp_path, database) as url:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "portal.cli", "--data-dir", str(tmp_path)),
                *("sandbox", "serve", "--port", "0", "--seed-demo", "--db", url),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert server.stdout is not None
            announced = server.stdout.readline().split(": ", 1)[1].strip()
            ca = tmp_path / "sandbox" / "tls" / "ca.pem"
            assert probe_marketplace(Marketplace(announced, ca)).online
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(20)
        engine = create_engine(url)
        with engine.connect() as connection:
            emails = connection.execute(text("SELECT email FROM users")).scalars().all()
        engine.dispose()
    assert server.returncode == 0
    assert "ada@lagos-ai.example" in emails
    assert not (tmp_path / "sandbox" / "marketplace.sqlite3").exists()


def test_a_busy_port_is_one_plain_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "portal.cli",
                "--data-dir",
                str(tmp_path),
                "sandbox",
                "serve",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: The sandbox cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in done.stderr
