"""Catalogs are complete and current; formatting and direction follow CLDR for each locale."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from portal import i18n
from portal.i18n import (
    _,
    available_locales,
    format_date,
    format_duration,
    format_money,
    format_number,
    format_percent,
    ngettext,
    pgettext,
    set_locale,
    text_direction,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["ar", "fr"]
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _messages(path: Path, locale: str | None = None) -> dict[object, object]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {(m.context, m.id): m for m in catalog if m.id}


def test_the_template_matches_the_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "portal.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "pyproject.toml",
            "-k",
            "pgettext:1c,2",
            "-o",
            str(fresh),
            "portal",
            "ui",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert set(_messages(fresh)) == set(_messages(ROOT / "locales" / "portal.pot")), (
        "locales/portal.pot is out of date: run `make i18n` and translate what it adds"
    )


@pytest.mark.parametrize("locale", SHIPPED)
def test_catalog_is_complete(locale: str) -> None:
    template = _messages(ROOT / "locales" / "portal.pot")
    catalog = _messages(ROOT / "locales" / locale / "LC_MESSAGES" / "portal.po", locale)
    assert set(catalog) == set(template)
    for key, message in catalog.items():
        assert "fuzzy" not in message.flags, key
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{locale}: untranslated {key}"
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(source[-1]))
        used = [set(PLACEHOLDER.findall(form)) for form in forms]
        assert all(u <= wanted for u in used), f"{locale}: unknown placeholder in {key}"
        assert used[-1] == wanted, f"{locale}: placeholder missing in {key}"


def test_shipped_locales_are_available() -> None:
    assert available_locales() == ["ar", "en", "fr"]


def test_translations_and_context() -> None:
    set_locale("fr")
    assert _("Dashboard") == "Tableau de bord"
    assert pgettext("conformance run", "Passed") == "Réussi"
    assert _("not in any catalog") == "not in any catalog"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "لا عناصر بانتظار المزامنة"),
        (1, "عنصر واحد بانتظار المزامنة"),
        (2, "عنصران بانتظار المزامنة"),
        (5, "{n} عناصر بانتظار المزامنة"),
        (11, "{n} عنصرًا بانتظار المزامنة"),
        (99, "{n} عنصرًا بانتظار المزامنة"),
        (100, "{n} عنصر بانتظار المزامنة"),
        (103, "{n} عناصر بانتظار المزامنة"),
    ],
)
def test_arabic_has_six_plural_forms(n: int, expected: str) -> None:
    set_locale("ar")
    assert ngettext("{n} item waiting to sync", "{n} items waiting to sync", n) == expected


def test_french_plural_of_zero_is_singular() -> None:
    set_locale("fr")
    text = ngettext("{n} item waiting to sync", "{n} items waiting to sync", 0)
    assert text == "{n} élément en attente de synchronisation"


@pytest.mark.parametrize(
    ("locale", "number", "money", "day"),
    [
        ("en", "1,234,567.891", "$1,499.50", "November 26, 2026"),
        ("fr", "1\u202f234\u202f567,891", "1\u202f499,50\xa0$US", "26 novembre 2026"),
        ("ar", "1,234,567.891", "\u200f1,499.50\xa0US$", "26 نوفمبر 2026"),
    ],
)
def test_cldr_formats(locale: str, number: str, money: str, day: str) -> None:
    set_locale(locale)
    assert format_number(1234567.891) == number
    assert format_money(Decimal("1499.50"), "USD") == money
    assert format_date(date(2026, 11, 26), length="long") == day


def test_percent_and_duration() -> None:
    set_locale("fr")
    assert format_percent(Decimal("0.2")) == "20\xa0%"
    assert format_duration(5400, granularity="minute") == "1\xa0heure et 30 minutes"
    set_locale("en")
    assert format_duration(3725) == "1 hour, 2 minutes, and 5 seconds"
    assert format_duration(29, granularity="minute") == "0 minutes"


def test_text_direction() -> None:
    assert text_direction("ar") == "rtl"
    assert text_direction("fa") == "rtl"
    assert text_direction("fr") == "ltr"


def test_unknown_locale_is_refused_and_nothing_changes() -> None:
    set_locale("fr")
    with pytest.raises(ValueError, match="unknown locale"):
        set_locale("xx_NOPE")
    assert i18n.current_locale() == "fr"


@given(
    seconds=st.integers(min_value=0, max_value=10**7), locale=st.sampled_from(["en", "fr", "ar"])
)
def test_any_duration_formats(seconds: int, locale: str) -> None:
    set_locale(locale)
    assert format_duration(seconds).strip()
    assert format_duration(seconds, granularity="minute").strip()
