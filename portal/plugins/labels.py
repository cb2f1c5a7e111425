"""Words for plugin manifests, lint findings and review states, in the user's language."""

from __future__ import annotations

from portal.db.enums import ReviewStatus
from portal.i18n import pgettext
from portal.plugins.findings import Severity
from portal.plugins.manifest import Permission, PluginType, PricingModel


def review_status(value: ReviewStatus) -> str:
    """Where a plugin version stands in the marketplace review."""
    return {
        ReviewStatus.DRAFT: pgettext("review", "Not published"),
        ReviewStatus.SUBMITTED: pgettext("review", "Submitted"),
        ReviewStatus.IN_REVIEW: pgettext("review", "In review"),
        ReviewStatus.APPROVED: pgettext("review", "Approved"),
        ReviewStatus.REJECTED: pgettext("review", "Rejected"),
    }[value]


def severity(value: Severity) -> str:
    """How much a lint finding matters."""
    return {
        Severity.ERROR: pgettext("lint", "Error"),
        Severity.WARNING: pgettext("lint", "Warning"),
    }[value]


def plugin_type(value: PluginType) -> str:
    """What a plugin adds to the platform."""
    return {
        PluginType.MODEL: pgettext("plugin type", "Model"),
        PluginType.CONNECTOR: pgettext("plugin type", "Connector"),
        PluginType.PIPELINE_STEP: pgettext("plugin type", "Pipeline step"),
        PluginType.HARDWARE_BACKEND: pgettext("plugin type", "Hardware backend"),
    }[value]


def pricing_model(value: PricingModel) -> str:
    """How a plugin is charged for."""
    return {
        PricingModel.FREE: pgettext("pricing", "Free"),
        PricingModel.SUBSCRIPTION: pgettext("pricing", "Subscription"),
        PricingModel.USAGE: pgettext("pricing", "Pay per use"),
    }[value]


def permission(value: Permission) -> str:
    """What a plugin asks the platform to allow."""
    return {
        Permission.NETWORK_OUTBOUND: pgettext("permission", "Reach the internet"),
        Permission.STORAGE_READ: pgettext("permission", "Read storage"),
        Permission.STORAGE_WRITE: pgettext("permission", "Write storage"),
        Permission.SECRETS_READ: pgettext("permission", "Read secrets"),
        Permission.HARDWARE_DIRECT: pgettext("permission", "Direct hardware access"),
        Permission.TELEMETRY: pgettext("permission", "Send telemetry"),
    }[value]


def template(name: str) -> tuple[str, str]:
    """A plugin template's title and what it is for."""
    return {
        "model-serving": (
            pgettext("template", "Model serving"),
            pgettext("template", "Serves a machine-learning model through the inference API."),
        ),
        "data-connector": (
            pgettext("template", "Data connector"),
            pgettext("template", "Brings data in from an outside system."),
        ),
        "pipeline-step": (
            pgettext("template", "Pipeline step"),
            pgettext("template", "Transforms data as one step of a pipeline."),
        ),
        "hardware-backend": (
            pgettext("template", "Hardware backend"),
            pgettext("template", "Offers your accelerator to the platform as a compute backend."),
        ),
    }[name]
