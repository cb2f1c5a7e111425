"""Publishing against the real sandbox: keygen, pack --sign, publish, sync, review status; what
the marketplace refuses; an upload killed half way continues after a restart."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

import portal.sync.upload
from portal.auth.oauth import Marketplace, access_token
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, no_progress
from portal.db.enums import OutboxState, ReviewStatus
from portal.db.models import OutboxItem
from portal.db.store import Store
from portal.errors import InputError
from portal.paths import DataDir
from portal.plugins.attestation import file_sha256, sign_package, signature_path
from portal.plugins.dsse import SignatureError
from portal.plugins.keys import generate_signing_key, load_signing_key
from portal.plugins.pack import pack_plugin
from portal.plugins.publish import (
    list_versions,
    queue_key_registration,
    queue_publish,
    refresh_review_status,
)
from portal.plugins.templates import create_plugin
from portal.sync.engine import sync
from portal.sync.outbox import FileToUpload, enqueue
from tests.keyrings import FileKeyring, MemoryKeyring
from tests.sandbox_server import RunningSandbox
from tests.sync.test_engine import PLUGINS, drain, record_requests, signed_in
from tests.test_cli import aic


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


def unique(prefix: str) -> str:
    """A plugin name no other test on the shared sandbox uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def packed(
    root: Path,
    name: str,
    key: Ed25519PrivateKey,
    *,
    change: Callable[[Path], object] = lambda _folder: None,
) -> Path:
    """Make plugin `name` 0.1.0 from a template, pack it into a folder of its own, sign it."""
    folder = root / "src" / name
    create_plugin("model-serving", folder)
    change(folder)
    out = root / "dist" / name
    out.mkdir(parents=True)
    made = pack_plugin(
        folder, out / f"{name}-0.1.0.aicpkg", progress=no_progress, cancel=CancelToken()
    )
    sign_package(made.path, key)
    return made.path


def submit_unchecked(store: Store, name: str, package: Path) -> int:
    """Queue a publish as a modified client could, skipping this app's own checks."""
    signature = signature_path(package)
    with store.session() as session, session.begin():
        item = enqueue(
            session,
            resource=f"plugin/{name}",
            method="POST",
            path=f"{PLUGINS}/{name}/versions",
            body={"version": "0.1.0"},
            uploads={
                "package_upload": FileToUpload(package, file_sha256(package)),
                "signature_upload": FileToUpload(signature, file_sha256(signature)),
            },
        )
        session.flush()
        return item.id


def marketplace_get(market: Marketplace, tokens: TokenStore, path: str) -> object:
    with market.client() as client:
        answer = client.get(
            path, headers={"Authorization": f"Bearer {access_token(market, tokens)}"}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_publish_then_review_status_follows_each_sync(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "ada@lagos-ai.example")
    made = generate_signing_key(data_dir)
    queue_key_registration(store, data_dir)
    package = packed(tmp_path, unique("vision"), load_signing_key(data_dir))

    queued = queue_publish(store, data_dir, package)
    assert (queued.sha256, queued.key_id) == (file_sha256(package), made.key_id)
    [waiting] = list_versions(store, name=queued.name)
    assert (waiting.review_status, waiting.delivery) == (
        ReviewStatus.SUBMITTED,
        OutboxState.PENDING,
    )
    with pytest.raises(InputError, match="already queued or sent"):
        queue_publish(store, data_dir, package)

    sent = record_requests(monkeypatch)
    drain(store, market, tokens)
    [shown] = list_versions(store, name=queued.name)
    assert (shown.review_status, shown.delivery) == (ReviewStatus.IN_REVIEW, OutboxState.DELIVERED)
    assert shown.published_at is not None
    assert ("POST", f"{PLUGINS}/{queued.name}/versions") in sent
    assert sent.count(("POST", "/v1/uploads")) == 2  # the package and its signature

    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert report.reviews_changed == 1
    assert list_versions(store, name=queued.name)[0].review_status == ReviewStatus.APPROVED
    assert refresh_review_status(store, market, tokens) == 0  # nothing waits for a review now

    listing = marketplace_get(market, tokens, f"{PLUGINS}/{queued.name}")
    assert isinstance(listing, dict)
    assert listing["display_name"] == queued.name.replace("-", " ").capitalize()  # its manifest's
    assert [(v["version"], v["sha256"]) for v in listing["versions"]] == [("0.1.0", queued.sha256)]
    keys = marketplace_get(market, tokens, "/v1/partners/me/keys")
    assert made.key_id in [k["key_id"] for k in keys]  # type: ignore[union-attr]
    with pytest.raises(InputError, match="already published"):
        queue_publish(store, data_dir, package)


def test_the_app_refuses_an_unsigned_or_foreign_package(
    data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    stranger = packed(tmp_path, "stranger", Ed25519PrivateKey.generate())
    with pytest.raises(InputError, match="plugin keygen"):
        queue_publish(store, data_dir, stranger)
    generate_signing_key(data_dir)
    with pytest.raises(SignatureError, match="was signed with key"):
        queue_publish(store, data_dir, stranger)
    signature_path(stranger).unlink()
    with pytest.raises(
        InputError, match=r"is not signed: there is no stranger-0\.1\.0\.aicpkg\.sig"
    ):
        queue_publish(store, data_dir, stranger)
    with store.session() as session:
        assert session.scalars(select(OutboxItem)).all() == []


def test_the_marketplace_refuses_what_does_not_hold_and_other_plugins_still_go(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "lena@qubitforge.example")
    generate_signing_key(data_dir)
    key = load_signing_key(data_dir)
    queue_key_registration(store, data_dir)
    good = packed(tmp_path, unique("good"), key)
    queue_publish(store, data_dir, good)
    refused: dict[int, str] = {}

    tampered = packed(tmp_path, unique("tampered"), key)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    refused[submit_unchecked(store, tampered.parent.name, tampered)] = "changed after it was signed"

    forged = packed(tmp_path, unique("forged"), key)
    envelope = json.loads(signature_path(forged).read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["manifest"]["metadata"]["publisher"] = "Someone Else"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    signature_path(forged).write_text(json.dumps(envelope))
    refused[submit_unchecked(store, forged.parent.name, forged)] = "is not valid for key"

    foreign = packed(tmp_path, unique("foreign"), Ed25519PrivateKey.generate())
    refused[submit_unchecked(store, foreign.parent.name, foreign)] = "has not registered"

    unpinned = packed(
        tmp_path,
        unique("unpinned"),
        key,
        change=lambda folder: (folder / "requirements.txt").write_text("numpy\n"),
    )
    refused[submit_unchecked(store, unpinned.parent.name, unpinned)] = (
        "lint error(s): AIC013 requirements.txt:1"
    )

    def nul_in_name(folder: Path) -> None:
        manifest = folder / "plugin.yaml"
        text = manifest.read_text().replace("displayName: ", 'displayName: "A\\0B" # ', 1)
        manifest.write_text(text)

    nul = packed(tmp_path, unique("nul"), key, change=nul_in_name)
    refused[submit_unchecked(store, nul.parent.name, nul)] = "cannot be a listing"

    named = packed(tmp_path, unique("named"), key)
    refused[submit_unchecked(store, unique("renamed"), named)] = (
        f"holds the plugin {named.parent.name!r}, not"
    )
    refused[submit_unchecked(store, good.parent.name, good)] = "was already submitted"

    gone = packed(tmp_path, unique("gone"), key)
    refused[queue_publish(store, data_dir, gone).outbox_item_id] = "cannot be read"
    gone.unlink()
    edited = packed(tmp_path, unique("edited"), key)
    refused[queue_publish(store, data_dir, edited).outbox_item_id] = "changed after it was queued"
    signature_path(edited).write_text(signature_path(edited).read_text() + " ")

    drain(store, market, tokens)
    with store.session() as session:
        items = {item.id: item for item in session.scalars(select(OutboxItem))}
    for item_id, words in refused.items():
        assert items[item_id].state == OutboxState.FAILED, items[item_id].last_error
        assert words in (items[item_id].last_error or ""), items[item_id].last_error
    [published] = list_versions(store, name=good.parent.name)
    assert published.review_status == ReviewStatus.IN_REVIEW
    assert [s.delivery for s in list_versions(store, name=gone.parent.name)] == [OutboxState.FAILED]


CHILD = """
import sys, time
from pathlib import Path
import portal.sync.upload
from portal.auth.oauth import Marketplace
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken
from portal.db.store import Store
from portal.paths import DataDir
from portal.sync.engine import sync

root, url, ca, chunk = sys.argv[1:5]
portal.sync.upload.CHUNK = int(chunk)
data, market = DataDir(Path(root)), Marketplace(url, Path(ca))

def progress(done, total, message):
    if message.startswith("Uploading") and total and done >= total // 2:
        print("half", flush=True)
        time.sleep(120)  # killed here

with Store.open(data) as store:
    tokens = TokenStore(data.keyring_service, market.account)
    sync(store, market, tokens, progress=progress, cancel=CancelToken())
"""
CHUNK = 512


def test_a_publish_killed_half_way_through_its_upload_continues_after_a_restart(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "sari@jakarta-edge.example")
    generate_signing_key(data_dir)
    package = packed(tmp_path, unique("resumed"), load_signing_key(data_dir))
    size = package.stat().st_size
    assert size > 4 * CHUNK
    queued = queue_publish(store, data_dir, package)
    monkeypatch.setenv("AIC_TEST_KEYRING", str(tmp_path / "keyring.json"))
    shared = FileKeyring()
    for (service, account), secret in memory_keyring.entries.items():
        shared.set_password(service, account, secret)
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    args = [str(data_dir.root), sandbox.url, str(sandbox.tls.ca_cert), str(CHUNK)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "half\n"
        with store.session() as session:
            item = session.get(OutboxItem, queued.outbox_item_id)
            assert item is not None and item.state == OutboxState.IN_FLIGHT
            upload_id = item.payload["uploads"]["package_upload"]["id"]
    finally:
        child.kill()
        child.wait(10)
    assert upload_id
    state = marketplace_get(market, tokens, f"/v1/uploads/{upload_id}")
    assert isinstance(state, dict)
    arrived = int(state["offset"])
    # killed about half way: progress counts the bytes of the chunk on its way, not yet arrived
    assert size // 2 - CHUNK <= arrived < size

    monkeypatch.setattr(portal.sync.upload, "CHUNK", CHUNK)
    sent = record_requests(monkeypatch)
    drain(store, market, tokens)
    left = -(-(size - arrived) // CHUNK)
    assert sent.count(("PATCH", f"/v1/uploads/{upload_id}")) <= left + 1
    assert sent.count(("POST", "/v1/uploads")) == 1  # only the signature's starts afresh
    listing = marketplace_get(market, tokens, f"{PLUGINS}/{queued.name}")
    assert isinstance(listing, dict)
    assert [(v["version"], v["sha256"]) for v in listing["versions"]] == [("0.1.0", queued.sha256)]


def test_keygen_pack_publish_and_status_from_the_command_line(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signed_in(sandbox, data_dir, "tunde@lagos-ai.example")
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("AIC_TEST_KEYRING", str(keyring_file))
    shared = FileKeyring()
    for (service, account), secret in memory_keyring.entries.items():
        shared.set_password(service, account, secret)
    settings = {"marketplace_url": sandbox.url, "ca_bundle": str(sandbox.tls.ca_cert)}
    data_dir.settings.write_text(json.dumps(settings))
    env = {"PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring"}
    data = ["--data-dir", str(data_dir.root)]
    name = unique("cli")
    folder = tmp_path / name
    assert aic(*data, "plugin", "new", "--template", "pipeline-step", str(folder)).returncode == 0
    done = aic(*data, "plugin", "keygen", env=env)
    assert "registered with the marketplace at the next sync" in done.stdout, done.stderr
    package = tmp_path / f"{name}-0.1.0.aicpkg"
    done = aic(*data, "plugin", "pack", str(folder), "-o", str(package), "--sign", env=env)
    assert done.returncode == 0, done.stderr

    done = aic(*data, "plugin", "publish", str(package), env=env)
    assert done.returncode == 0, done.stderr
    assert f"Queued {name} 0.1.0 for publishing" in done.stdout
    assert "Delivered 2;" in done.stdout
    assert f"{name} 0.1.0: review status In review" in done.stdout
    done = aic(*data, "plugin", "publish", "--no-sync", str(package), env=env)
    assert done.returncode == 1 and "is already published" in done.stderr
    assert aic(*data, "sync", env=env).returncode == 0
    done = aic(*data, "plugin", "status", name, env=env)
    assert done.stdout.startswith(f"{name} 0.1.0: review status Approved (submitted ")
