"""The `aic-portal` command: the same core as the GUI, for scripts, CI and headless machines."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

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
    help="SQLAlchemy URL of the sandbox's database (default: SQLite in the data dir).",
)
@click.option("--seed-demo", is_flag=True, help="Create demo partner organisations and users.")
@click.pass_obj
def sandbox_serve(
    obj: CliContext, host: str, port: int, database_url: str | None, seed_demo: bool
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
