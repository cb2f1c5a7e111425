"""A rotating log file per data dir that never holds a token, password or key."""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

MASK = "***"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?-----END \1-----", re.DOTALL),
        f"-----BEGIN \\1-----{MASK}-----END \\1-----",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {MASK}"),
    (
        re.compile(
            r"""(?ix)
            (["']?\b[\w-]*(?:token|password|passwd|passphrase|secret|api[_-]?key|private[_-]?key
               |sitting[_-]?code|authorization|cookie)[\w-]*\b["']?)
            (\s*[:=]\s*)
            (?:"[^"]*"|'[^']*'|[^\s,;&}]+)
            """
        ),
        rf"\1\2{MASK}",
    ),
)


def mask_secrets(text: str) -> str:
    """Replace anything that looks like a credential with a mask, keeping its name for context."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretMaskingFilter(logging.Filter):
    """Masks credentials in a record's message, its arguments and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError) as exc:  # a malformed call must not break the caller
            message = f"{record.msg!r} (arguments {record.args!r} did not fit: {exc})"
        record.msg = mask_secrets(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def current_log_file() -> Path | None:
    """The file the app logs to now, so error messages can point at it."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_aic_portal", False) and isinstance(handler, RotatingFileHandler):
            return Path(handler.baseFilename)
    return None


def configure_logging(
    log_file: Path, *, level: int = logging.INFO, max_bytes: int = 1_000_000, backups: int = 5
) -> logging.Handler:
    """Send the app's logs to a rotating file in the data dir; returns the handler it installed."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_aic_portal", False)]:
        root.removeHandler(old)
        old.close()
    handler._aic_portal = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return handler
