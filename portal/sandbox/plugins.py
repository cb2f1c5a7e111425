"""`/v1/marketplace/plugins`: an organisation's plugins and versions, with ETags and If-Match."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.sandbox.idempotency import Attempt, attempt, replay, respond
from portal.sandbox.oauth import Db, bearer_user
from portal.sandbox.problems import ProblemError, validation_errors
from portal.sandbox.review import check_submission
from portal.sandbox.store import PLAIN_TEXT, Plugin, PluginRelease, SigningKey, User
from portal.sandbox.uploads import finished_upload

router = APIRouter(prefix="/v1/marketplace/plugins", tags=["plugins"])

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)

Caller = Annotated[User, Depends(bearer_user)]
Unsafe = Annotated[Attempt, Depends(attempt)]
Name = Annotated[str, Path(pattern=DNS_LABEL)]

ETAG = {
    "ETag": {"description": "The listing's revision, for If-Match", "schema": {"type": "string"}}
}
LOCATION = {"Location": {"description": "Where the new listing is", "schema": {"type": "string"}}}


class PluginCreate(BaseModel):
    """A new plugin listing."""

    model_config = ConfigDict(strict=True)

    name: str = Field(pattern=DNS_LABEL)
    display_name: str = Field(min_length=1, max_length=200, pattern=PLAIN_TEXT)
    description: str = Field(default="", max_length=5000, pattern=PLAIN_TEXT)


class PluginChange(BaseModel):
    """Fields of a listing to change."""

    model_config = ConfigDict(strict=True)

    display_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=PLAIN_TEXT)
    description: str | None = Field(default=None, max_length=5000, pattern=PLAIN_TEXT)


class ReleaseCreate(BaseModel):
    """A version submitted for review: finished uploads of its package and DSSE signature."""

    model_config = ConfigDict(strict=True)

    version: str = Field(pattern=SEMVER, max_length=64)
    package_upload: str = Field(min_length=1, max_length=32)
    signature_upload: str = Field(min_length=1, max_length=32)


class Release(BaseModel):
    """A version and its review status."""

    version: str
    sha256: str
    review_status: str
    created_at: datetime


class PluginOut(BaseModel):
    """A plugin listing with its versions."""

    name: str
    display_name: str
    description: str
    revision: int
    versions: list[Release]


def _out(plugin: Plugin) -> PluginOut:
    return PluginOut(
        name=plugin.name,
        display_name=plugin.display_name,
        description=plugin.description,
        revision=plugin.revision,
        versions=[
            Release(
                version=r.version,
                sha256=r.sha256,
                review_status=r.review_status,
                created_at=r.created_at,
            )
            for r in plugin.versions
        ],
    )


def _etag(plugin: Plugin) -> str:
    return f'"{plugin.id}-{plugin.revision}"'


def _lookup(db: Db, user: User, name: str, *, to_change: bool = False) -> Plugin | None:
    query = select(Plugin).where(
        Plugin.organisation_id == user.organisation_id, Plugin.name == name
    )
    if to_change:  # a concurrent change waits, then checks If-Match against this one's revision
        query = query.with_for_update()  # (SQLite ignores it, but its unsafe requests queue)
    return db.scalars(query).first()


def _find(db: Db, user: User, name: str, *, to_change: bool = False) -> Plugin:
    plugin = _lookup(db, user, name, to_change=to_change)
    if plugin is None:  # another organisation's plugin is as invisible as a missing one
        raise ProblemError(404, f"Your organisation has no plugin named {name!r}.")
    return plugin


def _read(plugin: Plugin) -> PluginOut:
    """The listing as it is now; then the sandbox's automatic review runs on it.

    A version passed the signature, hash, manifest and lint checks when it was submitted, so the
    review approves it: a read shows a new version `in_review` and the next one `approved`.
    The ETag stays: it guards the partner's own edits of the listing.
    """
    shown = _out(plugin)
    for release in plugin.versions:
        if release.review_status == "in_review":
            release.review_status = "approved"
    return shown


@router.get("")
def list_plugins(db: Db, user: Caller) -> list[PluginOut]:
    """The caller's organisation's plugins, by name."""
    plugins = db.scalars(
        select(Plugin).where(Plugin.organisation_id == user.organisation_id).order_by(Plugin.name)
    )
    return [_read(p) for p in plugins]


@router.post(
    "", status_code=201, response_model=PluginOut, responses={201: {"headers": ETAG | LOCATION}}
)
def create_plugin(db: Db, user: Caller, unsafe: Unsafe, body: PluginCreate) -> Response:
    """List a new plugin; a repeat of the same request returns the first answer."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    plugin = Plugin(organisation_id=user.organisation_id, versions=[], **body.model_dump())
    db.add(plugin)
    try:
        db.flush()  # the unique (organisation, name) constraint answers "already there?"
    except IntegrityError as exc:
        raise ProblemError(
            409, f"Your organisation already has a plugin named {body.name!r}."
        ) from exc
    return respond(
        db,
        user.organisation_id,
        unsafe,
        _out(plugin),
        status=201,
        headers={"ETag": _etag(plugin), "Location": f"{router.prefix}/{plugin.name}"},
    )


@router.get("/{name}", response_model=PluginOut, responses={200: {"headers": ETAG}})
def get_plugin(db: Db, user: Caller, name: Name) -> JSONResponse:
    """One plugin, with the ETag to send back in If-Match."""
    plugin = _find(db, user, name)
    return JSONResponse(_read(plugin).model_dump(mode="json"), headers={"ETag": _etag(plugin)})


@router.patch("/{name}", response_model=PluginOut, responses={200: {"headers": ETAG}})
def change_plugin(
    db: Db,
    user: Caller,
    unsafe: Unsafe,
    name: Name,
    body: PluginChange,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Change a listing; If-Match must carry the current ETag, so no write is lost."""
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed
    plugin = _find(db, user, name, to_change=True)
    if not if_match:
        raise ProblemError(428, "Send If-Match with the ETag you last read.")
    if if_match != _etag(plugin):
        raise ProblemError(
            412,
            "The plugin changed since you read it: read it again and reapply your change.",
            headers={"ETag": _etag(plugin)},
        )
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(plugin, field, value)
    plugin.revision += 1
    db.flush()
    return respond(db, user.organisation_id, unsafe, _out(plugin), headers={"ETag": _etag(plugin)})


@router.post(
    "/{name}/versions",
    status_code=201,
    response_model=PluginOut,
    responses={201: {"headers": ETAG}},
)
def submit_version(
    request: Request, db: Db, user: Caller, unsafe: Unsafe, name: Name, body: ReleaseCreate
) -> Response:
    """Submit a signed package for review; a new plugin's listing is made from its manifest.

    The package is read as hostile input, its signature checked with a key the organisation
    registered, its files against its SHA256SUMS, its manifest against `name` and the version,
    and it is linted as `aic-portal plugin lint` would; any failure is a 422 saying which.
    """
    package = finished_upload(request, db, user, body.package_upload)
    signature = finished_upload(request, db, user, body.signature_upload)
    keys = {
        key.key_id: key.public_key
        for key in db.scalars(
            select(SigningKey).where(SigningKey.organisation_id == user.organisation_id)
        )
    }
    db.commit()  # the check below reads gigabytes: hold no database lock meanwhile
    checked = check_submission(package, signature, name=name, version=body.version, keys=keys)
    if (replayed := replay(db, user.organisation_id, unsafe)) is not None:
        return replayed  # a repeat was checked again, and gets the first answer
    plugin = _lookup(db, user, name, to_change=True)
    if plugin is not None and any(r.version == body.version for r in plugin.versions):
        raise ProblemError(409, f"Version {body.version} of {name!r} was already submitted.")
    if plugin is None:
        meta = checked.manifest.metadata
        try:  # the manifest's words become a listing: the same checks as one made directly
            listing = PluginCreate(
                name=name, display_name=meta.display_name, description=meta.description
            )
        except ValidationError as exc:
            raise ProblemError(
                422,
                "The manifest's display name or description cannot be a listing.",
                errors=validation_errors(exc.errors()),
            ) from exc
        plugin = Plugin(
            organisation_id=user.organisation_id,
            name=name,
            display_name=listing.display_name,
            description=listing.description,
            revision=0,  # the version below makes it 1
            versions=[],
        )
        db.add(plugin)
    plugin.versions.append(
        PluginRelease(version=body.version, sha256=checked.sha256, review_status="in_review")
    )
    plugin.revision += 1
    try:
        db.flush()
    except IntegrityError as exc:  # the same name or version, submitted at the same moment
        raise ProblemError(
            409, f"Version {body.version} of {name!r} was already submitted."
        ) from exc
    return respond(
        db,
        user.organisation_id,
        unsafe,
        _out(plugin),
        status=201,
        headers={"ETag": _etag(plugin)},
    )
