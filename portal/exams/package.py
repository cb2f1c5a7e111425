"""`.aicexam` packages: a public header signed by the marketplace, content sealed by a sitting code.

Layout (all integers big-endian):

    b"AICEXAM\\x01"                  magic and format version
    u32 header length, header        canonical JSON (sorted keys, no spaces), UTF-8
    64 bytes                         Ed25519 signature over SIGNING_CONTEXT + header
    ciphertext                       AES-256-GCM of the payload, tag at the end

The header names the ciphertext's SHA-256 and size, so the signature covers every byte of the
file and a changed or cut byte is caught before the code is asked for. The key is scrypt(code,
salt) with the parameters in the header, and the header is GCM's associated data too, so a header
cannot be moved onto another package's content. The payload is a length-prefixed JSON index (the
ExamContent and the media list) followed by the media bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal.atomic import write_atomically
from portal.errors import InputError
from portal.exams.model import ExamContent, Identifier, LocalText
from portal.i18n import _, format_date, format_number, ngettext
from portal.plugins.dsse import key_id

MAGIC = b"AICEXAM\x01"
SIGNING_CONTEXT = b"AIC-Platform exam package header v1\x00"
SIGNATURE_SIZE = 64
MAX_HEADER_BYTES = 64 * 1024
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
MAX_INDEX_BYTES = 32 * 1024 * 1024
NONCE_SIZE = 12
KDF_N = 2**17
"""scrypt cost for new packages: ~128 MiB and about half a second per try, which is what makes
guessing a sitting code away from the sitting (where no attempt limit applies) expensive."""
KDF_N_RANGE = (2**14, 2**20)
"""What a package may ask for: weaker is refused, stronger would let a package exhaust memory."""
KDF_R, KDF_P = 8, 1
MIN_CODE_LENGTH = 8
_CHUNK = 1 << 20
_MEDIA_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


class PackageError(InputError):
    """An exam package that cannot be used; the message names the file and the reason."""


class DamagedPackageError(PackageError):
    """The file was changed, cut short or is not an exam package at all."""


class UntrustedPackageError(PackageError):
    """The package is signed by a key this app does not trust as the marketplace's."""


class WrongCodeError(PackageError):
    """The sitting code does not open the package."""


class ExpiredPackageError(PackageError):
    """The package's validity ended; the marketplace or the proctor has a newer one."""


class Kdf(BaseModel):
    """How the content key is derived from the sitting code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal["scrypt"] = "scrypt"
    n: int
    r: int = Field(ge=1, le=32)
    p: int = Field(ge=1, le=4)
    salt: str = Field(min_length=16, max_length=88)
    """Base64 of at least 16 random bytes."""


class ExamHeader(BaseModel):
    """The public part of a package: readable and verifiable without the sitting code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    exam_id: Identifier
    version: str = Field(pattern=r"^[0-9A-Za-z.\-+]{1,32}$")
    title: LocalText
    languages: list[str] = Field(min_length=1, max_length=50)
    duration_s: int = Field(gt=0)
    pass_mark: float = Field(ge=0, le=1)
    practice: bool
    questions: int = Field(ge=1)
    """How many items a sitting shows (the sum of the sections' draws)."""
    issued_at: datetime
    expires_at: datetime
    kdf: Kdf
    cipher: Literal["AES-256-GCM"] = "AES-256-GCM"
    nonce: str = Field(min_length=16, max_length=16)
    """Base64 of the 12-byte GCM nonce."""
    ciphertext_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    ciphertext_size: int = Field(ge=16)
    key_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    """The fingerprint of the marketplace key that signed this header."""

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the package can no longer be opened."""
        return (now or datetime.now(UTC)) >= self.expires_at

    def title_in(self, language: str) -> str:
        """The title in `language`, else in the exam's first language."""
        return self.title.get(language) or self.title[self.languages[0]]


@dataclass(frozen=True)
class OpenedExam:
    """A package opened with its code: the verified header, the content and its media."""

    header: ExamHeader
    content: ExamContent
    media: dict[str, bytes]


def normalise_code(code: str) -> str:
    """The code as the key is derived from it: case, spaces and dashes do not matter, so a code
    read aloud or copied from a slip of paper works however it was typed."""
    folded = unicodedata.normalize("NFKC", code).upper()
    return "".join(c for c in folded if not c.isspace() and c not in "-_")


def new_sitting_code() -> str:
    """A fresh code of 15 Crockford base32 characters (75 bits), shown as XXXXX-XXXXX-XXXXX."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _n in range(15))
    return "-".join(raw[i : i + 5] for i in range(0, 15, 5))


def build_package(
    content: ExamContent,
    *,
    code: str,
    signing_key: Ed25519PrivateKey,
    out: Path,
    expires_at: datetime,
    media: dict[str, bytes] | None = None,
    kdf_n: int = KDF_N,
) -> Path:
    """Seal `content` (without its keys unless it is a practice exam) under `code`, sign the
    header with the marketplace's key and write the package to `out` atomically."""
    secret = normalise_code(code)
    if len(secret) < MIN_CODE_LENGTH:
        raise InputError(
            ngettext(
                "A sitting code needs at least {n} letter or digit.",
                "A sitting code needs at least {n} letters or digits.",
                MIN_CODE_LENGTH,
            ).format(n=MIN_CODE_LENGTH)
        )
    if expires_at.tzinfo is None:
        raise InputError(_("The expiry time of an exam package needs a time zone."))
    media = dict(media or {})
    _check_media(content, media)
    sealed = content if content.practice else content.without_keys()
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(NONCE_SIZE)
    kdf = Kdf(n=kdf_n, r=KDF_R, p=KDF_P, salt=_b64(salt))
    _check_kdf(kdf, out)
    payload = _payload(sealed, media)
    draft = ExamHeader(
        exam_id=content.exam_id,
        version=content.version,
        title=content.title,
        languages=content.languages,
        duration_s=content.duration_s,
        pass_mark=content.pass_mark,
        practice=content.practice,
        questions=sum(s.draw or len(s.items) for s in content.sections),
        issued_at=datetime.now(UTC).replace(microsecond=0),
        expires_at=expires_at.astimezone(UTC),
        kdf=kdf,
        nonce=_b64(nonce),
        ciphertext_sha256="0" * 64,  # filled in below: it is the digest of what this seals
        ciphertext_size=len(payload) + 16,
        key_id=key_id(signing_key.public_key()),
    )
    ciphertext = AESGCM(_derive(secret, kdf)).encrypt(nonce, payload, _aad(draft))
    header = draft.model_copy(update={"ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest()})
    header_bytes = _canonical(header)
    signature = signing_key.sign(SIGNING_CONTEXT + header_bytes)
    data = MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + signature + ciphertext
    try:
        write_atomically(out, data)
    except OSError as exc:
        raise InputError(
            _("The exam package {path} cannot be written: {problem}").format(
                path=out, problem=exc.strerror or exc
            )
        ) from exc
    return out


def read_header(path: Path, *, trusted_keys: list[Ed25519PublicKey]) -> ExamHeader:
    """The package's header once its signature by a trusted key and the digest of its whole
    content hold; needs no code, shows nothing of the content."""
    with _open(path) as handle:
        header, _offset = _verified_header(path, handle, trusted_keys)
    return header


def open_package(
    path: Path,
    *,
    code: str,
    trusted_keys: list[Ed25519PublicKey],
    now: datetime | None = None,
) -> OpenedExam:
    """Verify, check the expiry, then decrypt with `code`; any failure reveals no content."""
    with _open(path) as handle:
        header, offset = _verified_header(path, handle, trusted_keys)
        if header.expired(now):
            raise ExpiredPackageError(
                _(
                    "The exam package {path} expired on {date}; ask the proctor or the "
                    "marketplace for a current one."
                ).format(
                    path=path,
                    date=format_date(header.expires_at.astimezone().date(), length="long"),
                )
            )
        handle.seek(offset)
        ciphertext = handle.read(header.ciphertext_size + 1)
    if len(ciphertext) != header.ciphertext_size:  # changed between the check and this read
        raise _damaged(path, _("it changed while it was being read"))
    key = _derive(normalise_code(code), header.kdf)
    try:
        payload = AESGCM(key).decrypt(_nonce(header), ciphertext, _aad(header))
    except InvalidTag:
        # the signed digest already matched every ciphertext byte, so only the key is wrong
        raise WrongCodeError(
            _("The sitting code does not open the exam package {path}.").format(path=path)
        ) from None
    content, media = _parse_payload(path, payload)
    if (content.exam_id, content.version, content.practice) != (
        header.exam_id,
        header.version,
        header.practice,
    ):
        raise _damaged(path, _("its content is not the exam its header names"))
    return OpenedExam(header, content, media)


def sha256_file(path: Path) -> str:
    """The file's SHA-256 in hex, read in chunks."""
    digest = hashlib.sha256()
    with _open(path) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise PackageError(
            _("The exam package {path} cannot be read: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc


def _damaged(path: Path, reason: str) -> DamagedPackageError:
    return DamagedPackageError(
        _(
            "The exam package {path} is damaged or was changed: {reason}. Nothing of it is used; "
            "download it again or ask the proctor for a new copy."
        ).format(path=path, reason=reason)
    )


def _verified_header(
    path: Path, handle: BinaryIO, trusted_keys: list[Ed25519PublicKey]
) -> tuple[ExamHeader, int]:
    """The header and where the ciphertext starts, after every check that needs no code."""
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_PACKAGE_BYTES:
        raise _damaged(
            path,
            ngettext(
                "it is larger than {n} byte", "it is larger than {n} bytes", MAX_PACKAGE_BYTES
            ).format(n=format_number(MAX_PACKAGE_BYTES)),
        )
    start = handle.read(len(MAGIC) + 4)
    if len(start) < len(MAGIC) + 4 or start[: len(MAGIC)] != MAGIC:
        if start[:7] == MAGIC[:7]:
            raise _damaged(path, _("it is cut short or of an unknown format version"))
        raise DamagedPackageError(_("{path} is not an exam package (.aicexam).").format(path=path))
    (length,) = struct.unpack(">I", start[len(MAGIC) :])
    if length > MAX_HEADER_BYTES:
        raise _damaged(
            path,
            ngettext("its header claims {n} byte", "its header claims {n} bytes", length).format(
                n=format_number(length)
            ),
        )
    header_bytes = handle.read(length)
    signature = handle.read(SIGNATURE_SIZE)
    if len(header_bytes) != length or len(signature) != SIGNATURE_SIZE:
        raise _damaged(path, _("it is cut short"))
    header = _parse_header(path, header_bytes)
    key = next((k for k in trusted_keys if key_id(k) == header.key_id), None)
    if key is None:
        raise UntrustedPackageError(
            _(
                "The exam package {path} is signed by key {key}, which is not a marketplace key "
                "this app trusts. Sync with the marketplace (or add its key with `aic-portal exam "
                "trust-key`) and try again."
            ).format(path=path, key=header.key_id[:16])
        )
    try:
        key.verify(signature, SIGNING_CONTEXT + header_bytes)
    except InvalidSignature:
        raise _damaged(path, _("the marketplace's signature does not match its header")) from None
    offset = len(MAGIC) + 4 + length + SIGNATURE_SIZE
    if size - offset != header.ciphertext_size:
        reason = _("it is cut short") if size - offset < header.ciphertext_size else None
        raise _damaged(path, reason or _("it has bytes after its end"))
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    if digest.hexdigest() != header.ciphertext_sha256:
        raise _damaged(path, _("its content is not what the marketplace signed"))
    return header, offset


def _parse_header(path: Path, data: bytes) -> ExamHeader:
    try:
        header = ExamHeader.model_validate_json(data)
    except ValidationError as exc:
        raise _damaged(path, _("its header is not valid ({problem})").format(problem=exc)) from exc
    if _canonical(header) != data:
        raise _damaged(path, _("its header is not in canonical form"))
    _check_kdf(header.kdf, path)
    return header


def _check_kdf(kdf: Kdf, path: Path) -> None:
    low, high = KDF_N_RANGE
    if not low <= kdf.n <= high or kdf.n & (kdf.n - 1):
        raise _damaged(
            path,
            _("its key derivation cost {n} is not a power of two from {low} to {high}").format(
                n=kdf.n, low=low, high=high
            ),
        )


def _canonical(header: ExamHeader) -> bytes:
    """One byte form per header, so what is signed is what is parsed."""
    return json.dumps(
        header.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _aad(header: ExamHeader) -> bytes:
    """The associated data: the header with its digest blanked (the digest is of this output)."""
    return SIGNING_CONTEXT + _canonical(header.model_copy(update={"ciphertext_sha256": "0" * 64}))


def _nonce(header: ExamHeader) -> bytes:
    return base64.b64decode(header.nonce)


def _derive(secret: str, kdf: Kdf) -> bytes:
    salt = base64.b64decode(kdf.salt)
    return Scrypt(salt=salt, length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(secret.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check_media(content: ExamContent, media: dict[str, bytes]) -> None:
    import re

    for name in media:
        if not re.match(_MEDIA_NAME, name):
            raise InputError(
                _("The media file name “{name}” is not a plain file name.").format(name=name)
            )
    named = {name for item in content.items() for name in item.media}
    missing = sorted(named - set(media))
    if missing:
        raise InputError(
            _("The exam names media files that were not given: {names}").format(
                names=", ".join(missing)
            )
        )


def _payload(content: ExamContent, media: dict[str, bytes]) -> bytes:
    names = sorted(media)
    index = json.dumps(
        {
            "content": content.model_dump(mode="json"),
            "media": [{"name": n, "size": len(media[n])} for n in names],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    return struct.pack(">I", len(index)) + index + b"".join(media[n] for n in names)


def _parse_payload(path: Path, payload: bytes) -> tuple[ExamContent, dict[str, bytes]]:
    """The content and media; the payload was authenticated, so a failure here means the
    marketplace sealed something this app cannot read (a newer format)."""
    try:
        (length,) = struct.unpack_from(">I", payload)
        if length > MAX_INDEX_BYTES or 4 + length > len(payload):
            raise ValueError("index length")
        index: dict[str, Any] = json.loads(payload[4 : 4 + length])
        content = ExamContent.model_validate(index["content"])
        media, at = {}, 4 + length
        for entry in index["media"]:
            name, size = str(entry["name"]), int(entry["size"])
            if size < 0 or at + size > len(payload):
                raise ValueError("media size")
            media[name] = payload[at : at + size]
            at += size
        if at != len(payload):
            raise ValueError("trailing bytes")
    except (ValueError, KeyError, TypeError, struct.error) as exc:
        raise _damaged(path, _("its content cannot be read by this version of the app")) from exc
    return content, media
