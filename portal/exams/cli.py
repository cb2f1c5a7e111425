"""`aic-portal exam …`: inspect, import, download and list exam packages; QTI import; sealed
submissions to and from a proctor's file, and the marketplace's results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from portal.i18n import (
    _,
    format_datetime,
    format_duration,
    format_list,
    format_number,
    format_percent,
    language_name,
    ngettext,
)
from portal.paths import DataDir

if TYPE_CHECKING:
    from portal.settings import Settings


class _Context(Protocol):
    """The part of the CLI context these commands use (portal.cli is not imported here)."""

    data_dir: DataDir
    settings: Settings


@click.group()
def exam() -> None:
    """Exams: inspect, import and download exam packages; author exams from QTI; hand sealed
    submissions to a proctor; read the results."""


@exam.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def inspect(obj: _Context, file: Path) -> None:
    """Show FILE's public header and check the marketplace's signature (no code needed)."""
    from portal.exams.library import trusted_key_list
    from portal.exams.package import read_header

    keys = trusted_key_list(obj.data_dir)
    header = read_header(file, trusted_keys=[k.public_key for k in keys])
    signer = next(k for k in keys if k.key_id == header.key_id)
    expiry = format_datetime(header.expires_at)
    if header.expired():
        expiry = _("{date} (expired)").format(date=expiry)
    _table(
        [
            (_("Exam"), f"{header.exam_id} {header.version}"),
            *[(_("Title ({language})").format(language=k), v) for k, v in header.title.items()],
            (
                _("Kind"),
                _("Practice (carries its answer keys)") if header.practice else _("Certification"),
            ),
            (_("Languages"), format_list([language_name(code) for code in header.languages])),
            (_("Duration"), format_duration(header.duration_s, granularity="minute")),
            (_("Questions"), str(header.questions)),
            (_("Pass mark"), format_percent(header.pass_mark)),
            (_("Issued"), format_datetime(header.issued_at)),
            (_("Valid until"), expiry),
            (
                _("Encryption"),
                _("{cipher}, key from the sitting code by scrypt (N={n}, r={r}, p={p})").format(
                    cipher=header.cipher, n=header.kdf.n, r=header.kdf.r, p=header.kdf.p
                ),
            ),
            (
                _("Signature"),
                _("valid, by the marketplace key {key} ({source})").format(
                    key=header.key_id[:16], source=signer.source
                ),
            ),
        ]
    )


@exam.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_file(obj: _Context, file: Path) -> None:
    """Import an exam package FILE that a proctor handed out."""
    from portal.db.models import Exam
    from portal.db.store import Store
    from portal.exams.library import import_package

    with Store.open(obj.data_dir) as store:
        pk = import_package(store, file)
        with store.session() as session:
            row = session.get(Exam, pk)
            assert row is not None
            title, version = row.title, row.version
    click.echo(
        _(
            "Imported {title} {version} as exam {id}. The sitting code opens it at the sitting."
        ).format(title=title, version=version, id=pk)
    )


@exam.command("download")
@click.pass_obj
def download(obj: _Context) -> None:
    """Download the exams your organisation is entitled to from the marketplace."""
    from portal.auth.oauth import configured_marketplace
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken, no_progress
    from portal.db.store import Store
    from portal.errors import InputError
    from portal.sync.exams import download_exams

    market = configured_marketplace(obj.data_dir, obj.settings)
    if market is None:
        raise InputError(
            _(
                "No marketplace is configured. Give one once with "
                "`aic-portal login --marketplace URL`, or set it in the app's Settings."
            )
        )
    tokens = TokenStore(obj.data_dir.keyring_service, market.account)
    with Store.open(obj.data_dir) as store:
        report = download_exams(store, market, tokens, progress=no_progress, cancel=CancelToken())
    for name in report.downloaded:
        click.echo(_("Downloaded {exam}.").format(exam=name))
    new, same = len(report.downloaded), report.unchanged
    click.echo(
        _("{new}, {same}.").format(
            new=ngettext("{count} new or changed", "{count} new or changed", new).format(count=new),
            same=ngettext("{count} already here", "{count} already here", same).format(count=same),
        )
    )
    for line in report.errors:
        click.echo(_("Not downloaded: {problem}").format(problem=line), err=True)
    if report.errors:
        raise click.exceptions.Exit(1)


@exam.command("list")
@click.pass_obj
def list_exams(obj: _Context) -> None:
    """List the exam packages on this computer."""
    from sqlalchemy import select

    from portal.db.models import Exam
    from portal.db.store import Store
    from portal.exams.library import MAX_ATTEMPTS

    with Store.open(obj.data_dir) as store, store.session() as session:
        rows = list(session.scalars(select(Exam).order_by(Exam.title, Exam.version)))
    if not rows:
        click.echo(_("No exam packages on this computer."))
        return
    for row in rows:
        kind = _("practice") if row.practice else _("certification")
        until = format_datetime(row.expires_at) if row.expires_at else "—"
        left = max(0, MAX_ATTEMPTS - row.failed_unlocks)
        tries = ngettext("{count} code try left", "{count} code tries left", left).format(
            count=left
        )
        click.echo(
            _("{id}: {title} {version} ({kind}), valid until {until}, {tries}").format(
                id=row.id, title=row.title, version=row.version, kind=kind, until=until, tries=tries
            )
            + (
                _("; practice code {code}").format(code=row.practice_code)
                if row.practice_code
                else ""
            )
        )


@exam.command("trust-key")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def trust_key(obj: _Context, file: Path) -> None:
    """Trust the marketplace's public key FILE (PEM), for a computer that never goes online."""
    from portal.errors import InputError
    from portal.exams.library import trust_keys

    try:
        pem = file.read_text("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(_("The public key {path} cannot be read.").format(path=file)) from exc
    added = trust_keys(obj.data_dir, [pem], source=str(file))
    if added:
        click.echo(_("Trusted the marketplace key {key}.").format(key=added[0][:16]))
    else:
        click.echo(_("That key was already trusted."))


@exam.command("reset-attempts")
@click.argument("exam_pk", metavar="EXAM", type=int)
@click.pass_obj
def reset_attempts(obj: _Context, exam_pk: int) -> None:
    """For the proctor: clear the wrong sitting codes counted on EXAM (its number in `list`)."""
    from portal.db.store import Store
    from portal.exams.library import reset_attempts as reset

    with Store.open(obj.data_dir) as store:
        reset(store, exam_pk)
    click.echo(_("Exam {id} can be unlocked again.").format(id=exam_pk))


@exam.command("import-qti")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.json",
    help="Where to write the exam (ExamContent JSON).",
)
@click.option(
    "--skip-unsupported",
    is_flag=True,
    help="Leave out the items that use what the portal does not support, instead of failing.",
)
@click.option("--exam-id", help="The exam's id (default: the test's or the package's identifier).")
@click.option("--version", "version", default="1", show_default=True, help="The exam's version.")
@click.option("--language", help="The items' language tag (default: their xml:lang, else en).")
@click.option(
    "--duration",
    type=click.IntRange(1, 24 * 60),
    metavar="MINUTES",
    help="Time allowed (default: the test's time limit, else 60 minutes).",
)
@click.option(
    "--pass-mark",
    type=click.FloatRange(0, 1),
    default=0.7,
    show_default=True,
    help="Fraction of the points needed to pass.",
)
@click.option("--practice", is_flag=True, help="Make it a practice exam (every item needs a key).")
def import_qti_command(
    path: Path,
    output: Path,
    skip_unsupported: bool,
    exam_id: str | None,
    version: str,
    language: str | None,
    duration: int | None,
    pass_mark: float,
    practice: bool,
) -> None:
    """Read IMS QTI 2.1 or 3.0 (an item or test file, or a content package folder or zip) into
    an exam as JSON."""
    import json

    from portal.atomic import write_atomically
    from portal.errors import StorageError
    from portal.exams.qti import import_qti

    result = import_qti(
        path,
        skip_unsupported=skip_unsupported,
        exam_id=exam_id,
        version=version,
        language=language,
        duration_s=duration * 60 if duration else None,
        pass_mark=pass_mark,
        practice=practice,
    )
    for problem in result.skipped:
        click.echo(_("Left out: {problem}").format(problem=problem.describe()), err=True)
    document = json.dumps(result.content.model_dump(mode="json"), ensure_ascii=False, indent=1)
    try:
        write_atomically(output, (document + "\n").encode("utf-8"))
    except OSError as exc:
        raise StorageError(
            _("{path} cannot be written: {problem}").format(
                path=output, problem=exc.strerror or exc
            )
        ) from exc
    content = result.content
    items, sections = len(content.items()), len(content.sections)
    click.echo(
        _("Wrote {exam} {version} to {path}: {items} in {sections}.").format(
            exam=content.exam_id,
            version=content.version,
            path=output,
            items=ngettext("{count} item", "{count} items", items).format(count=items),
            sections=ngettext("{count} section", "{count} sections", sections).format(
                count=sections
            ),
        )
    )


def _table(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _value in rows) + 2
    for label, value in rows:
        click.echo(f"{label + ':':<{width}}{value}")


@exam.command("export-submissions")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (JSON) for the proctor.",
)
@click.pass_obj
def export_submissions_command(obj: _Context, output: Path) -> None:
    """Write every sealed submission on this computer to one file, for a computer that syncs."""
    from portal.db.store import Store
    from portal.exams.submissions import export_submissions

    with Store.open(obj.data_dir) as store:
        count = export_submissions(store, output)
    click.echo(
        ngettext(
            "Wrote {count} sealed submission to {path}.",
            "Wrote {count} sealed submissions to {path}.",
            count,
        ).format(count=count, path=output)
    )


@exam.command("import-submissions")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_submissions_command(obj: _Context, file: Path) -> None:
    """Check the sealed submissions in a proctor's FILE and queue the new ones for the next sync;
    exits 1 when any does not hold (the others are still imported)."""
    from portal.db.store import Store
    from portal.exams.submissions import import_submissions

    with Store.open(obj.data_dir) as store:
        report = import_submissions(store, file)
    click.echo(
        ngettext(
            "Queued {count} submission; `aic-portal sync` sends it.",
            "Queued {count} submissions; `aic-portal sync` sends them.",
            len(report.queued),
        ).format(count=len(report.queued))
    )
    if report.already_here:
        click.echo(
            ngettext(
                "{count} was already here and is not queued again.",
                "{count} were already here and are not queued again.",
                len(report.already_here),
            ).format(count=len(report.already_here))
        )
    for refused in report.refused:
        click.echo(_("Refused {what}").format(what=refused.describe()), err=True)
    if report.refused:
        click.echo(
            ngettext(
                "{count} submission does not hold and was not imported.",
                "{count} submissions do not hold and were not imported.",
                len(report.refused),
            ).format(count=len(report.refused)),
            err=True,
        )
        raise click.exceptions.Exit(1)


@exam.command("results")
@click.pass_obj
def results_command(obj: _Context) -> None:
    """The results the marketplace scored, as fetched by the last sync."""
    from portal.db.store import Store
    from portal.exams.submissions import list_results

    with Store.open(obj.data_dir) as store:
        found = list_results(store)
    if not found:
        click.echo(_("No results yet; they arrive with `aic-portal sync` once scored."))
        return
    for result in found:
        verdict = _("passed") if result.passed else _("not passed")
        if not result.final:
            verdict = _("not decided yet")
        if result.pending_manual:
            waiting = ngettext(
                "{count} item awaits manual scoring",
                "{count} items await manual scoring",
                result.pending_manual,
            ).format(count=result.pending_manual)
            verdict = f"{verdict} ({waiting})"
        fraction = result.score / result.max_score if result.max_score else 0.0
        click.echo(
            _(
                "{when}  {candidate}  {exam} {version}  {score}/{most} ({percent})  {verdict}"
            ).format(
                when=format_datetime(result.scored_at),
                candidate=result.candidate_name,
                exam=result.exam_title,
                version=result.exam_version,
                score=format_number(result.score),
                most=format_number(result.max_score),
                percent=format_percent(fraction),
                verdict=verdict,
            )
        )


@exam.command("certificates")
@click.option(
    "--save",
    "save_id",
    metavar="ID",
    help="Write this certificate's signed credential to the file given with -o.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def certificates_command(obj: _Context, save_id: str | None, output: Path | None) -> None:
    """The certificates earned, as fetched by the last sync; --save ID -o FILE writes one out,
    for `aic-portal cert verify` or to send to whoever asks for proof."""
    import json

    from portal.atomic import write_atomically
    from portal.db.store import Store
    from portal.exams.catalog import certificate_document, held_certificates, list_certificates

    with Store.open(obj.data_dir) as store:
        if save_id is not None:
            if output is None:
                raise click.UsageError(_("--save needs -o FILE."))
            document = certificate_document(store, save_id)
            write_atomically(output, json.dumps(document, indent=2, ensure_ascii=False).encode())
            click.echo(_("Written: {path}").format(path=output))
            return
        held = {c.certificate_id: c for c in held_certificates(store)}
        listed = list_certificates(store)
    if not listed:
        click.echo(_("No certificates yet; they arrive with `aic-portal sync` after a pass."))
        return
    for summary in listed:
        state = held.get(summary.certificate_id)
        until = "—"
        if state is not None and state.valid_until is not None:
            until = format_datetime(state.valid_until)
            if state.expired:
                until = _("{date} (expired)").format(date=until)
            elif state.expires_soon:
                until = _("{date} (ends within 90 days)").format(date=until)
        click.echo(
            _("{id}  {exam}  {holder}  {score}  valid until {until}").format(
                id=summary.certificate_id,
                exam=summary.exam_title,
                holder=summary.holder_name,
                score=format_percent(summary.score),
                until=until,
            )
        )
