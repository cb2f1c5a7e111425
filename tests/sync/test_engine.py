"""The outbox against a real sandbox: exactly once through faults, order per resource, conflicts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from portal.auth.oauth import Marketplace, access_token, sign_in
from portal.auth.tokens import TokenStore
from portal.cancel import CancelToken, no_progress
from portal.db.enums import OutboxState
from portal.db.models import OutboxItem
from portal.db.store import Store
from portal.paths import DataDir
from portal.sync.engine import sync
from portal.sync.outbox import discard_item, enqueue, keep_mine, retry_item
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox, fake_browser, running_sandbox

PLUGINS = "/v1/marketplace/plugins"
NO_UPLOADS = {"package_upload": "missing", "signature_upload": "missing"}


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


def signed_in(
    sandbox: RunningSandbox, data_dir: DataDir, email: str
) -> tuple[Marketplace, TokenStore]:
    market = Marketplace(sandbox.url, sandbox.tls.ca_cert)
    tokens = TokenStore(data_dir.keyring_service, market.account)
    sign_in(
        market,
        tokens,
        open_url=fake_browser(sandbox, email=email),
        cancel=CancelToken(),
        timeout=20,
    )
    return market, tokens


def server_plugins(market: Marketplace, tokens: TokenStore) -> list[dict[str, object]]:
    """The organisation's listings as the server has them (asked again past injected faults)."""
    headers = {"Authorization": f"Bearer {access_token(market, tokens)}"}
    with market.client() as client:
        for _try in range(20):
            try:
                answer = client.get(PLUGINS, headers=headers)
            except httpx.TransportError:
                continue
            if answer.status_code == 200:
                return answer.json()
    raise AssertionError("the listing could not be read")


def queue_plugins(store: Store, names: list[str], *, description: str = "") -> None:
    with store.session() as session, session.begin():
        for name in names:
            enqueue(
                session,
                resource=f"plugin/{name}",
                method="POST",
                path=PLUGINS,
                body={"name": name, "display_name": name.title(), "description": description},
            )


def drain(
    store: Store, market: Marketplace, tokens: TokenStore, *, deadline_s: float = 120
) -> None:
    """Run sync until nothing is waiting, honouring each item's not-before time."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
        with store.session() as session:
            waiting = session.scalars(
                select(OutboxItem).where(
                    OutboxItem.state.in_((OutboxState.PENDING, OutboxState.IN_FLIGHT))
                )
            ).all()
        if not waiting:
            return
        soonest = min((i.not_before for i in waiting if i.not_before), default=datetime.now(UTC))
        time.sleep(max(0.0, (soonest - datetime.now(UTC)).total_seconds()))
    raise AssertionError("the outbox did not drain in time")


def test_a_thousand_items_through_chaos_arrive_exactly_once(
    tmp_path: Path, database: str, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    with running_sandbox(
        tmp_path / "chaotic",
        database=database,
        chaos_rate=0.2,
        chaos_retry_after=0,
        chaos_slow_seconds=0.02,
    ) as chaotic:
        market, tokens = signed_in(chaotic, data_dir, "tunde@lagos-ai.example")
        names = [f"plugin-{n:04d}" for n in range(1000)]
        queue_plugins(store, names[:900])
        queue_plugins(store, names[900:], description="d" * 4500)  # too big for a batch
        drain(store, market, tokens)
        with store.session() as session:
            states = session.scalars(select(OutboxItem.state)).all()
        assert set(states) == {OutboxState.DELIVERED}
        listed = [p["name"] for p in server_plugins(market, tokens)]
    assert sorted(listed) == names  # every one there, none twice


def test_items_of_one_resource_keep_their_order_and_a_refusal_needs_attention(
    sandbox: RunningSandbox, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "lena@qubitforge.example")
    with store.session() as session, session.begin():
        enqueue(
            session,
            resource="plugin/order",
            method="POST",
            path=f"{PLUGINS}/order/versions",
            body={"version": "1.0.0", **NO_UPLOADS},
        )
        enqueue(
            session,
            resource="plugin/order",
            method="POST",
            path=PLUGINS,
            body={"name": "order", "display_name": "Order"},
        )
        enqueue(
            session,
            resource="plugin/other",
            method="POST",
            path=PLUGINS,
            body={"name": "other", "display_name": "Other"},
        )
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert (report.delivered, report.needs_attention) == (1, 1)
    with store.session() as session:
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert [i.state for i in items] == [
        OutboxState.FAILED,
        OutboxState.PENDING,
        OutboxState.DELIVERED,
    ]
    assert items[0].last_error == "HTTP 404: Your organisation has no upload 'missing'."
    listed = {p["name"] for p in server_plugins(market, tokens)}
    assert "other" in listed and "order" not in listed


def test_a_stale_write_becomes_a_conflict(
    sandbox: RunningSandbox, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "sari@jakarta-edge.example")
    queue_plugins(store, ["edited"])
    sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    with store.session() as session, session.begin():
        for text in ("first", "second"):
            enqueue(
                session,
                resource="plugin/edited",
                method="PATCH",
                path=f"{PLUGINS}/edited",
                body={"description": text},
                if_match=f'"stale-{text}"',
            )
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert report.conflicts == 1
    with store.session() as session:
        items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert [i.state for i in items] == [
        OutboxState.DELIVERED,
        OutboxState.CONFLICT,
        OutboxState.PENDING,
    ]
    first, second = items[1].id, items[2].id

    assert retry_item(store, first) is False  # the same stale write would only conflict again
    assert keep_mine(store, first) is True  # written over the marketplace's version
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert (report.delivered, report.conflicts) == (1, 1)  # and the next one conflicts in turn
    assert discard_item(store, second) is True  # keep the marketplace's version this time
    assert keep_mine(store, second) is False
    edited = [p for p in server_plugins(market, tokens) if p["name"] == "edited"]
    assert edited[0]["description"] == "first"


def test_small_items_travel_in_batches_and_big_ones_alone(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = record_requests(monkeypatch)
    market, tokens = signed_in(sandbox, data_dir, "tunde@lagos-ai.example")
    names = [f"batched-{n:03d}" for n in range(150)]
    queue_plugins(store, names)
    with store.session() as session, session.begin():
        enqueue(
            session,
            resource="plugin/wordy",
            method="POST",
            path=PLUGINS,
            body={"name": "wordy", "display_name": "Wordy", "description": "w" * 4500},
        )
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert report.delivered == 151
    writes = [path for method, path in sent if method == "POST" and path.startswith("/v1/")]
    assert writes == ["/v1/batch", "/v1/batch", PLUGINS]  # 100 + 50 small, then the big one
    listed = {p["name"] for p in server_plugins(market, tokens)}
    assert {*names, "wordy"} <= listed


def test_without_batches_on_the_marketplace_items_go_one_by_one(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import portal.sync.engine

    monkeypatch.setattr(portal.sync.engine, "BATCH_PATH", "/v1/no-batches-here")
    sent = record_requests(monkeypatch)
    market, tokens = signed_in(sandbox, data_dir, "sari@jakarta-edge.example")
    queue_plugins(store, ["alone-1", "alone-2", "alone-3"])
    assert sync(store, market, tokens, progress=no_progress, cancel=CancelToken()).delivered == 3
    writes = [path for method, path in sent if method == "POST" and path.startswith("/v1/")]
    assert writes == ["/v1/no-batches-here", PLUGINS, PLUGINS, PLUGINS]


def test_what_cannot_go_in_a_batch_is_sent_alone(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hashlib
    import uuid

    sent = record_requests(monkeypatch)
    market, tokens = signed_in(sandbox, data_dir, "ada@lagos-ai.example")
    with market.client() as client:
        upload = client.post(
            "/v1/uploads",
            json={"size": 0},
            headers={
                "Authorization": f"Bearer {access_token(market, tokens)}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        ).json()["id"]
    queue_plugins(store, ["beside-the-upload"])
    with store.session() as session, session.begin():
        enqueue(
            session,
            resource=f"upload/{upload}",
            method="POST",
            path=f"/v1/uploads/{upload}/finish",
            body={"sha256": hashlib.sha256(b"").hexdigest()},
        )
    assert sync(store, market, tokens, progress=no_progress, cancel=CancelToken()).delivered == 2
    writes = [path for method, path in sent if method == "POST" and path.startswith("/v1/b")]
    assert writes == ["/v1/batch"]
    assert ("POST", f"/v1/uploads/{upload}/finish") in sent


def test_one_sync_at_a_time_per_data_dir(
    sandbox: RunningSandbox, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    from filelock import FileLock

    from portal.errors import PortalError

    market, tokens = signed_in(sandbox, data_dir, "ada@lagos-ai.example")
    queue_plugins(store, ["only-once"])
    with FileLock(data_dir.root / "sync.lock"), pytest.raises(PortalError, match="Another sync"):
        sync(store, market, tokens, progress=no_progress, cancel=CancelToken())  # e.g. the CLI
    with store.session() as session:
        assert session.scalars(select(OutboxItem.state)).all() == [OutboxState.PENDING]
    assert sync(store, market, tokens, progress=no_progress, cancel=CancelToken()).delivered == 1


def test_an_item_being_sent_cannot_be_discarded(data_dir: DataDir, store: Store) -> None:
    queue_plugins(store, ["in-flight"])
    with store.session() as session, session.begin():
        item = session.scalars(select(OutboxItem)).one()
        item.state = OutboxState.IN_FLIGHT
        item_id = item.id
    assert discard_item(store, item_id) is False
    with store.session() as session:
        assert session.get(OutboxItem, item_id) is not None


def test_an_item_queued_after_another_waits_for_it(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = record_requests(monkeypatch)
    market, tokens = signed_in(sandbox, data_dir, "lena@qubitforge.example")
    with store.session() as session, session.begin():
        first = enqueue(
            session,
            resource="plugin/first-of-two",
            method="POST",
            path=PLUGINS,
            body={"name": "first-of-two", "display_name": "First"},
        )
        enqueue(
            session,
            resource="plugin/second-of-two",
            method="PATCH",
            path=f"{PLUGINS}/first-of-two",
            body={"description": "needs the first"},
            after=first,
        )
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    # one run: the second went in a later group than the first, not in the same batch
    assert (report.delivered, report.needs_attention) == (1, 1)  # 428: no If-Match, as sent
    writes = [(m, p) for m, p in sent if p.startswith("/v1/") and m in ("POST", "PATCH")]
    assert writes == [("POST", PLUGINS), ("PATCH", f"{PLUGINS}/first-of-two")]


def test_a_garbled_batch_answer_falls_back_to_one_by_one(
    sandbox: RunningSandbox,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = httpx.Response.json

    def garbled(response: httpx.Response, **kw: object) -> object:
        body = original(response, **kw)
        if response.request.url.path == "/v1/batch":
            return {"responses": body["responses"][:1]}  # one answer for two requests
        return body

    monkeypatch.setattr(httpx.Response, "json", garbled)
    market, tokens = signed_in(sandbox, data_dir, "sari@jakarta-edge.example")
    queue_plugins(store, ["garbled-1", "garbled-2"])
    assert sync(store, market, tokens, progress=no_progress, cancel=CancelToken()).delivered == 2
    listed = [p["name"] for p in server_plugins(market, tokens)]
    assert listed.count("garbled-1") == 1 and listed.count("garbled-2") == 1  # replayed, not twice


def record_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every request the app's marketplace clients send from now on, as (method, path)."""
    sent: list[tuple[str, str]] = []
    original = Marketplace.client

    def client(market: Marketplace) -> httpx.Client:
        made = original(market)
        made.event_hooks["request"].append(lambda r: sent.append((r.method, r.url.path)))
        return made

    monkeypatch.setattr(Marketplace, "client", client)
    return sent


def test_exactly_once_survives_a_killed_client(
    tmp_path: Path,
    database: str,
    data_dir: DataDir,
    store: Store,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGKILL the `aic-portal sync` process mid-run, run it again: each item arrives once."""
    with running_sandbox(
        tmp_path / "slow",
        database=database,
        chaos_rate=0.3,
        chaos_retry_after=0,
        chaos_slow_seconds=0.02,
    ) as server:
        market, tokens = signed_in(server, data_dir, "ada@lagos-ai.example")
        keyring_file = tmp_path / "keyring.json"
        env = {
            **os.environ,
            "PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
            "AIC_TEST_KEYRING": str(keyring_file),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        monkeypatch.setenv("AIC_TEST_KEYRING", str(keyring_file))
        from tests.keyrings import FileKeyring

        shared = FileKeyring()
        for (service, account), secret in memory_keyring.entries.items():
            shared.set_password(service, account, secret)
        (data_dir.root / "settings.json").write_text(
            f'{{"marketplace_url": "{server.url}", "ca_bundle": "{server.tls.ca_cert}"}}'
        )
        names = [f"killed-{n:03d}" for n in range(600)]
        queue_plugins(store, names)
        command = [sys.executable, "-m", "portal.cli", "--data-dir", str(data_dir.root), "sync"]
        child = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with store.session() as session:
                delivered = session.scalars(
                    select(OutboxItem.id).where(OutboxItem.state == OutboxState.DELIVERED)
                ).all()
            if len(delivered) >= 50:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert 0 < len(delivered) < len(names), "the kill must land mid-run"
        drain(store, market, tokens)
        listed = [p["name"] for p in server_plugins(market, tokens)]
    assert sorted(listed) == names


def test_items_wait_for_the_organisation_they_were_queued_for(
    sandbox: RunningSandbox, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    from portal.sync.profile import fetch_profile, save_profile

    market, tokens = signed_in(sandbox, data_dir, "tunde@lagos-ai.example")
    save_profile(store, fetch_profile(market, tokens))
    queue_plugins(store, ["lagos-only"])
    signed_in(sandbox, data_dir, "sari@jakarta-edge.example")  # someone else signs in here
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert report.delivered == 0
    assert "lagos-only" not in {p["name"] for p in server_plugins(market, tokens)}

    signed_in(sandbox, data_dir, "tunde@lagos-ai.example")
    assert sync(store, market, tokens, progress=no_progress, cancel=CancelToken()).delivered == 1
    assert "lagos-only" in {p["name"] for p in server_plugins(market, tokens)}


def test_a_refused_item_keeps_blocking_its_resource_on_later_runs(
    sandbox: RunningSandbox, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "lena@qubitforge.example")
    with store.session() as session, session.begin():
        enqueue(
            session,
            resource="plugin/blocked",
            method="POST",
            path=PLUGINS,
            body={"name": "Not A DNS Label", "display_name": "x"},
        )
        enqueue(
            session,
            resource="plugin/blocked",
            method="POST",
            path=f"{PLUGINS}/x/versions",
            body={"version": "1.0.0", **NO_UPLOADS},
        )
    for _run in range(2):
        sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    with store.session() as session:
        states = session.scalars(select(OutboxItem.state).order_by(OutboxItem.id)).all()
    assert states == [OutboxState.FAILED, OutboxState.PENDING]


def test_two_threads_needing_a_refresh_do_not_sign_out(
    sandbox: RunningSandbox, data_dir: DataDir, memory_keyring: MemoryKeyring
) -> None:
    import threading
    from dataclasses import replace

    market, tokens = signed_in(sandbox, data_dir, "ada@lagos-ai.example")
    stored = tokens.load()
    assert stored is not None
    tokens.save(replace(stored, expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    got: list[str] = []
    workers = [
        threading.Thread(target=lambda: got.append(access_token(market, tokens))) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert len(got) == 4 and len(set(got)) == 1
    assert server_plugins(market, tokens) is not None


def test_a_stuck_item_is_sent_again_or_discarded(
    sandbox: RunningSandbox, data_dir: DataDir, store: Store, memory_keyring: MemoryKeyring
) -> None:
    market, tokens = signed_in(sandbox, data_dir, "lena@qubitforge.example")
    with store.session() as session, session.begin():
        first = enqueue(
            session,
            resource="plugin/again",
            method="POST",
            path=f"{PLUGINS}/again/versions",
            body={"version": "1.0.0", **NO_UPLOADS},
        )
        enqueue(
            session,
            resource="plugin/again",
            method="POST",
            path=PLUGINS,
            body={"name": "again", "display_name": "Again"},
        )
    sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert retry_item(store, first.id) is True
    assert retry_item(store, first.id) is False  # already waiting
    assert discard_item(store, first.id) is True
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    assert report.delivered == 1
    assert discard_item(store, first.id) is False


def test_queued_actions_are_described_in_words() -> None:
    from portal.sync.outbox import describe

    plugins = "/v1/marketplace/plugins"
    assert describe({"method": "POST", "path": plugins, "body": {"name": "ocr"}}) == (
        "List the plugin ocr"
    )
    assert describe({"method": "PATCH", "path": f"{plugins}/ocr", "body": {}}) == (
        "Change the listing of ocr"
    )
    version = {"method": "POST", "path": f"{plugins}/ocr/versions", "body": {"version": "1.2.0"}}
    assert describe(version) == "Submit version 1.2.0 of ocr"
    assert describe({**version, "body": None}) == "Submit version ? of ocr"
    assert describe({"method": "DELETE", "path": "/v1/other"}) == "DELETE /v1/other"
