"""Sync benchmark: draining N outbox items against a plain loop of one request per item.

Both sides talk to the same sandbox server (a child process, real TLS on loopback) in this run,
alternating, `--runs` times each; prints the median times and their ratio (goal: <= 0.3x).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import keyring

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.auth.oauth import access_token, sign_in  # noqa: E402
from portal.auth.tokens import TokenStore  # noqa: E402
from portal.cancel import CancelToken, no_progress  # noqa: E402
from portal.db.store import Store  # noqa: E402
from portal.demo import fill_sandbox_sign_in  # noqa: E402
from portal.paths import DataDir  # noqa: E402
from portal.sync.embedded import EmbeddedSandbox  # noqa: E402
from portal.sync.engine import sync  # noqa: E402
from portal.sync.outbox import enqueue  # noqa: E402
from tests.keyrings import MemoryKeyring  # noqa: E402

PLUGINS = "/v1/marketplace/plugins"


def main() -> int:
    """Measure both sides alternately; print medians and the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    root = Path(tempfile.mkdtemp())
    server = EmbeddedSandbox(DataDir(root / "server").ensure())
    market = server.start(cancel=CancelToken())
    try:
        data = DataDir(root / "client").ensure()
        tokens = TokenStore(data.keyring_service, market.account)
        sign_in(
            market, tokens, open_url=fill_sandbox_sign_in(market), cancel=CancelToken(), timeout=60
        )
        app, plain = [], []
        for run in range(args.runs):
            names = [f"b{run}-{n}-{uuid.uuid4().hex[:6]}" for n in range(args.items)]
            with Store.open(data) as store:
                with store.session() as session, session.begin():
                    for name in names:
                        enqueue(
                            session,
                            resource=f"plugin/{name}",
                            method="POST",
                            path=PLUGINS,
                            body={"name": name, "display_name": name},
                        )
                started = time.perf_counter()
                report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
                app.append(time.perf_counter() - started)
                assert report.delivered == args.items, report
            headers = {"Authorization": f"Bearer {access_token(market, tokens)}"}
            with market.client() as client:
                started = time.perf_counter()
                for name in names:
                    answer = client.post(
                        PLUGINS,
                        json={"name": f"p{name}", "display_name": name},
                        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                    )
                    assert answer.status_code == 201, answer.text
                plain.append(time.perf_counter() - started)
    finally:
        server.stop()
    app_s, plain_s = statistics.median(app), statistics.median(plain)
    ratio = app_s / plain_s
    print(f"items: {args.items}, runs: {args.runs}")
    print(f"  outbox sync s: {', '.join(f'{s:.2f}' for s in app)}")
    print(f"  plain loop  s: {', '.join(f'{s:.2f}' for s in plain)}")
    print(
        f"sync (median): outbox {app_s:.2f} s, plain loop {plain_s:.2f} s, ratio {ratio:.2f} "
        f"(goal <= 0.3: {'met' if ratio <= 0.3 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
