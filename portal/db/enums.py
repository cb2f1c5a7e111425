"""The states records move through; plain enums, so the UI can name them without SQLAlchemy."""

from __future__ import annotations

from enum import StrEnum


class PartnerType(StrEnum):
    """The kinds of partner organisation the marketplace knows."""

    CLOUD = "cloud"
    HARDWARE = "hardware"
    ACADEMIC = "academic"
    REGIONAL = "regional"
    STANDARDS_BODY = "standards_body"
    SYSTEM_INTEGRATOR = "system_integrator"


class ReviewStatus(StrEnum):
    """Where a plugin version stands in the marketplace review."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class OutboxState(StrEnum):
    """Delivery state of one offline action."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good: needs the user's attention
    CONFLICT = "conflict"  # 412: changed on the marketplace since read; the user decides


class RunStatus(StrEnum):
    """Overall state of a conformance run."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"


class Certification(StrEnum):
    """What the marketplace made of a submitted conformance report (None: never submitted)."""

    SUBMITTED = "submitted"  # queued or sent; the marketplace's verdict comes with a sync
    CERTIFIED = "certified"  # challenged, authentic, every required check passed
    FAILED = "failed"  # authentic, but a required check is missing or did not pass
    UNCHALLENGED = "unchallenged"  # authentic, but run without a marketplace challenge
    REFUSED = "refused"  # not accepted: tampered, unknown key, reused or expired challenge


class CheckStatus(StrEnum):
    """Outcome of one conformance check."""

    PASS = "PASS"
    QUALITY_WARNING = "QUALITY_WARNING"
    FAIL = "FAIL"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    ERROR = "ERROR"


class SittingState(StrEnum):
    """Lifecycle of an exam sitting."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    ABANDONED = "abandoned"
