"""Pack and verify benchmark on a 1 GiB plugin tree that the benchmark makes.

The tree: one 700 MiB incompressible weights file plus 20,000 small text files. Baselines in the
same run: `zip -r -q` and `tar -cf - DIR | zstd -3 -T0` of the same tree for packing, and
`sha256sum` over the same files for verifying. Each side runs in its own process, alternating,
`--runs` times; prints medians, the ratios (goals: pack <= 0.7x zip and <= 1.5x tar|zstd,
verify >= 0.8x sha256sum's throughput) and the packer's peak RSS (goal: <= 200 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

WORDS = (
    "tensor backend model plugin marketplace partner region latency throughput inference "
    "gradient kernel quantum neuron spike tolerance report signature manifest package "
).split()


def main() -> int:
    """Make the tree, time every side alternately, print the medians and ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights-mib", type=int, default=700)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--file-kib", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", choices=("pack", "verify"), help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args.worker, [Path(p) for p in args.paths])
    for tool in ("zip", "tar", "zstd", "sha256sum"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed for the baselines (apt-get install zip zstd)")
    work = Path(tempfile.mkdtemp(prefix="aic-pack-bench-"))
    try:
        tree = _make_tree(work / "bench-plugin", args.weights_mib, args.files, args.file_kib)
        return _measure(work, tree, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _make_tree(tree: Path, weights_mib: int, files: int, file_kib: int) -> Path:
    from portal.plugins.templates import create_plugin

    create_plugin("model-serving", tree, name="bench-plugin")
    (tree / "weights").mkdir(exist_ok=True)
    with (tree / "weights" / "model.safetensors").open("wb") as out:
        for _ in range(weights_mib):
            out.write(os.urandom(1 << 20))
    rng = random.Random(7)
    text = " ".join(rng.choice(WORDS) for _ in range(400_000)).encode()
    size = file_kib * 1024
    for n in range(files):
        folder = tree / "data" / f"{n // 1000:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        start = rng.randrange(len(text) - size)
        (folder / f"doc-{n:05d}.txt").write_bytes(text[start : start + size])
    return tree


def _measure(work: Path, tree: Path, runs: int) -> int:
    sides = {
        "pack": [sys.executable, __file__, "--worker", "pack", str(tree), str(work / "out.aicpkg")],
        "zip": ["sh", "-c", f"cd {work} && zip -r -q out.zip {tree.name}"],
        "tar|zstd": [
            "sh",
            "-c",
            f"cd {work} && tar -cf - {tree.name} | zstd -3 -T0 -q -f -o out.tar.zst",
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in (*sides, "verify", "sha256sum")}
    peaks: list[float] = []
    files = [str(p) for p in sorted(tree.rglob("*")) if p.is_file()]
    for _ in range(runs):
        for name, command in sides.items():
            (work / "out.zip").unlink(missing_ok=True)
            seconds, report = _timed(command)
            times[name].append(seconds)
            if report:
                peaks.append(report["peak_rss_mib"])
        verify = [sys.executable, __file__, "--worker", "verify", str(work / "out.aicpkg")]
        times["verify"].append(_timed(verify)[1]["verify_s"])  # the signing before it not timed
        times["sha256sum"].append(_sha256sum(files))
    median = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"  {name:9}: {', '.join(f'{v:.2f}' for v in values)} s")
    zip_ratio, zstd_ratio = median["pack"] / median["zip"], median["pack"] / median["tar|zstd"]
    verify_ratio = median["sha256sum"] / median["verify"]  # throughput: same bytes, inverse time
    print(
        f"pack: {median['pack']:.2f} s; vs zip -r {zip_ratio:.2f}x (goal <= 0.7: "
        f"{_met(zip_ratio <= 0.7)}); vs tar|zstd {zstd_ratio:.2f}x (goal <= 1.5: "
        f"{_met(zstd_ratio <= 1.5)}); peak RSS {max(peaks):.0f} MiB (goal <= 200: "
        f"{_met(max(peaks) <= 200)})"
    )
    print(
        f"verify: {median['verify']:.2f} s vs sha256sum {median['sha256sum']:.2f} s, "
        f"throughput {verify_ratio:.2f}x (goal >= 0.8: {_met(verify_ratio >= 0.8)})"
    )
    return 0


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _timed(command: list[str]) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed:\n{done.stdout}\n{done.stderr}")
    last = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
    return seconds, json.loads(last[0]) if last and last[0].startswith("{") else {}


def _sha256sum(files: list[str]) -> float:
    started = time.perf_counter()
    for at in range(0, len(files), 2000):  # xargs-style batches: one process per 2,000 files
        subprocess.run(["sha256sum", *files[at : at + 2000]], capture_output=True, check=True)
    return time.perf_counter() - started


def _worker(kind: str, paths: list[Path]) -> int:
    """One measured side, in its own process: pack (with its peak RSS), or verify."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from portal.cancel import CancelToken, no_progress
    from portal.plugins.attestation import sign_package, verify_package
    from portal.plugins.pack import pack_plugin

    if kind == "pack":
        pack_plugin(paths[0], paths[1], progress=no_progress, cancel=CancelToken())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"peak_rss_mib": peak}))
        return 0
    key = Ed25519PrivateKey.generate()
    sign_package(paths[0], key)
    started = time.perf_counter()
    verify_package(paths[0], key.public_key())
    print(json.dumps({"verify_s": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
