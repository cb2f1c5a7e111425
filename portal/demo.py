"""The headless walkthrough: what `make run` shows on a machine without a display."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from portal.about import keyring_status
from portal.db.migrate import current_revision
from portal.db.store import Store
from portal.i18n import (
    _,
    available_locales,
    current_locale,
    format_date,
    format_duration,
    format_money,
    format_number,
    language_name,
    ngettext,
    set_locale,
    text_direction,
)
from portal.overview import table_counts
from portal.paths import DataDir
from portal.settings import Settings
from portal.sync.connectivity import probe_marketplace


def walkthrough(data_dir: DataDir, settings: Settings, *, echo: Callable[[str], object]) -> None:
    """Open the store as the app does at start, then show what it holds and how it will speak."""
    step = 0

    def heading(title: str) -> None:
        nonlocal step
        step += 1
        echo("")
        echo(f"{step}. {title}")

    heading(_("Data dir"))
    echo("   " + str(data_dir.root))

    heading(_("Local store"))
    before = current_revision(data_dir.database)
    store = Store.open(data_dir)
    try:
        after = store.revision()
        if before == after:
            echo(
                "   "
                + _("{path}: schema {revision}, current").format(
                    path=data_dir.database, revision=after
                )
            )
        else:
            echo(
                "   "
                + _("{path}: upgraded from {before} to schema {revision}").format(
                    path=data_dir.database, before=before or _("empty"), revision=after
                )
            )
        for table, rows in table_counts(store).items():
            echo(
                "   "
                + ngettext("{table}: {n} row", "{table}: {n} rows", rows).format(
                    table=table, n=format_number(rows)
                )
            )
    finally:
        store.close()

    heading(_("Languages and formats"))
    chosen = current_locale()
    sample_time = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    try:
        for code in available_locales():
            set_locale(code)
            echo(
                "   "
                + " · ".join(
                    [
                        f"{code} ({language_name(code)}, {text_direction(code)})",
                        format_number(1234567.891),
                        format_money(Decimal("1499.50"), "USD"),
                        format_date(sample_time.date(), length="long"),
                        format_duration(5400, granularity="minute"),
                    ]
                )
            )
    finally:
        set_locale(chosen)

    heading(_("Secrets"))
    keyring = keyring_status()
    if keyring.usable:
        echo(
            "   " + _("Tokens and key passphrases go to {backend}.").format(backend=keyring.backend)
        )
    else:
        echo(
            "   "
            + _(
                "No usable OS keyring ({backend}): signing in and signing keys will ask you "
                "to install or unlock one; nothing is stored in plain text."
            ).format(backend=keyring.backend)
        )

    heading(_("Marketplace"))
    bundle = Path(settings.ca_bundle) if settings.ca_bundle else None
    reach = probe_marketplace(settings.marketplace_url, ca_bundle=bundle)
    if reach.online:
        echo("   " + _("Online: {url}").format(url=settings.marketplace_url))
    else:
        echo("   " + _("Offline: {reason}").format(reason=reach.reason()))
    echo("")
    echo(_("Log file: {path}").format(path=data_dir.log_file))
