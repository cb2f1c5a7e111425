"""Upload benchmark: the app's resumable upload of 256 MiB against one streamed httpx PUT.

Both go over TLS on loopback to the same sandbox server (a child process) in this run,
alternating, each side in its own process so that its peak RSS is its own; prints the median
times, the throughput ratio (goal: >= 0.7) and the app's peak RSS (goal: < 150 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402

from portal.auth.oauth import sign_in  # noqa: E402
from portal.auth.tokens import TokenStore  # noqa: E402
from portal.cancel import CancelToken  # noqa: E402
from portal.demo import fill_sandbox_sign_in  # noqa: E402
from portal.paths import DataDir  # noqa: E402
from portal.sync.embedded import EmbeddedSandbox  # noqa: E402
from tests.keyrings import FileKeyring  # noqa: E402

WORKER = Path(__file__).with_name("upload_worker.py")


def main() -> int:
    """Measure both sides alternately; print medians, the ratio and the peak RSS."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    os.environ["AIC_TEST_KEYRING"] = str(root / "keyring.json")
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.keyrings.FileKeyring"
    keyring.set_keyring(FileKeyring())
    payload = root / "payload.bin"
    with payload.open("wb") as out:
        for _ in range(args.mib):
            out.write(os.urandom(1024 * 1024))
    server = EmbeddedSandbox(DataDir(root / "server").ensure())
    market = server.start(cancel=CancelToken())
    results: dict[str, list[dict[str, float]]] = {"resumable": [], "put": []}
    try:
        data = DataDir(root / "client").ensure()
        tokens = TokenStore(data.keyring_service, market.account)
        sign_in(
            market, tokens, open_url=fill_sandbox_sign_in(market), cancel=CancelToken(), timeout=60
        )
        for _run in range(args.runs):
            for mode in ("resumable", "put"):
                done = subprocess.run(
                    [
                        sys.executable,
                        str(WORKER),
                        mode,
                        market.url,
                        str(market.ca_bundle),
                        market.account,
                        data.keyring_service,
                        str(payload),
                    ],
                    check=False,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )
                if done.returncode != 0:
                    raise SystemExit(f"the {mode} upload failed:\n{done.stderr}")
                results[mode].append(json.loads(done.stdout.splitlines()[-1]))
    finally:
        server.stop()
    size_mib = args.mib
    app_s = statistics.median(r["seconds"] for r in results["resumable"])
    put_s = statistics.median(r["seconds"] for r in results["put"])
    peak = max(r["peak_rss_mib"] for r in results["resumable"])
    ratio = (size_mib / app_s) / (size_mib / put_s)
    print(f"upload {size_mib} MiB, runs: {args.runs}")
    for mode, runs in results.items():
        shown = ", ".join(f"{r['seconds']:.2f} s / {r['peak_rss_mib']:.0f} MiB" for r in runs)
        print(f"  {mode:9}: {shown}")
    print(
        f"upload (median): resumable {size_mib / app_s:.0f} MiB/s, "
        f"one PUT {size_mib / put_s:.0f} MiB/s, throughput ratio {ratio:.2f} "
        f"(goal >= 0.7: {'met' if ratio >= 0.7 else 'NOT met'}); "
        f"peak RSS {peak:.0f} MiB (goal < 150: {'met' if peak < 150 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
