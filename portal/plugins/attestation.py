"""Signed statements about packages: an in-toto Statement v1 in a DSSE envelope, and its check."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal import __version__
from portal.atomic import write_atomically
from portal.cancel import CancelToken
from portal.errors import StorageError
from portal.i18n import _, ngettext
from portal.plugins.dsse import (
    SignatureError,
    key_id,
    parse_envelope,
    sign_envelope,
    signature_valid,
)
from portal.plugins.manifest import StandardPlugin
from portal.plugins.package import check_package
from portal.plugins.safezip import DEFAULT_LIMITS, Limits

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://aic-platform.io/attestations/plugin-package/v1"
SIGNATURE_SUFFIX = ".sig.json"
TOOL = "aic-portal"


@dataclass(frozen=True)
class Verification:
    """A package that passed: its manifest, the signer's key id, and each check in words."""

    manifest: StandardPlugin
    key_id: str
    checks: list[str]


def signature_path(package: Path) -> Path:
    """Where a package's detached signature lives: beside it, FILE.aicpkg.sig.json."""
    return package.with_name(package.name + SIGNATURE_SUFFIX)


def file_sha256(path: Path, *, cancel: CancelToken | None = None) -> str:
    """A file's SHA-256, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            if cancel is not None:
                cancel.raise_if_cancelled()
            digest.update(chunk)
    return digest.hexdigest()


def statement(
    *, package_name: str, package_sha256: str, source_digest: str, manifest: StandardPlugin
) -> dict[str, Any]:
    """The in-toto statement a package signature vouches for."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": package_name, "digest": {"sha256": package_sha256}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "tool": {"name": TOOL, "version": __version__},
            "sourceDigest": {"sha256": source_digest},
            "manifest": manifest.as_json(),
        },
    }


def sign_package(
    package: Path,
    key: Ed25519PrivateKey,
    *,
    limits: Limits = DEFAULT_LIMITS,
    cancel: CancelToken | None = None,
) -> Path:
    """Write FILE.aicpkg.sig.json for a package, after checking what it holds."""
    contents = check_package(package, limits=limits, cancel=cancel)
    payload = json.dumps(
        statement(
            package_name=package.name,
            package_sha256=file_sha256(package, cancel=cancel),
            source_digest=contents.source_digest,
            manifest=contents.manifest,
        ),
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")
    target = signature_path(package)
    data = json.dumps(sign_envelope(payload, key), indent=2).encode("utf-8") + b"\n"
    try:
        write_atomically(target, data)
    except OSError as exc:
        raise StorageError(
            _("The signature {path} cannot be written: {problem}").format(
                path=target, problem=exc.strerror or exc
            )
        ) from exc
    return target


def verify_package(
    package: Path,
    public_key: Ed25519PublicKey,
    *,
    signature: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
    cancel: CancelToken | None = None,
) -> Verification:
    """Check the signature, the package digest, every file hash and the manifest, in that order."""
    signature = signature or signature_path(package)
    if not signature.is_file():
        raise SignatureError(
            _("{path} is not signed: there is no {signature}.").format(
                path=package, signature=signature
            )
        )
    with open(signature, "rb") as handle:
        envelope = parse_envelope(handle.read(), str(signature))
    claims = _claims(envelope.payload, signature)
    actual = file_sha256(package, cancel=cancel)
    mine = key_id(public_key)
    valid = signature_valid(envelope, public_key)
    if valid is None:
        raise SignatureError(
            _("{path} was signed with key {theirs}, not with the key {yours} given.").format(
                path=signature, theirs=envelope.signatures[0][0], yours=mine
            )
        )
    if not valid and claims.digest != actual:
        raise SignatureError(
            _(
                "The signed statement in {path} was changed: it names SHA-256 {claimed} but "
                "{package} has {actual}, and the signature does not match it."
            ).format(path=signature, claimed=claims.digest, package=package.name, actual=actual)
        )
    if not valid:
        raise SignatureError(
            _(
                "The signature in {path} is not valid for key {key}: the signature was changed "
                "or made over another statement."
            ).format(path=signature, key=mine)
        )
    checks = [_("signature: valid Ed25519 DSSE signature by key {key}").format(key=mine)]
    if claims.digest != actual:
        raise SignatureError(
            _(
                "The package {path} was changed after it was signed: its SHA-256 is {actual}, "
                "the signature vouches for {claimed}."
            ).format(path=package, actual=actual, claimed=claims.digest)
        )
    checks.append(_("package: SHA-256 {digest} is the signed one").format(digest=actual))
    contents = check_package(package, limits=limits, cancel=cancel)
    files = sum(1 for entry in contents.entries if not entry.is_dir) - 1
    checks.append(
        ngettext(
            "files: the archive is safe to open and {n} file matches SHA256SUMS",
            "files: the archive is safe to open and {n} files match SHA256SUMS",
            files,
        ).format(n=files)
    )
    if contents.source_digest != claims.source_digest:
        raise SignatureError(
            _("{path}: its SHA256SUMS is not the one that was signed.").format(path=package)
        )
    if contents.manifest.as_json() != claims.manifest:
        raise SignatureError(
            _("{path}: its plugin.yaml differs from the signed manifest.").format(path=package)
        )
    checks.append(
        _("manifest: {name} {version} is valid and is the signed one").format(
            name=contents.manifest.metadata.name, version=contents.manifest.metadata.version
        )
    )
    return Verification(contents.manifest, mine, checks)


@dataclass(frozen=True)
class _Claims:
    digest: str
    source_digest: str
    manifest: object


def _claims(payload: bytes, source: Path) -> _Claims:
    """What the statement says, or an error that it is not one of ours."""
    try:
        data = json.loads(payload)
        if data["_type"] != STATEMENT_TYPE or data["predicateType"] != PREDICATE_TYPE:
            raise ValueError(data["predicateType"])
        return _Claims(
            str(data["subject"][0]["digest"]["sha256"]),
            str(data["predicate"]["sourceDigest"]["sha256"]),
            data["predicate"]["manifest"],
        )
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise SignatureError(
            _(
                "The signed statement in {path} is damaged or is not a plugin package statement."
            ).format(path=source)
        ) from exc
