"""The log file never holds a credential, whatever shape it arrives in."""

from __future__ import annotations

import logging
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.logs import configure_logging, current_log_file, mask_secrets

PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQUJDREVGR0g=\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def _read(log_file: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return log_file.read_text(encoding="utf-8")


def test_masks_message_arguments_and_traceback(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "portal.log"
    configure_logging(log_file)
    log = logging.getLogger("portal.test")
    log.info("refreshing with refresh_token=%s", "rt-SECRET-1")
    log.info("headers: %s", {"Authorization": "Bearer at-SECRET-2", "Accept": "json"})
    log.warning("key file:\n%s", PRIVATE_KEY)
    try:
        raise ValueError('login failed for {"password": "pw-SECRET-3"}')
    except ValueError:
        log.exception("sign-in failed")

    text = _read(log_file)
    for secret in ("rt-SECRET-1", "at-SECRET-2", "pw-SECRET-3", "b3BlbnNzaC1rZXktdjEAAAAA"):
        assert secret not in text
    assert "refresh_token=***" in text
    assert "'Authorization': ***" in text
    assert "BEGIN OPENSSH PRIVATE KEY-----***-----END" in text
    assert "ValueError" in text and "Accept" in text
    assert current_log_file() == log_file


def test_rotates_instead_of_growing(tmp_path: Path) -> None:
    log_file = tmp_path / "portal.log"
    configure_logging(log_file, max_bytes=2000, backups=2)
    for n in range(200):
        logging.getLogger("portal.test").info("line %d %s", n, "x" * 40)
    assert log_file.stat().st_size <= 2000
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "portal.log",
        "portal.log.1",
        "portal.log.2",
    ]


SECRET_ALPHABET = string.ascii_letters + string.digits + "-._~+/"


@given(
    name=st.sampled_from(
        [
            "access_token",
            "refresh_token",
            "client_secret",
            "password",
            "api_key",
            "passphrase",
            "X-Api-Key",
            "sitting_code",
        ]
    ),
    separator=st.sampled_from(["=", ": ", "= ", '": "']),
    secret=st.text(SECRET_ALPHABET, min_size=8, max_size=60),
)
def test_any_named_secret_is_masked(name: str, separator: str, secret: str) -> None:
    quote = '"' if separator.startswith('"') else ""
    line = f"request {quote}{name}{separator}{secret}{quote} sent"
    assert secret not in mask_secrets(line)


def test_a_malformed_log_call_does_not_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_file = tmp_path / "portal.log"
    ours = configure_logging(log_file)
    monkeypatch.setattr(logging.getLogger(), "handlers", [ours])  # pytest's own would raise
    logging.getLogger("portal.test").info("%s and %s", "password=hunter2")
    text = _read(log_file)
    assert "did not fit" in text
    assert "hunter2" not in text


def test_bare_bearer_tokens_are_masked() -> None:
    assert mask_secrets("retrying with Bearer eyJhbGciOi.abc-def") == "retrying with Bearer ***"


def test_ordinary_text_is_left_alone() -> None:
    line = "packed ocr-connector 1.2.0 (41 files, 3.2 MB) in 0.8 s"
    assert mask_secrets(line) == line
