"""Words for the states the store records, in the user's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.db.enums import Certification, OutboxState, PartnerType, RunStatus
from portal.i18n import pgettext

if TYPE_CHECKING:
    from portal.conformance.results import Status


def partner_type(value: PartnerType) -> str:
    """A partner organisation's type."""
    return {
        PartnerType.CLOUD: pgettext("partner type", "Cloud provider"),
        PartnerType.HARDWARE: pgettext("partner type", "Hardware vendor"),
        PartnerType.ACADEMIC: pgettext("partner type", "Academic"),
        PartnerType.REGIONAL: pgettext("partner type", "Regional partner"),
        PartnerType.STANDARDS_BODY: pgettext("partner type", "Standards body"),
        PartnerType.SYSTEM_INTEGRATOR: pgettext("partner type", "System integrator"),
    }[value]


def outbox_state(value: OutboxState) -> str:
    """Where one queued action stands."""
    return {
        OutboxState.PENDING: pgettext("outbox", "Waiting"),
        OutboxState.IN_FLIGHT: pgettext("outbox", "Sending"),
        OutboxState.DELIVERED: pgettext("outbox", "Delivered"),
        OutboxState.FAILED: pgettext("outbox", "Needs attention"),
        OutboxState.CONFLICT: pgettext("outbox", "Conflict"),
    }[value]


def run_status(value: RunStatus) -> str:
    """The overall state of a conformance run."""
    return {
        RunStatus.RUNNING: pgettext("conformance run", "Running"),
        RunStatus.PASSED: pgettext("conformance run", "Passed"),
        RunStatus.FAILED: pgettext("conformance run", "Failed"),
        RunStatus.ERROR: pgettext("conformance run", "Error"),
        RunStatus.CANCELLED: pgettext("conformance run", "Cancelled"),
    }[value]


def check_status(value: Status) -> str:
    """The verdict of one conformance check."""
    return {
        "PASS": pgettext("conformance check", "Passed"),
        "QUALITY_WARNING": pgettext("conformance check", "Passed with a warning"),
        "FAIL": pgettext("conformance check", "Failed"),
        "NOT_SUPPORTED": pgettext("conformance check", "Not supported"),
        "ERROR": pgettext("conformance check", "Error"),
    }[value.value]


def certification(value: Certification | None) -> str:
    """What the marketplace made of a run's submitted report."""
    if value is None:
        return pgettext("certification", "Not submitted")
    return {
        Certification.SUBMITTED: pgettext("certification", "Submitted"),
        Certification.CERTIFIED: pgettext("certification", "Certified"),
        Certification.FAILED: pgettext("certification", "Not certified"),
        Certification.UNCHALLENGED: pgettext("certification", "Unchallenged"),
        Certification.REFUSED: pgettext("certification", "Refused"),
    }[value]
