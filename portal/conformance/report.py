"""A run's reports: canonical report.json, JUnit XML for CI, and a DSSE signature over the JSON."""

from __future__ import annotations

import hashlib
import json
import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal import __version__
from portal.atomic import write_atomically
from portal.conformance.challenge import challenge_json
from portal.conformance.html import render_html
from portal.conformance.results import Status
from portal.conformance.runner import RunOutcome
from portal.conformance.tolerances import ToleranceTable
from portal.conformance.verification import (
    PREDICATE_TYPE,
    SCHEMA,
    VerifiedReport,
    verify_signed_report,
)
from portal.errors import StorageError
from portal.i18n import _
from portal.plugins.dsse import (
    SignatureError,
    key_id,
    parse_envelope,
    sign_envelope,
    signature_valid,
)

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
REPORT_NAME = "report.json"
JUNIT_NAME = "report.junit.xml"
SIGNATURE_NAME = "report.dsse.json"
HTML_NAME = "report.html"


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity; they are kept as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same report always has the same bytes and hash."""
    return json.dumps(
        _finite(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def summary(outcome: RunOutcome) -> dict[str, int]:
    """How many checks ended in each status."""
    counts = Counter(r.status for r in outcome.results)
    return {status.value: counts.get(status, 0) for status in Status}


def report_data(outcome: RunOutcome) -> dict[str, Any]:
    """The report as JSON values."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "aic-portal", "version": __version__},
        "backend": {"spec": outcome.backend, "capabilities": outcome.capabilities},
        "profile": outcome.profile,
        "seed": outcome.seed,
        "challenge": challenge_json(
            outcome.challenge, outcome.seed if outcome.base_seed is None else outcome.base_seed
        ),
        "toleranceTable": _table_json(outcome.table),
        "startedAt": outcome.started_at.isoformat(),
        "finishedAt": outcome.finished_at.isoformat(),
        "summary": summary(outcome),
        "passed": outcome.exit_code == 0,
        "results": [r.as_json() for r in outcome.results],
    }


def _table_json(table: ToleranceTable) -> dict[str, Any]:
    """The table's version and hash, and the waivers that loosened it for this run (if any)."""
    data: dict[str, Any] = {"version": table.version, "sha256": table.sha256}
    if table.waivers:
        data["waivers"] = [waiver.as_json(table) for waiver in table.waivers]
    return data


def junit_xml(outcome: RunOutcome) -> bytes:
    """JUnit XML, one testcase per check, so CI systems show the run like a test suite."""
    counts = summary(outcome)
    suite = ET.Element(
        "testsuite",
        name=f"{outcome.profile} on {outcome.backend}",
        tests=str(len(outcome.results)),
        failures=str(counts[Status.FAIL]),
        errors=str(counts[Status.ERROR]),
        skipped=str(counts[Status.NOT_SUPPORTED]),
        time=f"{sum(r.duration_s for r in outcome.results):.3f}",
        timestamp=outcome.started_at.isoformat(timespec="seconds"),
    )
    for result in outcome.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=outcome.profile,
            name=result.check,
            time=f"{result.duration_s:.3f}",
        )
        detail = json.dumps(_finite(result.measured), sort_keys=True)
        if result.repro is not None:
            detail += "\n\n" + result.repro.snippet
        tag = {Status.FAIL: "failure", Status.ERROR: "error", Status.NOT_SUPPORTED: "skipped"}
        if result.status in tag:
            ET.SubElement(case, tag[result.status], message=result.message).text = detail
        else:
            ET.SubElement(case, "system-out").text = f"{result.status.value}: {result.message}"
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def statement(report: bytes, outcome: RunOutcome) -> dict[str, Any]:
    """The in-toto statement the signature vouches for: the report's digest and its verdict."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": REPORT_NAME, "digest": {"sha256": hashlib.sha256(report).hexdigest()}}
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "tool": {"name": "aic-portal", "version": __version__},
            "backend": outcome.backend,
            "profile": outcome.profile,
            "toleranceTable": {"sha256": outcome.table.sha256},
            "summary": summary(outcome),
        },
    }


def write_reports(
    outcome: RunOutcome, folder: Path, *, key: Ed25519PrivateKey | None
) -> list[Path]:
    """Write report.json, report.junit.xml, report.html and, given a key, report.dsse.json into
    `folder`."""
    report = canonical_json(report_data(outcome))
    files = [
        (folder / REPORT_NAME, report),
        (folder / JUNIT_NAME, junit_xml(outcome)),
        (folder / HTML_NAME, render_html(json.loads(report)).encode("utf-8")),
    ]
    if key is not None:
        envelope = sign_envelope(canonical_json(statement(report, outcome)), key)
        files.append((folder / SIGNATURE_NAME, json.dumps(envelope, indent=2).encode() + b"\n"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in files:
            write_atomically(path, data)
    except OSError as exc:
        raise StorageError(
            _("The report cannot be written to {path}: {problem}").format(
                path=folder, problem=exc.strerror or exc
            )
        ) from exc
    return [path for path, _data in files]


def verify_report(
    report: Path, public_key: Ed25519PublicKey, *, signature: Path | None = None
) -> VerifiedReport:
    """Check the report as the marketplace will: signed by `public_key`, unchanged since, judged
    by the known tolerance table, its challenge's seed; and which required checks fall short."""
    signature = signature or report.with_name(SIGNATURE_NAME)
    try:
        data = report.read_bytes()
        envelope = parse_envelope(signature.read_bytes(), str(signature))
    except OSError as exc:
        raise SignatureError(
            _("{path} cannot be read: {problem}").format(
                path=exc.filename, problem=exc.strerror or exc
            )
        ) from exc
    if signature_valid(envelope, public_key) is None:
        raise SignatureError(
            _("{path} was signed with key {theirs}, not with the key {yours} given.").format(
                path=signature, theirs=envelope.signatures[0][0], yours=key_id(public_key)
            )
        )
    return verify_signed_report(
        data,
        signature.read_bytes(),
        {key_id(public_key): public_key},
        report_name=str(report),
        signature_name=str(signature),
    )
