"""Schemathesis against the live sandbox: no 5xx, and every answer is one its OpenAPI declares.

Run through Schemathesis' command line (its pytest loader for fixtures does not work with
pytest 9), configured by tests/sandbox/schemathesis.toml, as a demo user of a sandbox of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.sync.http import marketplace_client
from tests.sandbox.test_oauth import exchange, sign_in
from tests.sandbox_server import RunningSandbox, running_sandbox

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def fuzzed(tmp_path: Path, database: str) -> Iterator[RunningSandbox]:
    """A sandbox of its own, so the records the fuzzer makes reach no other test."""
    with running_sandbox(tmp_path / "sandbox", database=database) as running:
        yield running


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(
    fuzzed: RunningSandbox, tmp_path: Path
) -> None:
    with marketplace_client(fuzzed.url, ca_bundle=fuzzed.tls.ca_cert) as client:
        code, verifier = sign_in(client)
        token = exchange(client, code, verifier).json()["access_token"]
    command = ["schemathesis.cli", "--config-file", str(CONFIG), "run", "--no-color"]
    run = subprocess.run(
        [sys.executable, "-m", *command, f"{fuzzed.url}/openapi.json"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "AIC_FUZZ_CA": str(fuzzed.tls.ca_cert),
            "AIC_FUZZ_TOKEN": token,
        },
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"Operations: +(\d+) selected / \1 total", run.stdout), run.stdout
