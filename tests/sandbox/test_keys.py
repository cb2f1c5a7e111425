"""`/v1/partners/me/keys`: registering a signing key is idempotent and checks its fingerprint."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from portal.plugins.dsse import key_id
from portal.sync.http import marketplace_client
from tests.sandbox.test_isolation import KEYS, bearer, unsafe
from tests.sandbox_server import RunningSandbox


@pytest.fixture
def client(sandbox: RunningSandbox) -> httpx.Client:
    return marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert)


def test_a_key_registers_once_in_either_form_and_must_match_its_id(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    key = Ed25519PrivateKey.generate().public_key()
    raw = base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    first = client.post(
        KEYS, json={"public_key": raw, "key_id": key_id(key)}, headers=unsafe(lagos)
    )
    again = client.post(
        KEYS, json={"public_key": pem, "key_id": key_id(key)}, headers=unsafe(lagos)
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() and first.json()["public_key"] == pem
    assert [k["key_id"] for k in client.get(KEYS, headers=lagos).json()].count(key_id(key)) == 1

    other = Ed25519PrivateKey.generate().public_key()
    wrong = client.post(
        KEYS, json={"public_key": pem, "key_id": key_id(other)}, headers=unsafe(lagos)
    )
    assert wrong.status_code == 422 and "not this key's fingerprint" in wrong.json()["detail"]
    junk = client.post(
        KEYS, json={"public_key": "bm90IGEga2V5", "key_id": key_id(key)}, headers=unsafe(lagos)
    )
    assert junk.status_code == 422 and "neither an Ed25519 PEM" in junk.json()["detail"]
