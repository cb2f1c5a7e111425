"""A run read back from its report.json, so a run kept on this computer can be shown and signed
later, with the very report bytes it was recorded with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from portal.conformance.challenge import Challenge
from portal.conformance.report import REPORT_NAME, canonical_json, report_data
from portal.conformance.results import CheckResult
from portal.conformance.runner import RunOutcome
from portal.conformance.tolerances import load_table
from portal.errors import InputError
from portal.i18n import _

REPORT_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReadBack:
    """A run's outcome from its report, and whether writing it again gives the same bytes (the
    condition for signing it now: another app version or table would change the report)."""

    outcome: RunOutcome
    exact: bool


def read_outcome(folder: Path) -> ReadBack:
    """The outcome `folder`'s report.json was written from; a file that is no report is refused
    in words."""
    path = folder / REPORT_NAME
    try:
        with open(path, "rb") as handle:
            data = handle.read(REPORT_LIMIT + 1)
    except OSError as exc:
        raise InputError(
            _("{path} cannot be read: {problem}").format(path=path, problem=exc.strerror or exc)
        ) from exc
    if len(data) > REPORT_LIMIT:
        raise InputError(_("{path} is too large to be a conformance report.").format(path=path))
    try:
        outcome = _outcome(json.loads(data))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            _("{path} is not a conformance report this app can read ({problem}).").format(
                path=path, problem=exc
            )
        ) from exc
    return ReadBack(outcome, canonical_json(report_data(outcome)) == data)


def _outcome(content: dict[str, Any]) -> RunOutcome:
    """The RunOutcome whose report_data() is `content` (checked by the caller)."""
    challenge, base_seed = None, None
    claimed = content["challenge"]
    if claimed.get("state") == "challenged":
        challenge = Challenge(
            str(claimed["id"]), str(claimed["nonce"]), datetime.fromisoformat(claimed["expiresAt"])
        )
        base_seed = int(claimed["baseSeed"])
    return RunOutcome(
        backend=str(content["backend"]["spec"]),
        profile=str(content["profile"]),
        seed=int(content["seed"]),
        capabilities=dict(content["backend"]["capabilities"]),
        table=load_table(),
        results=[CheckResult.from_json(r) for r in content["results"]],
        started_at=datetime.fromisoformat(content["startedAt"]),
        finished_at=datetime.fromisoformat(content["finishedAt"]),
        challenge=challenge,
        base_seed=base_seed,
    )
