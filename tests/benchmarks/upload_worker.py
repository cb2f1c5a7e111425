"""One side of the upload benchmark, in its own process so its peak RSS is its own.

Prints one JSON line: the seconds the upload took and the process's peak resident memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.auth.oauth import Marketplace, access_token  # noqa: E402
from portal.auth.tokens import TokenStore  # noqa: E402
from portal.cancel import CancelToken, no_progress  # noqa: E402
from portal.sync.upload import upload_file  # noqa: E402

BLOCK = 1024 * 1024


def main() -> int:
    """`upload_worker.py resumable|put URL CA ACCOUNT KEYRING_SERVICE FILE`."""
    mode, url, ca, account, service, file = sys.argv[1:7]
    market = Marketplace(url, Path(ca), name=account)
    tokens = TokenStore(service, market.account)
    path = Path(file)
    started = time.perf_counter()
    if mode == "resumable":
        upload_file(market, tokens, path, progress=no_progress, cancel=CancelToken())
    else:
        _one_put(market, tokens, path)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_mib}))
    return 0


def _one_put(market: Marketplace, tokens: TokenStore, path: Path) -> None:
    """The baseline: one streamed httpx PUT of the whole file."""
    size = path.stat().st_size
    auth = {"Authorization": f"Bearer {access_token(market, tokens)}"}
    with market.client() as client:
        made = client.post(
            "/v1/uploads",
            json={"size": size},
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        made.raise_for_status()

        def blocks() -> object:
            with path.open("rb") as source:
                while block := source.read(BLOCK):
                    yield block

        answer = client.put(
            f"/v1/uploads/{made.json()['id']}",
            content=blocks(),  # type: ignore[arg-type]
            headers={
                **auth,
                "Content-Length": str(size),
                "Content-Type": "application/octet-stream",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        answer.raise_for_status()


if __name__ == "__main__":
    sys.exit(main())
