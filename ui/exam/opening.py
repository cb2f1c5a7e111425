"""Opening the exam window: for an exam on the Exams page, or for a sitting left open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from portal.errors import InputError
from portal.i18n import _
from ui.exam.start import StartFacts
from ui.operations import CoreOp, OpContext
from ui.state import AppState

if TYPE_CHECKING:
    from portal.db.store import Store
    from ui.exam.window import ExamWindow

_open: list[ExamWindow] = []


def load_facts(
    store: Store, *, exam_pk: int | None = None, sitting: int | None = None
) -> StartFacts:
    """The exam's public facts, the signed-in profile to prefill, and a sitting to resume."""
    from sqlalchemy import select

    from portal.db.models import Exam, PartnerOrganisation, PartnerProfile, Sitting

    with store.session() as session:
        row = session.get(Sitting, sitting) if sitting is not None else None
        exam = session.get(Exam, row.exam_pk if row is not None else exam_pk)
        if exam is None:
            raise InputError(_("That exam is no longer on this computer."))
        name = partner = language = ""
        if row is not None:
            name, partner, language = row.candidate_name, row.partner_id, row.language
        else:
            profile = session.scalars(select(PartnerProfile).limit(1)).first()
            if profile is not None:
                name = profile.display_name
                organisation = session.get(PartnerOrganisation, profile.organisation_id)
                partner = (organisation.remote_id or "") if organisation else ""
        return StartFacts(
            exam_pk=exam.id,
            title=exam.title,
            languages=list(exam.languages),
            needs_code=not getattr(exam, "practice_code", None),
            candidate_name=name,
            partner_id=partner,
            language=language,
            resuming=row.id if row is not None else None,
        )


def open_exam_window(
    state: AppState, parent: QWidget, *, exam_pk: int | None = None, sitting: int | None = None
) -> None:
    """Read what the start screen needs on a worker, then show the exam window."""
    store = state.store
    if store is None:
        return
    if exam_windows():
        _open[0].raise_()
        _open[0].activateWindow()
        return

    def show(facts: StartFacts) -> None:
        from ui.exam.window import ExamWindow

        window = ExamWindow(
            state, facts
        )  # its own window: a language or theme change rebuilds the main one
        _open.append(window)
        window.sig_finished.connect(lambda: _open.remove(window) if window in _open else None)
        window.show()
        window.activateWindow()

    CoreOp(
        parent, lambda _ctx: load_facts(store, exam_pk=exam_pk, sitting=sitting), name="exam facts"
    ).success(show).run_in_background()


def resume_open_sitting(state: AppState, parent: QWidget) -> None:
    """After a crash or a close mid-sitting, reopen that sitting (the code is asked again)."""
    store = state.store
    if store is None:
        return

    def find(_ctx: OpContext) -> int | None:
        from portal.exams.sitting import SittingSession

        return SittingSession.find_open(store)

    def found(sitting: int | None) -> None:
        if sitting is not None:
            open_exam_window(state, parent, sitting=sitting)

    CoreOp(parent, find, name="find open sitting").success(found).run_in_background()


def exam_windows() -> list[ExamWindow]:
    """The exam window shown now, if any (one at a time)."""
    import shiboken6

    _open[:] = [window for window in _open if shiboken6.isValid(window)]
    return list(_open)
