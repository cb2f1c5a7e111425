"""`aic-portal conformance …`: run a profile against a backend, list backends, verify reports."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import click

from portal.i18n import _
from portal.paths import DataDir


class _Context(Protocol):
    """The part of the CLI context these commands use (portal.cli is not imported here)."""

    data_dir: DataDir


@click.group()
def conformance() -> None:
    """Conformance: check a hardware backend against a profile and sign the report."""


@conformance.command("run")
@click.option(
    "--backend",
    "spec",
    required=True,
    help=(
        "A backend name (see `conformance backends`) or array-api:MODULE. torch tests CUDA "
        "where a GPU is visible, else the CPU; torch:cpu and torch:cuda pin the device."
    ),
)
@click.option("--profile", required=True, help="tensor-core-v1 or neuromorphic-lif-v1.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.json, report.junit.xml and report.dsse.json.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@click.option("--only", metavar="PATTERN", help="Run only the checks whose id matches this glob.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds one check may take before it is an ERROR.",
)
@click.option(
    "--no-sign", is_flag=True, help="Write no signature (the report cannot be submitted)."
)
@click.pass_context
def run(
    ctx: click.Context,
    spec: str,
    profile: str,
    out: Path,
    seed: int,
    only: str | None,
    timeout: float,
    no_sign: bool,
) -> None:
    """Run the checks. Exit 0: required ones passed; 1: a FAIL or ERROR; 2: cannot start."""
    from portal.cancel import CancelToken
    from portal.conformance.report import write_reports
    from portal.conformance.runner import StartError, run_profile
    from portal.plugins.keys import load_signing_key

    key = None if no_sign else load_signing_key(_data_dir(ctx))  # before the work, not after it

    def show(done: int, total: int | None, message: str) -> None:
        click.echo(f"[{done}/{total}] {message}", err=True)

    try:
        outcome = run_profile(
            spec,
            profile,
            seed=seed,
            only=only,
            timeout_s=timeout,
            progress=show,
            cancel=CancelToken(),
        )
    except StartError as exc:
        click.echo(_("Error: {message}").format(message=exc.message), err=True)
        ctx.exit(2)
    for result in outcome.results:
        click.echo(f"{result.status.value:<15} {result.check}  {result.message}")
    for path in write_reports(outcome, out, key=key):
        click.echo(_("Written: {path}").format(path=path))
    ctx.exit(outcome.exit_code)


@conformance.command("backends")
def backends() -> None:
    """List the backends this installation knows, with their kind, dtypes and devices."""
    from portal.conformance.backends import backend_names, load_backend

    for name in backend_names():
        try:
            caps = load_backend(name).capabilities()
        except Exception as exc:  # noqa: BLE001 - a broken vendor backend is listed, not fatal
            click.echo(_("{name}: cannot be loaded ({problem})").format(name=name, problem=exc))
            continue
        click.echo(
            _("{name}: {kind}; dtypes {dtypes}; devices {devices}").format(
                name=name,
                kind=caps.kind,
                dtypes=", ".join(caps.dtypes),
                devices=", ".join(caps.devices),
            )
        )


@conformance.command("verify")
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PUBKEY",
    help="The signer's public key (default: your own).",
)
@click.option(
    "--signature",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The signature (default: report.dsse.json beside the report).",
)
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def verify(ctx: click.Context, key_path: Path | None, signature: Path | None, report: Path) -> None:
    """Check that a report.json is exactly the one its DSSE signature vouches for."""
    from portal.conformance.report import verify_report
    from portal.plugins.keys import load_public_key, own_public_key_path

    key_path = key_path or own_public_key_path(_data_dir(ctx))
    done = verify_report(report, load_public_key(key_path), signature=signature)
    click.echo(
        _("Verified {path}: {profile} on {backend}, signed by key {key}; {verdict}.").format(
            path=report,
            profile=done.profile,
            backend=done.backend,
            key=done.key_id,
            verdict=_("passed") if done.passed else _("not passed"),
        )
    )


def _data_dir(ctx: click.Context) -> DataDir:
    obj: _Context = ctx.find_root().obj
    return obj.data_dir
