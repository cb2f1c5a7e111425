"""User settings in the data dir, read leniently and written atomically."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from portal.errors import InputError
from portal.i18n import _, available_locales

log = logging.getLogger(__name__)

SYSTEM_LANGUAGE = "system"


@dataclass(frozen=True)
class Settings:
    """What the user chose; every field has a default that works on a fresh machine."""

    language: str = SYSTEM_LANGUAGE
    marketplace_url: str | None = None


def validate_marketplace_url(url: str) -> str:
    """Accept only an https URL with a host, since tokens travel to it."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise InputError(
            _("The marketplace address “{url}” must start with https:// and name a host.").format(
                url=url
            )
        )
    return url.strip().rstrip("/")


def load_settings(path: Path) -> tuple[Settings, str | None]:
    """The settings in `path`, and a message for the user when the file had to be set aside."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Settings(), _set_aside(path, str(exc))
    if not isinstance(raw, dict):
        return Settings(), _set_aside(path, "the top level is not an object")
    settings = Settings()
    language = raw.get("language", SYSTEM_LANGUAGE)
    if language == SYSTEM_LANGUAGE or language in available_locales():
        settings = replace(settings, language=language)
    url = raw.get("marketplace_url")
    if isinstance(url, str):
        try:
            settings = replace(settings, marketplace_url=validate_marketplace_url(url))
        except InputError as exc:
            log.warning("ignoring marketplace_url in %s: %s", path, exc.message)
    return settings, None


def save_settings(path: Path, settings: Settings) -> None:
    """Write the settings so that a crash mid-write leaves the old file whole."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _set_aside(path: Path, problem: str) -> str:
    """Keep an unreadable settings file under another name so nothing of it is lost."""
    aside = path.with_name(path.name + ".unreadable")
    os.replace(path, aside)
    log.warning("settings file %s unreadable (%s); moved to %s", path, problem, aside)
    return _(
        "Your settings file {path} could not be read ({problem}). It was kept as {aside} "
        "and the defaults are used."
    ).format(path=path, problem=problem, aside=aside)
