"""Translations and CLDR formatting in one place, so every layer speaks the user's language."""

from __future__ import annotations

import gettext
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

DOMAIN = "portal"
SOURCE_LOCALE = "en"

_translations: gettext.NullTranslations = gettext.NullTranslations()
_locale = SOURCE_LOCALE


def locales_dir() -> Path:
    """Where the compiled catalogs live: beside the packages, or inside a frozen installer."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "locales"
    return Path(__file__).resolve().parent.parent / "locales"


def available_locales() -> list[str]:
    """The source locale plus every locale with a compiled catalog, sorted."""
    found = {SOURCE_LOCALE}
    root = locales_dir()
    if root.is_dir():
        found.update(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return sorted(found)


def system_locale() -> str:
    """The best shipped locale for the operating system's language, else the source locale."""
    from babel.core import default_locale, negotiate_locale

    wanted = default_locale() or SOURCE_LOCALE
    return negotiate_locale([wanted, wanted.split("_")[0]], available_locales()) or SOURCE_LOCALE


def set_locale(code: str) -> None:
    """Make `code` (a CLDR identifier such as `fr` or `ar_EG`) the language of every later call."""
    global _translations, _locale
    from babel.core import Locale, UnknownLocaleError
    from babel.support import Translations

    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError) as exc:
        raise ValueError(f"unknown locale {code!r}") from exc
    _translations = Translations.load(str(locales_dir()), [code], DOMAIN)
    _locale = code


def current_locale() -> str:
    """The locale set last, for formatting and for Qt."""
    return _locale


def _(message: str) -> str:
    """Translate a message."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on a count, by the locale's plural rules."""
    return _translations.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate a message whose meaning depends on a context (a menu, a status)."""
    return _translations.pgettext(context, message)


def text_direction(code: str | None = None) -> Literal["ltr", "rtl"]:
    """The writing direction of a locale, from CLDR."""
    from babel.core import Locale

    order = Locale.parse(code or _locale).character_order
    return "rtl" if order == "right-to-left" else "ltr"


def language_name(code: str) -> str:
    """A locale's name in its own language, as a language menu shows it."""
    from babel.core import Locale

    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def format_number(value: int | float | Decimal) -> str:
    """A number with the locale's digits, grouping and decimal sign."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_locale)


def format_significant(value: float, *, digits: int = 3) -> str:
    """A measurement to `digits` significant digits (0.000116, 0.565, 4), in the locale's way."""
    from babel.numbers import format_decimal

    if value == 0:
        return format_decimal(0, locale=_locale)  # not "0.0"
    return format_decimal(value, format="@" + "#" * (digits - 1), locale=_locale)


def format_list(items: list[str]) -> str:
    """Items joined as the locale joins a list ("a, b and c")."""
    # "standard", not "unit": Babel 2.18 repeats the last item of two-item Arabic unit lists.
    from babel.lists import format_list as babel_list

    return babel_list(items, style="standard", locale=_locale)


def format_percent(value: float | Decimal) -> str:
    """A fraction (0.2) as the locale writes a percentage (20 %)."""
    from babel.numbers import format_percent as babel_percent

    return babel_percent(value, locale=_locale)


def format_money(amount: Decimal, currency: str) -> str:
    """An amount of money in an ISO 4217 currency, as the locale writes it."""
    from babel.numbers import format_currency

    return format_currency(amount, currency, locale=_locale)


def format_date(value: date, *, length: Literal["short", "medium", "long"] = "medium") -> str:
    """A calendar date in the locale's order and month names."""
    from babel.dates import format_date as babel_date

    return babel_date(value, format=length, locale=_locale)


def format_datetime(value: datetime, *, length: Literal["short", "medium"] = "medium") -> str:
    """A point in time, shown in the user's time zone when it carries one."""
    from babel.dates import format_datetime as babel_datetime

    if value.tzinfo is not None:
        value = value.astimezone()
    return babel_datetime(value, format=length, locale=_locale)


def format_duration(seconds: float, *, granularity: Literal["second", "minute"] = "second") -> str:
    """A length of time in the locale's words ("1 hour, 30 minutes"), down to `granularity`."""
    from babel.dates import format_timedelta

    unit_seconds: dict[Literal["hour", "minute", "second"], int] = {
        "hour": 3600,
        "minute": 60,
        "second": 1,
    }
    smallest = unit_seconds[granularity]
    remaining = round(seconds / smallest) * smallest
    parts = []
    for unit, size in unit_seconds.items():
        if size < smallest:
            break
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(
                format_timedelta(timedelta(seconds=amount * size), granularity=unit, locale=_locale)
            )
    if not parts:
        return format_timedelta(timedelta(0), granularity=granularity, locale=_locale)
    return format_list(parts)
