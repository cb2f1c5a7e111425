"""The walkthrough's exams step: the exams sync downloaded, a practice sitting scored here, and a
certification sitting sealed, sent, scored by the marketplace and certified, the certificate
checked offline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select

from portal.cancel import CancelToken, no_progress
from portal.db.enums import SittingState
from portal.db.models import Certificate, Exam, Sitting
from portal.db.store import Store
from portal.demo_accounts import DEMO_CERTIFICATION_EXAM, DEMO_EXAM_CODE, demo_exams_folder
from portal.errors import InputError
from portal.exams.credentials import verify_credential
from portal.exams.library import trusted_keys, unlock
from portal.exams.model import (
    Answer,
    ChoiceInteraction,
    ExamContent,
    InlineChoiceInteraction,
    Item,
    MatchInteraction,
    TextEntryInteraction,
)
from portal.exams.scoring import ScoreReport
from portal.exams.sitting import SittingSession
from portal.exams.submissions import ResultSummary, list_results
from portal.i18n import (
    _,
    current_locale,
    format_datetime,
    format_list,
    format_number,
    format_percent,
    ngettext,
)
from portal.paths import DataDir
from portal.sync.engine import sync

if TYPE_CHECKING:
    from portal.demo import SignedIn


@dataclass(frozen=True)
class _Package:
    """An exam package kept here, as this step needs it."""

    pk: int
    exam_id: str
    version: str
    title: str
    practice: bool
    practice_code: str | None


def show_exams(
    data_dir: DataDir, signed_in: SignedIn | None, *, echo: Callable[[str], object]
) -> None:
    """The exams sync downloaded, then a practice sitting and the certification sitting."""
    if signed_in is None:
        echo("   " + _("Not signed in: no exams were downloaded, so there is nothing to sit."))
        return
    with Store.open(data_dir) as store:
        packages = _packages(store)
        if not packages:
            echo(
                "   "
                + _(
                    "No exams on this computer: the marketplace offers your organisation none, "
                    "or sync could not download them (the log file says why)."
                )
            )
            return
        names = format_list([_package_name(p) for p in packages])
        if signed_in.exams_downloaded:
            echo("   " + _("Sync downloaded {exams}.").format(exams=names))
        else:
            echo("   " + _("Downloaded by an earlier sync, current: {exams}.").format(exams=names))
        practice = next((p for p in packages if p.practice and p.practice_code), None)
        if practice is not None:
            _sit_practice(store, practice, signed_in, echo=echo)
        _sit_certification(store, packages, signed_in, echo=echo)


def _sit_practice(
    store: Store, package: _Package, signed_in: SignedIn, *, echo: Callable[[str], object]
) -> None:
    """A practice sitting answered from the keys its package carries, scored here, offline."""
    assert package.practice_code is not None
    content = unlock(store, package.pk, package.practice_code).content
    with _start(store, package, content, signed_in) as sitting:
        for delivered in sitting.items:
            sitting.save_answer(delivered.number, prepared_answer(delivered.item, sitting.language))
        report = sitting.score()
        answered = len(sitting.summary().answered)
        sitting.submit()
    echo(
        "   "
        + _(
            "Practice: opened {exam} with the code the marketplace lists for it and answered "
            "{answered} of its {count} items from the keys the practice package carries."
        ).format(exam=package.title, answered=answered, count=len(sitting.items))
    )
    echo("   " + _("Scored here, offline: {score}.").format(score=_score_words(report)))


def _sit_certification(
    store: Store, packages: list[_Package], signed_in: SignedIn, *, echo: Callable[[str], object]
) -> None:
    """The certification exam, sat once per data dir: answered, sealed, sent, scored, certified."""
    prepared = _published_answers()
    package = next(
        (p for p in packages if (p.exam_id, p.version) == (prepared.exam_id, prepared.version)),
        None,
    )
    if package is None:
        echo(
            "   "
            + _("The demo certification exam {exam} is not offered to {organisation}.").format(
                exam=f"{prepared.exam_id} {prepared.version}",
                organisation=signed_in.who.organisation,
            )
        )
        return
    with store.session() as session:
        earlier = session.scalars(
            select(Sitting).where(Sitting.exam_pk == package.pk).order_by(Sitting.id.desc())
        ).first()
        resume = earlier.id if earlier and earlier.state == SittingState.IN_PROGRESS else None
        sat_on = earlier.submitted_at if earlier and resume is None else None
        submission = earlier.uid if earlier else None
    if sat_on is not None:
        echo(
            "   "
            + _(
                "Certification: {exam} was sat on this computer on {date}; it is not sat again."
            ).format(exam=package.title, date=format_datetime(sat_on))
        )
    else:
        content = unlock(store, package.pk, DEMO_EXAM_CODE).content
        echo(
            "   "
            + _(
                "Certification: opened {exam} with the sitting code {code} that the proctor "
                "hands out; the package carries no answer keys."
            ).format(exam=package.title, code=DEMO_EXAM_CODE)
        )
        echo(
            "   "
            + _(
                "The walkthrough answers as a well-prepared candidate would, with the demo "
                "exam's answers published in {path}."
            ).format(path=demo_exams_folder() / DEMO_CERTIFICATION_EXAM)
        )
        if resume is not None:
            opened = SittingSession.resume(store, resume, content)
        else:
            opened = _start(store, package, content, signed_in)
        with opened as sitting:
            for delivered in sitting.items:
                known = delivered.item.id in {item.id for item in prepared.items()}
                if known:  # an item the published answers lack is left blank
                    answer = prepared_answer(prepared.item(delivered.item.id), sitting.language)
                    sitting.save_answer(delivered.number, answer)
            answered = len(sitting.summary().answered)
            sealed = sitting.submit()
        submission = sealed.submission_id
        echo(
            "   "
            + _(
                "Answered {answered} of its {count} items as {candidate}, sealed the sitting "
                "with the device key {key} and queued it (outbox item #{id})."
            ).format(
                answered=answered,
                count=len(sitting.items),
                candidate=sitting.candidate_name,
                key=sealed.key_id[:16],
                id=sealed.outbox_item_id,
            )
        )
    assert submission is not None
    if _result(store, submission) is None:
        report = sync(
            store, signed_in.market, signed_in.tokens, progress=no_progress, cancel=CancelToken()
        )
        echo("   " + _("Synced: {summary}").format(summary=report.summary()))
    _show_result(store, submission, echo=echo)


def _show_result(store: Store, submission: str, *, echo: Callable[[str], object]) -> None:
    """The marketplace's score and, after a pass, the certificate sync fetched, checked offline."""
    result = _result(store, submission)
    if result is None:
        echo("   " + _("Not scored yet: the result arrives with a later sync."))
        return
    if not result.final:
        verdict = _("not decided until a person scores the written answers")
    else:
        verdict = _("passed") if result.passed else _("not passed")
    echo(
        "   "
        + _("The marketplace scored it {score}/{most} ({percent}): {verdict}.").format(
            score=format_number(result.score),
            most=format_number(result.max_score),
            percent=format_percent(result.score / result.max_score if result.max_score else 0),
            verdict=verdict,
        )
    )
    if result.pending_manual:
        echo(
            "   "
            + ngettext(
                "{count} written answer awaits a person's scoring; the score may still rise.",
                "{count} written answers await a person's scoring; the score may still rise.",
                result.pending_manual,
            ).format(count=result.pending_manual)
        )
    if not result.passed:
        return
    with store.session() as session:
        certificate = session.scalars(
            select(Certificate)
            .where(Certificate.exam_id == result.exam_id)
            .order_by(Certificate.issued_at.desc())
        ).first()
        if certificate is None:
            echo("   " + _("No certificate fetched yet: it arrives with a later sync."))
            return
        certificate_id, document = certificate.certificate_id, dict(certificate.document)
    keys = trusted_keys(store.data_dir)
    check = verify_credential(document, trusted_keys=keys)
    echo(
        "   "
        + _(
            "Certificate {id}, fetched by sync: {exam} for {holder}, score {score}, valid until "
            "{until}."
        ).format(
            id=certificate_id,
            exam=check.exam_title,
            holder=check.holder_name,
            score=format_percent(Decimal(check.score)),
            until=format_datetime(check.valid_until),
        )
    )
    if check.genuine:
        echo(
            "   "
            + ngettext(
                "Checked offline against {count} trusted marketplace key: genuine, signed by "
                "the marketplace and unchanged since (`aic-portal cert verify`).",
                "Checked offline against {count} trusted marketplace keys: genuine, signed by "
                "the marketplace and unchanged since (`aic-portal cert verify`).",
                len(keys),
            ).format(count=len(keys))
        )
    else:
        echo("   " + _("Checked offline: NOT genuine: {problem}").format(problem=check.problem))


def prepared_answer(item: Item, language: str) -> Answer:
    """What a candidate who knows the material answers to `item`, taken from its key: the correct
    response, the mapping's best-scoring values, or its model answer for a written one."""
    key, interaction = item.scoring, item.interaction
    if key is None:
        raise InputError(_("item {item} has no answer key").format(item=item.id))
    if key.template == "manual":
        return [item.feedback[language]] if item.feedback else []
    if key.template == "match_correct":
        values = list(key.correct)
    else:
        assert key.mapping is not None, "the model requires a mapping for map_response"
        ranked = sorted(key.mapping.entries.items(), key=lambda entry: -entry[1])
        values = [value for value, points in ranked if points > 0]
    limit = None
    if isinstance(interaction, TextEntryInteraction | InlineChoiceInteraction):
        limit = 1  # one text, or one choice: the best of those accepted
    elif isinstance(interaction, ChoiceInteraction):
        limit = interaction.max_choices or None
    elif isinstance(interaction, MatchInteraction):
        limit = interaction.max_associations or None
    return values[:limit]


def _published_answers() -> ExamContent:
    """The demo certification exam as authored, with its keys: the prepared candidate's notes."""
    path = demo_exams_folder() / DEMO_CERTIFICATION_EXAM
    try:
        return ExamContent.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise InputError(
            _("The demo exam's answers in {path} cannot be read.").format(path=path)
        ) from exc


def _start(
    store: Store, package: _Package, content: ExamContent, signed_in: SignedIn
) -> SittingSession:
    """A new sitting as the signed-in partner, in the app's language where the exam has it."""
    language = current_locale()
    return SittingSession.start(
        store,
        exam_pk=package.pk,
        content=content,
        candidate_name=signed_in.who.user_name,
        partner_id=signed_in.who.organisation_id,
        language=language if language in content.languages else content.languages[0],
    )


def _packages(store: Store) -> list[_Package]:
    with store.session() as session:
        return [
            _Package(e.id, e.exam_id, e.version, e.title, e.practice, e.practice_code)
            for e in session.scalars(select(Exam).order_by(Exam.practice, Exam.title))
        ]


def _package_name(package: _Package) -> str:
    kind = _("practice") if package.practice else _("certification")
    return _("{title} {version} ({kind})").format(
        title=package.title, version=package.version, kind=kind
    )


def _result(store: Store, submission: str) -> ResultSummary | None:
    return next((r for r in list_results(store) if r.submission_id == submission), None)


def _score_words(report: ScoreReport) -> str:
    """A score computed here, in words."""
    verdict = _("passed") if report.passed else _("not passed")
    if not report.final:
        verdict = _("not decided until a person scores the written answers")
    words = _("{score}/{most} ({percent}), pass mark {mark}: {verdict}").format(
        score=format_number(report.score),
        most=format_number(report.max_score),
        percent=format_percent(report.fraction),
        mark=format_percent(report.pass_mark),
        verdict=verdict,
    )
    if report.pending_manual:
        words += "; " + ngettext(
            "{count} written answer awaits a person's scoring",
            "{count} written answers await a person's scoring",
            len(report.pending_manual),
        ).format(count=len(report.pending_manual))
    return words
