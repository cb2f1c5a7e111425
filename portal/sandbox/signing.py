"""The marketplace's own Ed25519 key, which signs exam packages (and what else the marketplace
vouches for); kept next to the sandbox's TLS material, as its other private keys are."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PRIVATE_NAME = "marketplace-signing-key.pem"
PUBLIC_NAME = "marketplace-signing.pub"
"""The client reads this name in its own data dir to trust the embedded sandbox
(portal.exams.library.EMBEDDED_SANDBOX_KEY)."""


def ensure_marketplace_key(folder: Path) -> Ed25519PrivateKey:
    """The key in `folder`, made on first use; its public half is written beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    if private_path.exists():
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey), f"{private_path} holds an Ed25519 key"
    else:
        key = Ed25519PrivateKey.generate()
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        staged = private_path.with_name(PRIVATE_NAME + ".new")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(staged, private_path)
    public = public_pem(key)
    if not public_path.exists() or public_path.read_text("ascii") != public:
        public_path.write_text(public, "ascii")
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    """The public half as PEM (SubjectPublicKeyInfo)."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
