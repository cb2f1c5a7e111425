"""Words for check statuses and certification states, in the user's language."""

from __future__ import annotations

from portal.conformance.results import Status
from portal.db.enums import Certification, RunStatus
from portal.i18n import pgettext


def check_status(value: Status | str) -> str:
    """A check's verdict."""
    return {
        Status.PASS: pgettext("check", "Passed"),
        Status.QUALITY_WARNING: pgettext("check", "Passed, near the limit"),
        Status.FAIL: pgettext("check", "Failed"),
        Status.NOT_SUPPORTED: pgettext("check", "Not supported"),
        Status.ERROR: pgettext("check", "Error"),
    }[Status(value)]


def certification(value: Certification | None) -> str:
    """Where a run stands with the marketplace's certification."""
    if value is None:
        return pgettext("certification", "Not submitted")
    return {
        Certification.SUBMITTED: pgettext("certification", "Submitted, waiting for the verdict"),
        Certification.CERTIFIED: pgettext("certification", "Certified"),
        Certification.FAILED: pgettext("certification", "Not certified: a required check failed"),
        Certification.UNCHALLENGED: pgettext(
            "certification", "Not certifiable: run without a marketplace challenge"
        ),
        Certification.REFUSED: pgettext("certification", "Refused by the marketplace"),
    }[value]


def run_status(value: RunStatus) -> str:
    """A run's overall state (the same words as the Conformance page's)."""
    return {
        RunStatus.RUNNING: pgettext("conformance run", "Running"),
        RunStatus.PASSED: pgettext("conformance run", "Passed"),
        RunStatus.FAILED: pgettext("conformance run", "Failed"),
        RunStatus.ERROR: pgettext("conformance run", "Error"),
        RunStatus.CANCELLED: pgettext("conformance run", "Cancelled"),
    }[value]
