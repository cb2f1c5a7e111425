"""The `aic-portal` command: the same core as the GUI, for scripts, CI and headless machines."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portal import __version__
from portal.errors import ErrorKind, PortalError
from portal.i18n import (
    _,
    current_locale,
    language_name,
    text_direction,
)
from portal.paths import DATA_DIR_ENV, DataDir
from portal.settings import Settings
from portal.startup import start_session

if TYPE_CHECKING:
    from portal.auth.oauth import Marketplace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CliContext:
    """What every subcommand gets: the data dir and the user's settings."""

    data_dir: DataDir
    settings: Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aic-portal")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    help="Folder for the database, settings, logs and keys (default: the per-user data folder).",
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """AIC Partner Portal: package plugins, run conformance checks, take exams, sync."""
    data, settings, problem = start_session(data_dir)
    if problem:
        click.echo(problem, err=True)
    ctx.obj = CliContext(data, settings)


@cli.command()
@click.pass_obj
def info(obj: CliContext) -> None:
    """Show where data lives, the database schema, the keyring, the locale and versions."""
    from portal.about import keyring_status, versions
    from portal.db.migrate import current_revision, head_revision

    data = obj.data_dir
    revision = current_revision(data.database)
    head = head_revision()
    if revision is None:
        schema = _("none yet; the database is created at the next start, at {head}").format(
            head=head
        )
    elif revision == head:
        schema = _("{revision} (current)").format(revision=revision)
    else:
        schema = _("{revision}; upgraded to {head} at the next start").format(
            revision=revision, head=head
        )
    keyring = keyring_status()
    keyring_line = keyring.backend + (
        ""
        if keyring.usable
        else " — "
        + _(
            "cannot hold secrets; install and unlock an OS keyring (Secret Service, "
            "KWallet, macOS Keychain or Windows Credential Manager)"
        )
    )
    locale = current_locale()
    direction = _("right to left") if text_direction(locale) == "rtl" else _("left to right")
    rows = [
        (_("Data dir"), str(data.root)),
        (_("Database"), str(data.database)),
        (_("Schema"), schema),
        (_("Settings"), str(data.settings)),
        (_("Log file"), str(data.log_file)),
        (_("Keyring"), keyring_line),
        (_("Locale"), f"{locale} ({language_name(locale)}, {direction})"),
    ]
    rows += [(name, version) for name, version in versions().items()]
    _echo_table(rows)


@cli.command()
@click.pass_obj
def demo(obj: CliContext) -> None:
    """Walk through what the app does, without a display."""
    from portal.demo import walkthrough

    walkthrough(obj.data_dir, obj.settings, echo=click.echo)


def _marketplace(obj: CliContext) -> Marketplace:
    from portal.auth.oauth import Marketplace

    if not obj.settings.marketplace_url:
        raise PortalError(
            _(
                "No marketplace is configured. Give one once with "
                "`aic-portal login --marketplace URL`, or set it in the app's Settings."
            ),
            kind=ErrorKind.INPUT,
        )
    bundle = Path(obj.settings.ca_bundle) if obj.settings.ca_bundle else None
    return Marketplace(obj.settings.marketplace_url, bundle)


@cli.command()
@click.option("--marketplace", "url", metavar="URL", help="Marketplace address to use from now on.")
@click.option(
    "--ca-bundle",
    metavar="FILE",
    help="Extra CA certificates (PEM) that vouch for it, such as the sandbox's ca.pem.",
)
@click.option(
    "--no-browser", is_flag=True, help="Only print the sign-in address; open it yourself."
)
@click.option(
    "--device-code",
    is_flag=True,
    help="Sign in on another device with a short code (when no browser here can be used).",
)
@click.pass_obj
def login(
    obj: CliContext, url: str | None, ca_bundle: str | None, no_browser: bool, device_code: bool
) -> None:
    """Sign in through the browser (OAuth 2.0 with PKCE and a loopback redirect)."""
    import webbrowser
    from dataclasses import replace

    from portal.auth.oauth import sign_in, sign_in_with_device_code
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken
    from portal.db.store import Store
    from portal.settings import save_settings, validate_ca_bundle, validate_marketplace_url
    from portal.sync.profile import fetch_profile, save_profile

    if url or ca_bundle:
        settings = replace(
            obj.settings,
            marketplace_url=validate_marketplace_url(url) if url else obj.settings.marketplace_url,
            ca_bundle=validate_ca_bundle(ca_bundle) if ca_bundle else obj.settings.ca_bundle,
        )
        save_settings(obj.data_dir.settings, settings)
        obj = CliContext(obj.data_dir, settings)
    market = _marketplace(obj)
    tokens = TokenStore(obj.data_dir.keyring_service, market.account)

    def open_url(address: str) -> None:
        click.echo(_("Sign in in your browser. If it did not open, visit:"))
        click.echo(f"  {address}")
        if not no_browser:
            webbrowser.open(address)

    def show_code(user_code: str, address: str) -> None:
        click.echo(
            _("On any device, open {address} and enter the code {code}.").format(
                address=address, code=user_code
            )
        )
        click.echo(_("Waiting for the sign-in…"))

    if device_code:
        sign_in_with_device_code(market, tokens, show_code=show_code, cancel=CancelToken())
    else:
        sign_in(market, tokens, open_url=open_url, cancel=CancelToken())
    who = fetch_profile(market, tokens)
    with Store.open(obj.data_dir) as store:
        save_profile(store, who)
    click.echo(
        _("Signed in as {name} <{email}> for {organisation}.").format(
            name=who.user_name, email=who.email, organisation=who.organisation
        )
    )


@cli.command()
@click.pass_obj
def whoami(obj: CliContext) -> None:
    """Show who you are signed in as, and your partner organisation."""
    from portal.auth.tokens import TokenStore
    from portal.db.store import Store
    from portal.i18n import format_list, format_percent
    from portal.sync.profile import fetch_profile, save_profile

    market = _marketplace(obj)
    who = fetch_profile(market, TokenStore(obj.data_dir.keyring_service, market.account))
    with Store.open(obj.data_dir) as store:
        save_profile(store, who)
    _echo_table(
        [
            (_("Marketplace"), market.url),
            (_("User"), f"{who.user_name} <{who.email}>"),
            (_("Organisation"), who.organisation),
            (_("Partner type"), who.partner_type.value),
            (_("Tier"), who.tier),
            (_("Regions"), format_list(who.regions)),
            (_("Revenue share"), format_percent(who.revenue_share)),
        ]
    )


@cli.command()
@click.pass_obj
def logout(obj: CliContext) -> None:
    """Sign out: revoke the sign-in at the marketplace and delete the tokens here."""
    from portal.auth.oauth import sign_out
    from portal.auth.tokens import TokenStore
    from portal.db.store import Store
    from portal.sync.profile import forget_profile

    market = _marketplace(obj)
    told = sign_out(market, TokenStore(obj.data_dir.keyring_service, market.account))
    with Store.open(obj.data_dir) as store:
        forget_profile(store)
    if told:
        click.echo(_("Signed out."))
    else:
        click.echo(
            _("Signed out here. The marketplace could not be reached to revoke the sign-in.")
        )


@cli.command()
@click.option("--status", "status_only", is_flag=True, help="Only show the outbox; send nothing.")
@click.option(
    "--retry",
    "retry_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="Send a refused or conflicting item again.",
)
@click.option(
    "--discard",
    "discard_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="Give up an undelivered item so the ones after it can go.",
)
@click.pass_obj
def sync(
    obj: CliContext, status_only: bool, retry_ids: tuple[int, ...], discard_ids: tuple[int, ...]
) -> None:
    """Deliver what waits in the outbox to the marketplace, exactly once."""
    from collections import Counter

    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken, no_progress
    from portal.db.store import Store
    from portal.sync.engine import sync as run_sync
    from portal.sync.outbox import discard_item, list_outbox, retry_item

    with Store.open(obj.data_dir) as store:
        for item_id in retry_ids:
            if not retry_item(store, item_id):
                raise PortalError(
                    _("Outbox item {id} is not waiting for a decision.").format(id=item_id),
                    kind=ErrorKind.INPUT,
                )
        for item_id in discard_ids:
            if not discard_item(store, item_id):
                raise PortalError(
                    _("Outbox item {id} does not exist or was already delivered.").format(
                        id=item_id
                    ),
                    kind=ErrorKind.INPUT,
                )
        if not status_only:
            market = _marketplace(obj)
            tokens = TokenStore(obj.data_dir.keyring_service, market.account)
            report = run_sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
            click.echo(report.summary())
            for line in report.errors:
                click.echo(f"  {line}")
        for entry in list_outbox(store, limit=1_000_000):
            if entry.state.value in ("failed", "conflict"):
                click.echo(
                    f"  #{entry.id} {entry.state.value}: {entry.action} ({entry.last_error})"
                )
        counts = Counter(entry.state.value for entry in list_outbox(store, limit=1_000_000))
    click.echo(
        _("Outbox: {counts}").format(
            counts=", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or _("empty")
        )
    )


@cli.group()
def sandbox() -> None:
    """The sandbox marketplace: the same API as the real one, on this machine."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="SQLAlchemy URL of the sandbox's database (default: SQLite in the data dir; "
    "PostgreSQL as postgresql+psycopg://..., with the `postgres` extra installed).",
)
@click.option("--seed-demo", is_flag=True, help="Create demo partner organisations and users.")
@click.option(
    "--chaos",
    type=click.FloatRange(0, 1),
    default=0.0,
    metavar="RATE",
    help="Inject faults (503, 429, slow, dropped) into this share of API requests.",
)
@click.pass_obj
def sandbox_serve(
    obj: CliContext,
    host: str,
    port: int,
    database_url: str | None,
    seed_demo: bool,
    chaos: float,
) -> None:
    """Serve the sandbox marketplace over HTTPS until interrupted."""
    from portal.sandbox.seed import DEMO_PASSWORD
    from portal.sandbox.serve import serve
    from portal.sandbox.tls import TLSFiles

    def announce(url: str, tls: TLSFiles, demo_users: list[str]) -> None:
        click.echo(_("Sandbox marketplace: {url}").format(url=url))
        click.echo(_("CA certificate: {path}").format(path=tls.ca_cert))
        if demo_users:
            click.echo(
                _("Demo sign-ins (password “{password}”): {users}").format(
                    password=DEMO_PASSWORD, users=", ".join(demo_users)
                )
            )
        click.echo(_("Press Ctrl+C to stop."))
        sys.stdout.flush()

    try:
        serve(
            obj.data_dir.root / "sandbox",
            host=host,
            port=port,
            database_url=database_url,
            seed=seed_demo,
            chaos=chaos,
            announce=announce,
        )
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl+C it shut down on; that is a clean stop
        click.echo(_("Sandbox stopped."))
    except OSError as exc:
        raise PortalError(
            _("The sandbox cannot listen on {host}:{port}: {problem}").format(
                host=host, port=port, problem=exc.strerror or exc
            ),
            kind=ErrorKind.NETWORK,
        ) from exc


def _echo_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _value in rows) + 2
    for label, value in rows:
        click.echo(f"{label + ':':<{width}}{value}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a known error prints one plain line, anything else goes to the log."""
    try:
        cli.main(args=argv, prog_name="aic-portal", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo(_("Aborted."), err=True)
        return 1
    except PortalError as exc:
        log.info("command failed: %s", exc.message)
        click.echo(_("Error: {message}").format(message=exc.message), err=True)
        return 1
    except Exception:
        log.exception("unexpected error in the command line")
        click.echo(
            _("Unexpected error. The details were written to the log file; see `aic-portal info`."),
            err=True,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
