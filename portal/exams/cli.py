"""`aic-portal exam …`: sealed submissions to and from a proctor's file, and the results."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click

from portal.i18n import _, format_datetime, format_number, format_percent, ngettext
from portal.paths import DataDir


class _Context(Protocol):
    """The part of the CLI context these commands use (portal.cli is not imported here)."""

    data_dir: DataDir


@click.group()
def exam() -> None:
    """Exams: sealed submissions for a proctor, and the marketplace's results."""


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
    """Check the sealed submissions in a proctor's FILE and queue the new ones for the next sync."""
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
                exam=result.exam_id,
                version=result.exam_version,
                score=format_number(result.score),
                most=format_number(result.max_score),
                percent=format_percent(fraction),
                verdict=verdict,
            )
        )
