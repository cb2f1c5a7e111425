"""The first page: the partner organisation and how many of each record this computer holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from portal.i18n import _, format_list, format_number, format_percent, ngettext
from ui.labels import partner_type
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import Card, heading

if TYPE_CHECKING:
    from portal.db.store import Store
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
        cards["certificates"].show_value(format_number(data.certificates))
        cards["sync"].show_value(
            format_number(data.outbox_waiting),
            _("Everything has been delivered.")
            if not data.outbox_waiting
            else _("Delivered when the marketplace can be reached."),
        )
        return True


def _load(store: Store) -> Overview:
    from portal.overview import overview

    return overview(store)
