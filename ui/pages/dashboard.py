"""The first page: the partner organisation and how many of each record this computer holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from portal.i18n import _, format_date, format_list, format_number, format_percent, ngettext
from ui.labels import partner_type
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import Card, RecordTable, heading

if TYPE_CHECKING:
    from portal.db.store import Store
    from portal.exams.catalog import HeldCertificate
    from portal.overview import Overview


class DashboardPage(Page):
    """Numbers straight from the store, each with what to do when it is zero."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Dashboard"))
        content = QWidget()
        layout = QVBoxLayout(content)
        self.organisation_title = heading("", level=2)
        self.organisation_details = QLabel()
        self.organisation_details.setWordWrap(True)
        layout.addWidget(self.organisation_title)
        layout.addWidget(self.organisation_details)
        grid = QGridLayout()
        self.cards = {
            "plugins": Card(_("Plugin projects")),
            "conformance": Card(_("Conformance runs")),
            "exams": Card(_("Exams on this computer")),
            "certificates": Card(_("Certificates")),
            "sync": Card(_("Waiting to sync")),
        }
        for index, card in enumerate(self.cards.values()):
            grid.addWidget(card, index // 3, index % 3)
        layout.addLayout(grid)
        self.held_heading = heading(_("Certificates held"), level=2)
        self.held = RecordTable([_("Certificate"), _("Holder"), _("Valid until"), _("Status")])
        self.held.setObjectName("heldCertificates")
        self.held.setAccessibleName(_("Certificates held"))
        layout.addWidget(self.held_heading)
        layout.addWidget(self.held)
        layout.addStretch(1)
        self.install(empty=None, content=content, load=_load, show=self._show)

    def _show(self, data: Overview) -> bool:
        org = data.organisation
        if org is None:
            self.organisation_title.setText(_("No partner organisation yet"))
            self.organisation_details.setText(
                _(
                    "Your organisation, its tier and its revenue share are filled in from the "
                    "marketplace when you sign in."
                )
            )
        else:
            self.organisation_title.setText(org.name)
            parts = [partner_type(org.partner_type)]
            if org.tier:
                parts.append(_("Tier: {tier}").format(tier=org.tier))
            if org.regions:
                parts.append(_("Regions: {regions}").format(regions=format_list(org.regions)))
            parts.append(
                _("Revenue share: {share}").format(share=format_percent(org.revenue_share))
            )
            self.organisation_details.setText(" · ".join(parts))
        cards = self.cards
        cards["plugins"].show_value(
            format_number(data.plugin_projects),
            _("Add a plugin folder on the Plugins page (Ctrl+2).")
            if not data.plugin_projects
            else ngettext(
                "{n} packaged version", "{n} packaged versions", data.plugin_versions
            ).format(n=format_number(data.plugin_versions)),
        )
        cards["conformance"].show_value(
            format_number(data.conformance_runs),
            "" if data.conformance_runs else _("No backend has been checked on this computer yet."),
        )
        cards["exams"].show_value(
            format_number(data.exams),
            ngettext(
                "{n} sitting in progress", "{n} sittings in progress", data.sittings_in_progress
            ).format(n=format_number(data.sittings_in_progress))
            if data.exams
            else _("Exam packages appear here once downloaded or imported."),
        )
        soon = [c for c in data.held_certificates if c.expires_soon]
        cards["certificates"].show_value(
            format_number(data.certificates),
            ngettext(
                "{n} expires within 90 days: re-sit the exam to keep it.",
                "{n} expire within 90 days: re-sit the exams to keep them.",
                len(soon),
            ).format(n=format_number(len(soon)))
            if soon
            else "",
        )
        cards["certificates"].hint.setStyleSheet("color: #8a4b00;" if soon else "")
        self.held.set_rows(
            [
                [
                    c.exam_title,
                    c.holder_name,
                    (format_date(c.valid_until), c.valid_until)
                    if c.valid_until
                    else _("No end date"),
                    _certificate_status(c),
                ]
                for c in data.held_certificates
            ],
            keys=[c.certificate_id for c in data.held_certificates],
        )
        self.held_heading.setVisible(bool(data.held_certificates))
        self.held.setVisible(bool(data.held_certificates))
        cards["sync"].show_value(
            format_number(data.outbox_waiting),
            _("Everything has been delivered.")
            if not data.outbox_waiting
            else _("Delivered when the marketplace can be reached."),
        )
        return True


def _certificate_status(held: HeldCertificate) -> str:
    """Valid, ending soon (with how many days are left) or expired, in words."""
    if held.expired:
        return _("Expired")
    if held.expires_soon and held.valid_until is not None:
        days = max((held.valid_until - datetime.now(UTC)).days, 0)
        return ngettext("Expires in {n} day", "Expires in {n} days", days).format(
            n=format_number(days)
        )
    return _("Valid")


def _load(store: Store) -> Overview:
    from portal.overview import overview

    return overview(store)
