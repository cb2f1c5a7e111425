"""User settings in the data dir, read leniently and written atomically."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from portal.atomic import write_atomically
from portal.errors import InputError, StorageError
from portal.i18n import _, available_locales

log = logging.getLogger(__name__)

SYSTEM_LANGUAGE = "system"


@dataclass(frozen=True)
class Settings:
    """What the user chose; every field has a default that works on a fresh machine."""

    language: str = SYSTEM_LANGUAGE
    marketplace_url: str | None = None
    ca_bundle: str | None = None
    pins: tuple[str, ...] = ()  # base64 SHA-256 of the marketplace's SubjectPublicKeyInfo
    proxy: str | None = None  # None: the environment's HTTPS_PROXY / NO_PROXY apply
    text_scale: int = 100  # percent of the system's text size, TEXT_SCALES
    high_contrast: bool = False


TEXT_SCALES = (100, 125, 150, 175, 200)
"""The text sizes Settings offers, in percent: up to 200 % (WCAG 1.4.4)."""


def validate_marketplace_url(url: str) -> str:
    """Accept only a plain https address with a host: tokens travel to it, and it is logged."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        hostname = port = None
        parts = None
    if parts is None or parts.scheme != "https" or not hostname:
        raise InputError(
            _("The marketplace address “{url}” must start with https:// and name a host.").format(
                url=url
            )
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError(
            _(
                "The marketplace address “{url}” must not contain a user name, a password, "
                "a query or a fragment."
            ).format(url=f"https://{hostname}" + (f":{port}" if port else "") + "/…")
        )
    return text.rstrip("/")


def validate_ca_bundle(path: str) -> str:
    """Accept a readable PEM file of certificates, trusted in addition to the OS trust store."""
    bundle = Path(path.strip()).expanduser()
    try:
        text = bundle.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise InputError(
            _("The CA certificate file {path} cannot be read: {problem}").format(
                path=bundle, problem=exc.strerror or exc
            )
        ) from exc
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InputError(
            _("The file {path} holds no PEM certificate (“-----BEGIN CERTIFICATE-----”).").format(
                path=bundle
            )
        )
    return str(bundle.resolve())


def validate_pin(pin: str) -> str:
    """Accept a pin-sha256 value: the base64 of a 32-byte SHA-256 digest."""
    text = pin.strip()
    try:
        ok = len(base64.b64decode(text, validate=True)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise InputError(
            _(
                "The pin “{pin}” is not a pin-sha256 value (the base64 of a SHA-256 digest of "
                "the marketplace's public key, 44 characters ending in “=”)."
            ).format(pin=text)
        )
    return text


def validate_proxy(url: str) -> str:
    """Accept an http:// or https:// proxy address with a host and no credentials (those would
    be a secret in the settings file)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        hostname, _port = parts.hostname, parts.port
    except ValueError:
        parts, hostname = None, None
    if parts is None or parts.scheme not in ("http", "https") or not hostname:
        raise InputError(
            _(
                "The proxy address “{url}” must start with http:// or https:// and name a host."
            ).format(url=re.sub(r"//[^/@]*@", "//…@", url))  # never show a password
        )
    if parts.username or parts.password or parts.query or parts.fragment or parts.path.strip("/"):
        raise InputError(
            _(
                "The proxy address “{url}” must be only a scheme, a host and a port, without a "
                "user name, a password or a path."
            ).format(url=f"{parts.scheme}://{hostname}/…")
        )
    return text.rstrip("/")


def load_settings(path: Path) -> tuple[Settings, str | None]:
    """The settings in `path`, and a message for the user when they could not be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        log.warning("settings file %s cannot be read: %s", path, exc)
        return Settings(), _(
            "Your settings file {path} cannot be read ({problem}); the defaults are used "
            "until it can."
        ).format(path=path, problem=exc.strerror or exc)
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Settings(), _set_aside(path, str(exc))
    if not isinstance(raw, dict):
        return Settings(), _set_aside(path, _("it does not hold a JSON object"))
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
    bundle = raw.get("ca_bundle")
    if isinstance(bundle, str):
        try:
            settings = replace(settings, ca_bundle=validate_ca_bundle(bundle))
        except InputError as exc:
            log.warning("ignoring ca_bundle in %s: %s", path, exc.message)
    pins = raw.get("pins")
    if isinstance(pins, list):
        kept = []
        for pin in pins:
            try:
                kept.append(validate_pin(str(pin)))
            except InputError as exc:  # kept all the same: it matches no key, so pinning stays
                log.warning("a pin in %s matches no key: %s", path, exc.message)  # on (fail closed)
                kept.append(str(pin))
        settings = replace(settings, pins=tuple(kept))
    proxy = raw.get("proxy")
    if isinstance(proxy, str):
        try:
            settings = replace(settings, proxy=validate_proxy(proxy))
        except InputError as exc:
            log.warning("ignoring proxy in %s: %s", path, exc.message)
    scale = raw.get("text_scale")
    if isinstance(scale, int) and scale in TEXT_SCALES:
        settings = replace(settings, text_scale=scale)
    if isinstance(raw.get("high_contrast"), bool):
        settings = replace(settings, high_contrast=raw["high_contrast"])
    return settings, None


def save_settings(path: Path, settings: Settings) -> None:
    """Write the settings so that a crash mid-write leaves the old file whole."""
    text = json.dumps(asdict(settings), indent=2, sort_keys=True) + "\n"
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise StorageError(
            _("Your settings could not be saved to {path}: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc


def _set_aside(path: Path, problem: str) -> str:
    """Keep an unparsable settings file under a new name so nothing of it is lost."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        log.warning("settings file %s unparsable (%s) and not movable: %s", path, problem, exc)
        return _(
            "Your settings file {path} could not be read ({problem}); the defaults are used."
        ).format(path=path, problem=problem)
    log.warning("settings file %s unparsable (%s); moved to %s", path, problem, aside)
    return _(
        "Your settings file {path} could not be read ({problem}). It was kept as {aside} "
        "and the defaults are used."
    ).format(path=path, problem=problem, aside=aside)
