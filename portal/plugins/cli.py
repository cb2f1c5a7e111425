"""`aic-portal plugin …`: make, lint, pack, sign, verify and inspect plugin packages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from portal.i18n import _, format_datetime, format_number
from portal.paths import DataDir
from portal.plugins.templates import TEMPLATES

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.plugins.pack import PackResult
    from portal.plugins.publish import VersionStatus
    from portal.settings import Settings

FORMATS = ("text", "json", "sarif")


class _Context(Protocol):
    """The part of the CLI context these commands use (portal.cli is not imported here)."""

    data_dir: DataDir
    settings: Settings


@click.group()
def plugin() -> None:
    """Plugins: make, lint, pack, sign, verify, inspect and publish marketplace packages."""


@plugin.command("new")
@click.option("--template", type=click.Choice(TEMPLATES), required=True, help="What to start from.")
@click.option("--name", help="The plugin's name (default: the folder's name).")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def new(template: str, name: str | None, folder: Path) -> None:
    """Make a plugin folder from a template; its README says what to change."""
    from portal.plugins.templates import create_plugin

    manifest = create_plugin(template, folder, name=name)
    click.echo(
        _("Created the {template} plugin {name} in {path}.").format(
            template=template, name=manifest.metadata.name, path=folder
        )
    )
    click.echo(
        _("Next: read {readme}, then run `aic-portal plugin lint {path}`.").format(
            readme=folder / "README.md", path=folder
        )
    )


@plugin.command("lint")
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def lint(ctx: click.Context, output_format: str, folder: Path) -> None:
    """Check a plugin folder; exits with 1 when any error is found."""
    from portal.plugins.lint import has_errors, lint_plugin
    from portal.plugins.report import as_json, as_sarif, as_text

    found = lint_plugin(folder)
    render = {"text": as_text, "json": as_json, "sarif": as_sarif}[output_format]
    click.echo(render(folder, found), nl=output_format != "text")
    if has_errors(found):
        ctx.exit(1)


@plugin.command("pack")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Where to write the package (default: NAME-VERSION.aicpkg here).",
)
@click.option("--sign", is_flag=True, help="Also write FILE.sig.json with your signing key.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def pack(ctx: click.Context, output: Path | None, sign: bool, folder: Path) -> None:
    """Lint FOLDER and pack it into a reproducible NAME-VERSION.aicpkg."""
    from portal.cancel import CancelToken, no_progress
    from portal.plugins.attestation import sign_package
    from portal.plugins.document import load_manifest
    from portal.plugins.keys import load_signing_key
    from portal.plugins.lint import has_errors, lint_plugin
    from portal.plugins.pack import pack_plugin
    from portal.plugins.report import as_text

    found = lint_plugin(folder)
    if has_errors(found):
        click.echo(as_text(folder, found), nl=False, err=True)
        click.echo(_("Not packed: fix the errors above first."), err=True)
        ctx.exit(1)
    data_dir = _data_dir(ctx)
    key = load_signing_key(data_dir) if sign else None  # before the work, not after it
    manifest = load_manifest(folder).manifest
    project = _packable_project(data_dir, folder, manifest.metadata.version)
    target = output or Path.cwd() / manifest.package_name
    result = pack_plugin(folder, target, progress=no_progress, cancel=CancelToken())
    click.echo(
        _("Packed {files} files into {path} ({size} bytes).").format(
            files=result.files, path=result.path, size=format_number(result.size)
        )
    )
    click.echo(f"SHA-256: {result.sha256}")
    if key is not None:
        signature = sign_package(result.path, key)
        click.echo(_("Signed: {path}").format(path=signature))
    if project is not None:
        _record(data_dir, project, result, signed=key is not None)


def _packable_project(data_dir: DataDir, folder: Path, version: str) -> int | None:
    """The app's project for FOLDER, if any, after checking its version may still be packed."""
    if not data_dir.database.is_file():
        return None
    from portal.db.store import Store
    from portal.plugins.versions import ensure_packable, project_for_folder

    with Store.open(data_dir) as store:
        project = project_for_folder(store, folder)
        if project is not None:
            ensure_packable(store, project, version)
        return project


def _record(data_dir: DataDir, project: int, result: PackResult, *, signed: bool) -> None:
    """Add the package to the project's versions, as the GUI's Pack does."""
    from portal.db.store import Store
    from portal.plugins.versions import mark_signed, record_package

    with Store.open(data_dir) as store:
        version = record_package(
            store,
            project,
            name=result.manifest.metadata.name,
            version=result.manifest.metadata.version,
            package_path=result.path,
            sha256=result.sha256,
        )
        if signed:
            mark_signed(store, version.id)


@plugin.command("keygen")
@click.option("--replace", is_flag=True, help="Replace the existing signing key.")
@click.pass_context
def keygen(ctx: click.Context, replace: bool) -> None:
    """Make your Ed25519 signing key; its passphrase goes to the OS keyring."""
    from portal.db.store import Store
    from portal.plugins.keys import generate_signing_key
    from portal.plugins.publish import queue_key_registration

    data_dir = _data_dir(ctx)
    made = generate_signing_key(data_dir, replace=replace)
    with Store.open(data_dir) as store:
        queue_key_registration(store, data_dir)
    click.echo(_("Made a signing key."))
    click.echo(
        _("Private key: {path} (encrypted; the passphrase is in the OS keyring)").format(
            path=made.private_path
        )
    )
    click.echo(
        _("Public key:  {path} (give it to whoever verifies your packages)").format(
            path=made.public_path
        )
    )
    click.echo(_("Key id:      {key}").format(key=made.key_id))
    click.echo(_("The public key is registered with the marketplace at the next sync."))


@plugin.command("verify")
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PUBKEY",
    help="The publisher's public key (default: your own).",
)
@click.option(
    "--signature",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The signature file (default: PACKAGE.sig.json).",
)
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def verify(
    ctx: click.Context, key_path: Path | None, signature: Path | None, package: Path
) -> None:
    """Check a package's signature, every file's hash and its manifest."""
    from portal.cancel import CancelToken
    from portal.plugins.attestation import verify_package
    from portal.plugins.keys import load_public_key, own_public_key_path

    key_path = key_path or own_public_key_path(_data_dir(ctx))
    done = verify_package(
        package, load_public_key(key_path), signature=signature, cancel=CancelToken()
    )
    click.echo(_("Verified {path}:").format(path=package))
    for line in done.checks:
        click.echo(f"  ok  {line}")


@plugin.command("inspect")
@click.option(
    "--extract",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="FOLDER",
    help="Also unpack it into FOLDER (new or empty), safely.",
)
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
def inspect(extract: Path | None, package: Path) -> None:
    """Show what a package holds, reading it as untrusted input."""
    from portal.cancel import CancelToken
    from portal.plugins.package import inspect_package
    from portal.plugins.safezip import extract_archive

    contents = inspect_package(package)
    meta, spec = contents.manifest.metadata, contents.manifest.spec
    click.echo(f"{meta.name} {meta.version} — {meta.display_name} ({spec.type.value})")
    click.echo(
        _("Publisher: {publisher}; licence: {license}").format(
            publisher=meta.publisher, license=meta.license or "-"
        )
    )
    click.echo(_("Source tree SHA-256: {digest}").format(digest=contents.source_digest))
    for entry in contents.entries:
        click.echo(
            f"  {format_number(entry.size):>14}  {format_number(entry.compressed_size):>14}  "
            f"{entry.method:<8}  {entry.name}"
        )
    if extract is not None:
        written = extract_archive(package, extract, cancel=CancelToken())
        click.echo(
            _("Unpacked {count} files into {path}.").format(count=len(written), path=extract)
        )


@plugin.command("publish")
@click.option(
    "--sync/--no-sync",
    "sync_now",
    default=True,
    show_default=True,
    help="Send it right away when signed in, or leave it in the outbox for the next sync.",
)
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def publish(ctx: click.Context, sync_now: bool, package: Path) -> None:
    """Publish a signed package (with its FILE.sig.json) to the marketplace, through the outbox."""
    from portal.db.enums import OutboxState
    from portal.db.store import Store
    from portal.plugins.publish import list_versions, queue_publish

    data_dir = _data_dir(ctx)
    with Store.open(data_dir) as store:
        queued = queue_publish(store, data_dir, package)
        click.echo(
            _("Queued {name} {version} for publishing (outbox item #{id}).").format(
                name=queued.name, version=queued.version, id=queued.outbox_item_id
            )
        )
        if sync_now:
            _sync_now(ctx, store)
        else:
            click.echo(_("It is sent at the next sync (`aic-portal sync`)."))
        shown = [v for v in list_versions(store, name=queued.name) if v.version == queued.version]
    for version in shown:
        _echo_version(version)
        if version.delivery == OutboxState.FAILED:
            ctx.exit(1)


@plugin.command("status")
@click.argument("name", required=False)
@click.pass_context
def status(ctx: click.Context, name: str | None) -> None:
    """List packaged versions (of plugin NAME) with their marketplace review status."""
    from portal.db.store import Store
    from portal.plugins.publish import list_versions

    with Store.open(_data_dir(ctx)) as store:
        versions = list_versions(store, name=name)
    if not versions:
        click.echo(_("No packaged versions yet."))
    for version in versions:
        _echo_version(version)


def _sync_now(ctx: click.Context, store: Store) -> None:
    """Sync when a marketplace is configured and signed in; otherwise say when it goes."""
    from portal.auth.oauth import configured_marketplace
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken, no_progress
    from portal.errors import ErrorKind, PortalError
    from portal.sync.engine import sync

    obj: _Context = ctx.find_root().obj
    market = configured_marketplace(obj.data_dir, obj.settings)
    later = _("It is sent at the next sync (`aic-portal sync`).")
    if market is None:
        click.echo(_("No marketplace is configured.") + " " + later)
        return
    tokens = TokenStore(obj.data_dir.keyring_service, market.account)
    try:
        if tokens.load() is None:
            click.echo(_("You are not signed in.") + " " + later)
            return
        report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    except PortalError as exc:
        if exc.kind == ErrorKind.CANCELLED:
            raise
        click.echo(_("Not sent now: {problem}").format(problem=exc.message) + " " + later)
        return
    click.echo(report.summary())


def _echo_version(version: VersionStatus) -> None:
    from portal.db.enums import OutboxState
    from portal.plugins.labels import review_status

    line = _("{name} {version}: review status {status}").format(
        name=version.name, version=version.version, status=review_status(version.review_status)
    )
    if version.published_at is not None:
        line += " " + _("(submitted {date})").format(date=format_datetime(version.published_at))
    click.echo(line)
    if version.delivery in (OutboxState.PENDING, OutboxState.IN_FLIGHT):
        click.echo("  " + _("waiting in the outbox (item #{id})").format(id=version.outbox_item_id))
    elif version.delivery in (OutboxState.FAILED, OutboxState.CONFLICT):
        click.echo(
            "  "
            + _("needs attention (outbox item #{id}): {problem}").format(
                id=version.outbox_item_id, problem=version.problem
            )
        )


def _data_dir(ctx: click.Context) -> DataDir:
    obj: _Context = ctx.find_root().obj
    return obj.data_dir
