"""The sandbox's own records: organisations, users, and the OAuth codes and tokens it issued.

Separate from the client's store: the sandbox is a server with its own database (`--db`).
Secrets it issues are kept only as SHA-256 digests; passwords only as scrypt hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    InstrumentedAttribute,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.pool import StaticPool

from portal.db.engine import sqlite_pragmas
from portal.db.types import UTCDateTime

# What a text input must match to be stored or looked up: PostgreSQL text holds no NUL, so the
# API refuses it up front and every database answers alike.
PLAIN_TEXT = r"^[^\x00]*$"


class SandboxBase(DeclarativeBase):
    """Declarative base of the sandbox's tables (never mixed with the client's)."""


def new_id() -> str:
    """A random identifier for records the API exposes."""
    return secrets.token_hex(8)


def digest(secret: str) -> str:
    """How an issued secret (code, token) is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An scrypt hash with its own salt, as `salt$hash` in hex."""
    salt = secrets.token_bytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"{salt.hex()}${derived.hex()}"


_NOBODY = hash_password(secrets.token_urlsafe(16))


def check_user(user: User | None, password: str) -> bool:
    """Whether `user` exists and `password` is theirs, taking as long either way."""
    matches = check_password(password, user.password_hash if user else _NOBODY)
    return user is not None and matches


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` result, in constant time."""
    salt, expected = stored.split("$", 1)
    derived = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(derived.hex(), expected)


def now() -> datetime:
    """The server's clock, in UTC."""
    return datetime.now(UTC)


class Organisation(SandboxBase):
    """A partner organisation; every resource belongs to one."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    partner_type: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(32), default="registered")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    revenue_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.20"))

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(SandboxBase):
    """A person who signs in for an organisation."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship(back_populates="users")


class AuthorizationCode(SandboxBase):
    """A one-time code from the sign-in page, bound to its PKCE challenge and redirect URI."""

    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    family_id: Mapped[str | None] = mapped_column(String(32))


class Token(SandboxBase):
    """An access or refresh token; tokens of one sign-in share a family, revoked together."""

    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "access" or "refresh"
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    rotated: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class DeviceGrant(SandboxBase):
    """An RFC 8628 device sign-in: a code shown on the device, approved in any browser."""

    __tablename__ = "device_grants"

    device_code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_code: Mapped[str] = mapped_column(String(16), unique=True)
    client_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    last_poll: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class UploadSession(SandboxBase):
    """A resumable upload: bytes arrive in order at `offset` until `size`, then are checked."""

    __tablename__ = "upload_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class SigningKey(SandboxBase):
    """A partner's Ed25519 public key for package signatures; a key belongs to one organisation."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the raw key
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    public_key: Mapped[str] = mapped_column(Text)  # PEM
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Plugin(SandboxBase):
    """A plugin listed by an organisation; `revision` makes its ETag."""

    __tablename__ = "plugins"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    versions: Mapped[list[PluginRelease]] = relationship(
        back_populates="plugin", order_by="PluginRelease.created_at"
    )


class PluginRelease(SandboxBase):
    """A submitted version of a plugin and where its review stands."""

    __tablename__ = "plugin_releases"
    __table_args__ = (UniqueConstraint("plugin_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    plugin_id: Mapped[str] = mapped_column(ForeignKey("plugins.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    review_status: Mapped[str] = mapped_column(String(32), default="submitted")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    plugin: Mapped[Plugin] = relationship(back_populates="versions")


class ConformanceChallenge(SandboxBase):
    """A one-time nonce issued to an organisation, mixed into the seed of the run it answers."""

    __tablename__ = "conformance_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ConformanceSubmission(SandboxBase):
    """A verified conformance report and the certification state it earned."""

    __tablename__ = "conformance_submissions"
    __table_args__ = (UniqueConstraint("organisation_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(200))
    challenge_id: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class IdempotentResponse(SandboxBase):
    """The first response to an unsafe request, replayed when its Idempotency-Key comes again."""

    __tablename__ = "idempotent_responses"

    organisation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


def first_to_set(db: Session, row: SandboxBase, flag: InstrumentedAttribute[bool]) -> bool:
    """Set a once-only flag on `row`; False when another request set it first.

    One conditional UPDATE: a concurrent one waits for it (row lock in PostgreSQL, write lock in
    SQLite) and then matches nothing, where a read followed by a write would let both through
    in SQLite, which ignores SELECT ... FOR UPDATE.
    """
    state = inspect(row)
    assert state.identity is not None, "a row read from the database"
    claimed = db.execute(
        update(type(row))
        .where(*(c == v for c, v in zip(state.mapper.primary_key, state.identity, strict=True)))
        .where(flag.is_(False))
        .values({flag: True})
        .execution_options(synchronize_session=False)
    )
    db.refresh(row)  # what the winner committed, when this request lost
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_store(url: str) -> sessionmaker[Any]:
    """Create the sandbox's tables at `url` (any SQLAlchemy URL) and return a session factory."""
    in_memory = url in {"sqlite://", "sqlite:///:memory:"}
    engine: Engine = (
        create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        if in_memory  # one shared connection, or each thread would see its own empty database
        else create_engine(url)
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
        # pysqlite starts transactions late and mishandles SAVEPOINT (which batches and claimed
        # keys rely on): take transaction control away from it, and begin where SQLAlchemy
        # begins, IMMEDIATE, so that requests take turns instead of failing to upgrade a read.
        event.listen(engine, "connect", _driver_autocommit)
        event.listen(engine, "begin", _begin_immediate)
    SandboxBase.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
