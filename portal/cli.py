"""The `aic-portal` command: the same core as the GUI, for scripts, CI and headless machines."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portal import __version__
from portal.conformance.cli import conformance
from portal.errors import ErrorKind, InputError, PortalError
from portal.exams.cli import exam
from portal.i18n import (
    _,
    current_locale,
    format_datetime,
    format_percent,
    language_name,
    ngettext,
    text_direction,
)
from portal.paths import DATA_DIR_ENV, DataDir
from portal.plugins.cli import plugin
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
    from portal.auth.oauth import configured_marketplace

    market = configured_marketplace(obj.data_dir, obj.settings)
    if market is None:
        raise PortalError(
            _(
                "No marketplace is configured. Give one once with "
                "`aic-portal login --marketplace URL`, or set it in the app's Settings."
            ),
            kind=ErrorKind.INPUT,
        )
    return market


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
@click.option(
    "--pin",
    "pins",
    multiple=True,
    metavar="SHA256",
    help="Trust the marketplace only with this key (pin-sha256, base64); repeat for a backup "
    "key. Replaces the pins kept so far.",
)
@click.option("--no-pins", is_flag=True, help="Forget the pinned keys.")
@click.option(
    "--proxy",
    metavar="URL",
    help="http:// or https:// proxy to reach the marketplace through (default: HTTPS_PROXY "
    "and NO_PROXY from the environment).",
)
@click.option("--no-proxy", is_flag=True, help="Forget the proxy; the environment's applies.")
@click.pass_obj
def login(
    obj: CliContext,
    url: str | None,
    ca_bundle: str | None,
    no_browser: bool,
    device_code: bool,
    pins: tuple[str, ...],
    no_pins: bool,
    proxy: str | None,
    no_proxy: bool,
) -> None:
    """Sign in through the browser (OAuth 2.0 with PKCE and a loopback redirect)."""
    import webbrowser
    from dataclasses import replace

    from portal.auth.oauth import sign_in, sign_in_with_device_code
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken
    from portal.db.store import Store
    from portal.settings import (
        save_settings,
        validate_ca_bundle,
        validate_marketplace_url,
        validate_pin,
        validate_proxy,
    )
    from portal.sync.profile import fetch_profile, save_profile

    changes: dict[str, object] = {}
    if url:
        changes["marketplace_url"] = validate_marketplace_url(url)
    if ca_bundle:
        changes["ca_bundle"] = validate_ca_bundle(ca_bundle)
    if pins or no_pins:
        changes["pins"] = tuple(validate_pin(pin) for pin in pins)
    if proxy or no_proxy:
        changes["proxy"] = validate_proxy(proxy) if proxy else None
    if changes:
        settings = replace(obj.settings, **changes)  # type: ignore[arg-type]
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
    help="Send a refused item again.",
)
@click.option(
    "--keep-mine",
    "mine_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="Resolve a conflict by writing your change over the marketplace's version.",
)
@click.option(
    "--discard",
    "discard_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="Give up an undelivered item so the ones after it can go (for a conflict: keep the "
    "marketplace's version).",
)
@click.pass_obj
def sync(
    obj: CliContext,
    status_only: bool,
    retry_ids: tuple[int, ...],
    mine_ids: tuple[int, ...],
    discard_ids: tuple[int, ...],
) -> None:
    """Deliver what waits in the outbox to the marketplace, exactly once."""
    from collections import Counter

    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken, no_progress
    from portal.db.store import Store
    from portal.sync.engine import sync as run_sync
    from portal.sync.outbox import discard_item, keep_mine, list_outbox, retry_item

    with Store.open(obj.data_dir) as store:
        for item_id in retry_ids:
            if not retry_item(store, item_id):
                raise PortalError(
                    _("Outbox item {id} was not refused: there is nothing to send again.").format(
                        id=item_id
                    ),
                    kind=ErrorKind.INPUT,
                )
        for item_id in mine_ids:
            if not keep_mine(store, item_id):
                raise PortalError(
                    _("Outbox item {id} is not a conflict.").format(id=item_id),
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
            for exam_name in report.exams_downloaded:
                click.echo(_("Downloaded the exam {exam}.").format(exam=exam_name))
            for line in report.errors:
                click.echo(f"  {line}")
            if report.results_arrived:
                click.echo(
                    ngettext(
                        "{count} exam result arrived; see `aic-portal exam results`.",
                        "{count} exam results arrived; see `aic-portal exam results`.",
                        report.results_arrived,
                    ).format(count=report.results_arrived)
                )
            if report.certificates_arrived:
                click.echo(
                    ngettext(
                        "{count} certificate arrived; see `aic-portal exam certificates`.",
                        "{count} certificates arrived; see `aic-portal exam certificates`.",
                        report.certificates_arrived,
                    ).format(count=report.certificates_arrived)
                )
        for entry in list_outbox(store, limit=1_000_000):
            if entry.state.value in ("failed", "conflict"):
                click.echo(
                    f"  #{entry.id} {entry.state.value}: {entry.description} ({entry.last_error})"
                )
        counts = Counter(entry.state.value for entry in list_outbox(store, limit=1_000_000))
    click.echo(
        _("Outbox: {counts}").format(
            counts=", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or _("empty")
        )
    )


@cli.group()
def cert() -> None:
    """The organisation's client certificate (mTLS); `verify` checks an exam certificate."""


def _read_passphrase(from_stdin: bool, *, confirm: bool) -> str:
    """A passphrase from the first line of stdin, or asked for without echoing it."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt(_("Passphrase"), hide_input=True, confirmation_prompt=confirm)
    return value


@cert.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--passphrase-stdin", is_flag=True, help="Read the passphrase from the first line of stdin."
)
@click.pass_obj
def cert_import(obj: CliContext, file: Path, passphrase_stdin: bool) -> None:
    """Import the organisation's client certificate from a PKCS#12 file (.p12 or .pfx)."""
    from portal.auth.identity import import_identity

    info = import_identity(obj.data_dir, file, _read_passphrase(passphrase_stdin, confirm=False))
    click.echo(
        _("Imported the client certificate of {organisation}, valid until {date}.").format(
            organisation=info.organisation or info.subject, date=format_datetime(info.not_after)
        )
    )


@cert.command("show")
@click.pass_obj
def cert_show(obj: CliContext) -> None:
    """Show the imported client certificate."""
    from portal.auth.identity import client_identity

    identity = client_identity(obj.data_dir)
    info = identity.info()
    if info is None:
        click.echo(_("No client certificate is imported."))
        return
    until = format_datetime(info.not_after)
    if info.expired():
        until = _("{date} (expired)").format(date=until)
    _echo_table(
        [
            (_("Subject"), info.subject),
            (_("Organisation"), info.organisation or "—"),
            (_("Issuer"), info.issuer),
            (_("Valid from"), format_datetime(info.not_before)),
            (_("Valid until"), until),
            (_("SHA-256"), info.sha256),
            (_("File"), str(identity.cert_file)),
        ]
    )


@cert.command("remove")
@click.pass_obj
def cert_remove(obj: CliContext) -> None:
    """Delete the client certificate, its key and the key's passphrase from this data dir."""
    from portal.auth.identity import remove_identity

    if remove_identity(obj.data_dir):
        click.echo(_("Client certificate removed."))
    else:
        click.echo(_("No client certificate is imported."))


@cert.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--issuer-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check against this PEM public key instead of the marketplace keys this app trusts.",
)
@click.pass_obj
def cert_verify(obj: CliContext, file: Path, issuer_key: Path | None) -> None:
    """Check a certificate (a signed credential) offline: who, what, when, and if it is genuine."""
    from portal.exams.credentials import read_credential, verify_credential
    from portal.exams.library import trusted_keys
    from portal.plugins.dsse import public_key_from_pem

    keys = (
        [public_key_from_pem(_read_small(issuer_key), str(issuer_key))]
        if issuer_key
        else trusted_keys(obj.data_dir)
    )
    check = verify_credential(read_credential(file), trusted_keys=keys)
    until = format_datetime(check.valid_until)
    if check.expired():
        until = _("{date} (expired)").format(date=until)
    _echo_table(
        [
            (_("Holder"), check.holder_name),
            (_("Partner"), check.partner_id),
            (_("Certificate"), check.exam_title),
            (_("Score"), format_percent(Decimal(check.score))),
            (_("Issued"), format_datetime(check.issued_at)),
            (_("Valid until"), until),
            (_("Issuer"), check.issuer),
            (_("SHA-256"), check.digest),
            (_("Verify online"), check.verification_url),
        ]
    )
    if check.genuine:
        click.echo(_("Genuine: signed by the marketplace and unchanged since."))
        return
    click.echo(_("NOT genuine: {problem}").format(problem=check.problem))
    raise click.exceptions.Exit(1)


def _read_small(path: Path) -> bytes:
    """A key file's bytes, or an error that names it."""
    try:
        return path.read_bytes()[: 64 * 1024]
    except OSError as exc:
        raise InputError(
            _("{path} cannot be read: {reason}").format(path=path, reason=exc.strerror)
        ) from exc


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
@click.option(
    "--require-client-cert",
    is_flag=True,
    help="Require a client certificate from the sandbox's partner CA (mTLS), and tokens of "
    "the certificate's organisation.",
)
@click.option(
    "--until-stdin-closes",
    is_flag=True,
    hidden=True,
    help="Stop when standard input closes: the app that started this server has exited.",
)
@click.pass_obj
def sandbox_serve(
    obj: CliContext,
    host: str,
    port: int,
    database_url: str | None,
    seed_demo: bool,
    chaos: float,
    require_client_cert: bool,
    until_stdin_closes: bool,
) -> None:
    """Serve the sandbox marketplace over HTTPS until interrupted."""
    from portal.demo_accounts import DEMO_EXAM_CODE
    from portal.sandbox.seed import DEMO_PASSWORD
    from portal.sandbox.serve import serve
    from portal.sandbox.tls import TLSFiles, spki_pin

    def announce(url: str, tls: TLSFiles, demo_users: list[str]) -> None:
        click.echo(_("Sandbox marketplace: {url}").format(url=url))
        click.echo(_("CA certificate: {path}").format(path=tls.ca_cert))
        click.echo(_("Server key pin (pin-sha256): {pin}").format(pin=spki_pin(tls.server_cert)))
        if require_client_cert:
            click.echo(
                _(
                    "Client certificates: required, issued by the partner CA {path}. Make one "
                    "with `aic-portal sandbox client-cert ORGANISATION -o FILE.p12`."
                ).format(path=tls.partner_ca)
            )
        if demo_users:
            click.echo(
                _("Demo sign-ins (password “{password}”): {users}").format(
                    password=DEMO_PASSWORD, users=", ".join(demo_users)
                )
            )
            click.echo(
                _("Demo certification exam {exam}: sitting code {code}").format(
                    exam="aic-platform-associate 2026.1", code=DEMO_EXAM_CODE
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
            require_client_cert=require_client_cert,
            until_stdin_closes=until_stdin_closes,
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


@sandbox.command("client-cert")
@click.argument("organisation")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the PKCS#12 file (.p12).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=365,
    show_default=True,
    help="How long the certificate is valid.",
)
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="SQLAlchemy URL of the sandbox's database (default: SQLite in the data dir).",
)
@click.option(
    "--passphrase-stdin", is_flag=True, help="Read the passphrase from the first line of stdin."
)
@click.pass_obj
def sandbox_client_cert(
    obj: CliContext,
    organisation: str,
    output: Path,
    days: int,
    database_url: str | None,
    passphrase_stdin: bool,
) -> None:
    """Issue ORGANISATION's client certificate (by id or name) from the partner CA, as PKCS#12."""
    import os
    from datetime import UTC, datetime, timedelta

    from portal.sandbox.client_certs import (
        find_organisation,
        issue_client_certificate,
        organisation_names,
    )
    from portal.sandbox.store import open_store
    from portal.sandbox.tls import ensure_tls

    state = obj.data_dir.root / "sandbox"
    state.mkdir(parents=True, exist_ok=True)
    sessions = open_store(database_url or f"sqlite:///{state / 'marketplace.sqlite3'}")
    found = find_organisation(sessions, organisation)
    if found is None:
        known = organisation_names(sessions)
        raise PortalError(
            _("The sandbox has no organisation “{organisation}”. It has: {known}.").format(
                organisation=organisation,
                known=", ".join(known) or _("none (start it once with --seed-demo)"),
            ),
            kind=ErrorKind.INPUT,
        )
    passphrase = _read_passphrase(passphrase_stdin, confirm=True)
    if not passphrase:
        raise PortalError(_("The PKCS#12 file needs a passphrase."), kind=ErrorKind.INPUT)
    org_id, name = found
    start = datetime.now(UTC) - timedelta(minutes=5)
    end = start + timedelta(days=days)
    data = issue_client_certificate(
        ensure_tls(state / "tls"),
        organisation_id=org_id,
        organisation_name=name,
        passphrase=passphrase,
        valid_from=start,
        valid_until=end,
    )
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise PortalError(
            _("The file {path} cannot be written: {problem}").format(
                path=output, problem=exc.strerror or exc
            ),
            kind=ErrorKind.STORAGE,
        ) from exc
    click.echo(
        _(
            "Client certificate of {organisation} ({id}), valid until {date}, written to {path}. "
            "Import it with `aic-portal cert import {path}`."
        ).format(organisation=name, id=org_id, date=format_datetime(end), path=output)
    )


@sandbox.group("exam")
def sandbox_exam() -> None:
    """Exams the sandbox marketplace offers."""


@sandbox_exam.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--code", help="The sitting code (default: a new random one, printed).")
@click.option("--practice", is_flag=True, help="Offer it as a practice exam (keys included).")
@click.option(
    "--partner",
    "partners",
    multiple=True,
    metavar="ORGANISATION",
    help="An organisation (id or name) entitled to it; repeat for more (default: every one).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=365,
    show_default=True,
    help="How long its packages stay valid.",
)
@click.option(
    "--skip-unsupported",
    is_flag=True,
    help="For QTI: leave out items the portal cannot show, instead of refusing the import.",
)
@click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="SQLAlchemy URL of the sandbox's database (default: SQLite in the data dir).",
)
@click.pass_obj
def sandbox_exam_add(
    obj: CliContext,
    path: Path,
    code: str | None,
    practice: bool,
    partners: tuple[str, ...],
    days: int,
    skip_unsupported: bool,
    database_url: str | None,
) -> None:
    """Offer the exam in PATH (ExamContent JSON, or a QTI item, package folder or zip)."""
    from datetime import UTC, datetime, timedelta

    from portal.sandbox.client_certs import find_organisation, organisation_names
    from portal.sandbox.exams import add_exam, load_exam_source
    from portal.sandbox.store import open_store

    state = obj.data_dir.root / "sandbox"
    state.mkdir(parents=True, exist_ok=True)
    sessions = open_store(database_url or f"sqlite:///{state / 'marketplace.sqlite3'}")
    content = load_exam_source(path, practice=practice, skip_unsupported=skip_unsupported)
    organisations = []
    for partner in partners:
        found = find_organisation(sessions, partner)
        if found is None:
            raise PortalError(
                _("The sandbox has no organisation “{organisation}”. It has: {known}.").format(
                    organisation=partner,
                    known=", ".join(organisation_names(sessions))
                    or _("none (start it once with --seed-demo)"),
                ),
                kind=ErrorKind.INPUT,
            )
        organisations.append(found[0])
    until = datetime.now(UTC) + timedelta(days=days)
    given = add_exam(sessions, content, code=code, partners=organisations or None, expires_at=until)
    kind = _("practice exam") if content.practice else _("certification exam")
    click.echo(
        _("The sandbox offers the {kind} {exam} {version} until {date}.").format(
            kind=kind, exam=content.exam_id, version=content.version, date=format_datetime(until)
        )
    )
    click.echo(_("Sitting code: {code}").format(code=given))


cli.add_command(plugin)
cli.add_command(conformance)
cli.add_command(exam)


def _echo_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _value in rows) + 2
    for label, value in rows:
        click.echo(f"{label + ':':<{width}}{value}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a known error prints one plain line, anything else goes to the log."""
    import multiprocessing

    multiprocessing.freeze_support()  # the installer's exe also starts conformance workers
    try:
        # Without standalone mode, click returns a command's ctx.exit(code) instead of raising it.
        code = cli.main(args=argv, prog_name="aic-portal", standalone_mode=False)
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
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
