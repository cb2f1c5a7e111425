"""What both entry points do first: pick the data dir, log there, read settings, set language."""

from __future__ import annotations

import logging
from pathlib import Path

from portal import __version__
from portal.i18n import current_locale, set_locale, system_locale
from portal.logs import configure_logging
from portal.paths import DataDir, resolve_data_dir
from portal.settings import SYSTEM_LANGUAGE, Settings, load_settings

log = logging.getLogger(__name__)


def start_session(data_dir_option: str | Path | None) -> tuple[DataDir, Settings, str | None]:
    """The data dir, its settings, and a message for the user if the settings were unreadable."""
    data_dir = resolve_data_dir(data_dir_option)
    set_locale(system_locale())  # so that an error before the settings are read is understood
    data_dir.ensure()
    configure_logging(data_dir.log_file)
    settings, problem = load_settings(data_dir.settings)
    if locale_for(settings) != current_locale():
        set_locale(locale_for(settings))
    log.info("session started: version %s, data dir %s", __version__, data_dir.root)
    return data_dir, settings, problem


def locale_for(settings: Settings) -> str:
    """The locale the settings ask for, resolving "system" to the best shipped match."""
    return system_locale() if settings.language == SYSTEM_LANGUAGE else settings.language
