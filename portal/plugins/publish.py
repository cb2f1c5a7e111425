"""Publishing: a signed package is checked here as the marketplace will check it, goes through the
outbox with its files, and the marketplace's review status comes back with each sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.oauth import Marketplace, NetworkError
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.db.enums import OutboxState, ReviewStatus
from portal.db.models import OutboxItem, PluginProject, PluginVersion
from portal.db.store import Store
from portal.errors import InputError
from portal.i18n import _
from portal.paths import DataDir
from portal.plugins.attestation import file_sha256, signature_path, verify_package
from portal.plugins.dsse import key_id
from portal.plugins.keys import load_public_key, own_public_key_path
from portal.sync.outbox import FileToUpload, enqueue
from portal.sync.reads import get_signed_in, unexpected

if TYPE_CHECKING:
    import httpx

PLUGINS_PATH = "/v1/marketplace/plugins"
KEYS_PATH = "/v1/partners/me/keys"
AWAITING_REVIEW = (ReviewStatus.SUBMITTED, ReviewStatus.IN_REVIEW)


@dataclass(frozen=True)
class PublishQueued:
    """A version waiting in the outbox to be published."""

    name: str
    version: str
    sha256: str
    outbox_item_id: int
    key_id: str


@dataclass(frozen=True)
class VersionStatus:
    """A packaged version as the Plugins page and `plugin status` show it.

    `delivery` is the state of its latest publish item (None when never queued), and `problem`
    why that item was refused or is waiting.
    """

    name: str
    version: str
    sha256: str | None
    review_status: ReviewStatus
    published_at: datetime | None
    package_path: Path | None
    outbox_item_id: int | None
    delivery: OutboxState | None
    problem: str | None


def queue_publish(store: Store, data_dir: DataDir, package: Path) -> PublishQueued:
    """Queue a signed package for the marketplace after checking it with this data dir's key."""
    return queue_checked(store, check_for_publish(data_dir, package))


@dataclass(frozen=True)
class PublishCheck:
    """A package whose signature, hashes and manifest passed with this data dir's key."""

    package: Path
    signature: Path
    public_path: Path
    key_id: str
    name: str
    version: str
    sha256: str


def check_for_publish(
    data_dir: DataDir, package: Path, *, cancel: CancelToken | None = None
) -> PublishCheck:
    """Check a package as the marketplace will, before it is queued: the long part of publishing,
    with no database involved, so it can run (and be cancelled) apart from the writes."""
    package = package.expanduser().absolute()
    if not package.is_file():
        raise InputError(_("The package {path} does not exist.").format(path=package))
    signature = signature_path(package)
    if not signature.is_file():
        raise InputError(
            _(
                "{path} is not signed: there is no {signature}. Sign it with "
                "`aic-portal plugin pack --sign`."
            ).format(path=package, signature=signature.name)
        )
    public_path = own_public_key_path(data_dir)
    if not public_path.is_file():
        raise InputError(
            _(
                "There is no signing key in {path}; make one with `aic-portal plugin keygen` "
                "and sign the package with it."
            ).format(path=data_dir.keys)
        )
    public = load_public_key(public_path)
    meta = verify_package(package, public, signature=signature, cancel=cancel).manifest.metadata
    return PublishCheck(
        package,
        signature,
        public_path,
        key_id(public),
        meta.name,
        meta.version,
        file_sha256(package, cancel=cancel),
    )


def queue_checked(store: Store, checked: PublishCheck) -> PublishQueued:
    """Queue a checked package, in one transaction: the version is recorded (its project found
    by name, or made), the signing key's registration is queued if it never was, and the publish
    item with its two uploads. A version already queued, sent or published is refused; a refused
    publish item of the same version is replaced.
    """
    package, sha256, name = checked.package, checked.sha256, checked.name
    with store.session() as session, session.begin():
        version = _version_row(session, name, checked.version, package)
        _refuse_if_taken(session, version, name, checked.version)
        version.package_path, version.package_sha256 = str(package), sha256
        version.signed, version.review_status = True, ReviewStatus.SUBMITTED
        version.published_at = None
        key_item = _queue_key(session, checked.public_path)
        item = enqueue(
            session,
            resource=f"plugin/{name}",
            method="POST",
            path=f"{PLUGINS_PATH}/{name}/versions",
            body={"version": checked.version},
            uploads={
                "package_upload": FileToUpload(package, sha256),
                "signature_upload": FileToUpload(checked.signature, file_sha256(checked.signature)),
            },
            after=key_item,  # the marketplace checks the signature with the registered key
        )
        session.flush()
        return PublishQueued(name, checked.version, sha256, item.id, checked.key_id)


def queue_key_registration(store: Store, data_dir: DataDir) -> int:
    """Queue the registration of this data dir's public key, which the marketplace checks package
    signatures with; returns the outbox item (an earlier one when it was already queued)."""
    path = own_public_key_path(data_dir)
    with store.session() as session, session.begin():
        return _queue_key(session, path).id


def list_versions(store: Store, *, name: str | None = None) -> list[VersionStatus]:
    """Packaged versions, by plugin name and then newest first, with their publish items."""
    query = select(PluginVersion, PluginProject.name).join(PluginProject)
    if name is not None:
        query = query.where(PluginProject.name == name)
    query = query.order_by(PluginProject.name, PluginVersion.created_at.desc(), PluginVersion.id)
    with store.session() as session:
        rows = session.execute(query).all()
        items = publish_items(session, {plugin for _version, plugin in rows})
    found = []
    for version, plugin in rows:
        item = items.get((plugin, version.version))
        found.append(
            VersionStatus(
                name=plugin,
                version=version.version,
                sha256=version.package_sha256,
                review_status=version.review_status,
                published_at=version.published_at,
                package_path=Path(version.package_path) if version.package_path else None,
                outbox_item_id=item.id if item else None,
                delivery=item.state if item else None,
                problem=item.last_error if item else None,
            )
        )
    return found


def refresh_review_status(
    store: Store, market: Marketplace, tokens: TokenStore, *, cancel: CancelToken | None = None
) -> int:
    """Read the marketplace's review of each version still waiting for one; how many changed."""
    cancel = cancel or CancelToken()
    with store.session() as session:
        names = sorted(
            set(
                session.scalars(
                    select(PluginProject.name)
                    .join(PluginVersion)
                    .where(PluginVersion.review_status.in_(AWAITING_REVIEW))
                )
            )
        )
    if not names:
        return 0
    listed = {name: _marketplace_versions(market, tokens, name, cancel) for name in names}
    changed = 0
    with store.session() as session, session.begin():
        waiting = session.execute(
            select(PluginVersion, PluginProject.name)
            .join(PluginProject)
            .where(PluginVersion.review_status.in_(AWAITING_REVIEW))
        ).all()
        for version, name in waiting:
            there = listed.get(name, {}).get(version.version)
            if there is None or there[0] != version.package_sha256:
                continue  # not arrived yet, or another package of that version
            status, published = there[1], there[2]
            if version.review_status != status:
                changed += 1
            version.review_status, version.published_at = status, published
    return changed


def _version_row(session: Session, name: str, version: str, package: Path) -> PluginVersion:
    """The version's row: the one packing recorded for this package, else the version of the
    project with the plugin's name (made when new)."""
    packed = session.scalars(
        select(PluginVersion).where(
            PluginVersion.package_path == str(package), PluginVersion.version == version
        )
    ).first()
    if packed is not None:
        return packed
    project = session.scalars(
        select(PluginProject).where(PluginProject.name == name).order_by(PluginProject.id)
    ).first()
    if project is None:
        folder = str(package.parent)
        other = session.scalars(select(PluginProject).where(PluginProject.folder == folder)).first()
        if other is not None:
            raise InputError(
                _(
                    "The folder {path} already belongs to the plugin project {other}; keep the "
                    "packages of {name} in a folder of their own."
                ).format(path=folder, other=other.name, name=name)
            )
        project = PluginProject(name=name, folder=folder)
        session.add(project)
        session.flush()
    row = session.scalars(
        select(PluginVersion).where(
            PluginVersion.project_id == project.id, PluginVersion.version == version
        )
    ).first()
    if row is None:
        row = PluginVersion(project_id=project.id, version=version)
        session.add(row)
    return row


def _refuse_if_taken(session: Session, row: PluginVersion, name: str, version: str) -> None:
    """Refuse a version published or on its way; drop a refused attempt that this one replaces."""
    if row.published_at is not None:
        raise InputError(
            _(
                "{name} {version} is already published (review status: {status}); give the "
                "plugin a new version in plugin.yaml and pack it again."
            ).format(name=name, version=version, status=row.review_status.value)
        )
    for item in _items_for(session, name, version):
        if item.state == OutboxState.FAILED:
            session.delete(item)
        else:
            raise InputError(
                _(
                    "{name} {version} is already queued or sent (outbox item #{id}, {state}); "
                    "its review status shows after the next sync."
                ).format(name=name, version=version, id=item.id, state=item.state.value)
            )


def _items_for(session: Session, name: str, version: str) -> list[OutboxItem]:
    items = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.resource == f"plugin/{name}", OutboxItem.action.like("POST %/versions"))
        .order_by(OutboxItem.id)
    )
    return [item for item in items if (item.payload.get("body") or {}).get("version") == version]


def publish_items(session: Session, names: set[str]) -> dict[tuple[str, str], OutboxItem]:
    """The latest publish item of each (plugin, version) of the plugins `names`."""
    items = session.scalars(
        select(OutboxItem)
        .where(
            OutboxItem.resource.in_([f"plugin/{name}" for name in names]),
            OutboxItem.action.like("POST %/versions"),
        )
        .order_by(OutboxItem.id)
    )
    return {
        (item.resource.removeprefix("plugin/"), str(item.payload["body"]["version"])): item
        for item in items
        if isinstance(item.payload.get("body"), dict) and "version" in item.payload["body"]
    }


def _queue_key(session: Session, public_path: Path) -> OutboxItem:
    """The item registering the key at `public_path`: the one already queued, or a new one."""
    pem = public_path.read_bytes().decode("ascii")
    fingerprint = key_id(load_public_key(public_path))
    resource = f"signing-key/{fingerprint}"
    queued = session.scalars(
        select(OutboxItem).where(OutboxItem.resource == resource).order_by(OutboxItem.id)
    ).first()
    if queued is not None:
        return queued
    item = enqueue(
        session,
        resource=resource,
        method="POST",
        path=KEYS_PATH,
        body={"public_key": pem, "key_id": fingerprint},
    )
    session.flush()
    return item


def _marketplace_versions(
    market: Marketplace, tokens: TokenStore, name: str, cancel: CancelToken
) -> dict[str, tuple[str, ReviewStatus, datetime]]:
    """The plugin's versions on the marketplace: version → (SHA-256, review status, submitted)."""
    path = f"{PLUGINS_PATH}/{name}"
    response = get_signed_in(market, tokens, path, cancel=cancel)
    if response.status_code == 404:
        return {}  # not listed yet: its first version has not arrived
    if response.status_code != 200:
        raise unexpected(path, response)
    return _parse_versions(response, path)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_versions(
    response: httpx.Response, path: str
) -> dict[str, tuple[str, ReviewStatus, datetime]]:
    """Check the listing field by field: it is untrusted input."""
    try:
        return {
            str(r["version"]): (
                str(r["sha256"]),
                ReviewStatus(r["review_status"]),
                _utc(datetime.fromisoformat(str(r["created_at"]))),
            )
            for r in response.json()["versions"]
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise NetworkError(
            _(
                "The marketplace's answer to {what} is not what this app expects ({problem})."
            ).format(what=path, problem=exc)
        ) from exc
