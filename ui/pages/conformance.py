"""Conformance runs against hardware backends, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.i18n import _, format_datetime, format_number
from ui.labels import run_status
from ui.pages.base import Page
from ui.state import AppState
from ui.widgets import EmptyState, RecordTable

if TYPE_CHECKING:
    from portal.conformance.runs import RunSummary
    from portal.db.store import Store


class ConformancePage(Page):
    """Lists the runs kept on this computer and their outcome."""

    def __init__(self, state: AppState) -> None:
        super().__init__(state, _("Conformance"))
        self.table = RecordTable(
            [_("Backend"), _("Profile"), _("Result"), _("Checks"), _("Started")]
        )
        self.install(
            empty=EmptyState(
                _("No conformance runs yet"),
                _(
                    "A conformance run checks a tensor, quantum or neuromorphic backend against "
                    "the platform's profiles and tolerances. Runs made on this computer, and their "
                    "signed reports, are listed here."
                ),
            ),
            content=self.table,
            load=_load,
            show=self._show,
        )

    def _show(self, runs: list[RunSummary]) -> bool:
        self.table.set_rows(
            [
                [
                    r.backend,
                    r.profile,
                    run_status(r.status),
                    (format_number(r.checks), r.checks),
                    (format_datetime(r.started_at), r.started_at),
                ]
                for r in runs
            ],
            keys=[r.id for r in runs],
        )
        return bool(runs)


def _load(store: Store) -> list[RunSummary]:
    from portal.conformance.runs import list_runs

    return list_runs(store)
