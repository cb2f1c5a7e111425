"""`aic-portal conformance …`: run a profile against a backend, list backends, verify reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from portal.i18n import _, format_datetime, format_number, ngettext
from portal.paths import DataDir
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.conformance.backends import Capabilities
    from portal.conformance.challenge import Challenge
    from portal.conformance.runs import RunSummary
    from portal.db.store import Store


class _Context(Protocol):
    """The part of the CLI context these commands use (portal.cli is not imported here)."""

    data_dir: DataDir
    settings: Settings


@click.group()
def conformance() -> None:
    """Conformance: check a hardware backend against a profile and sign the report."""


@conformance.command("run")
@click.option(
    "--backend",
    "spec",
    required=True,
    help="A backend name (see `conformance backends`), array-api:MODULE, or "
    "qiskit:MODULE:FUNCTION, a function that returns a Qiskit BackendV2 (vendors can instead "
    "register that function as an entry point in the group aic_platform.backends). torch tests "
    "CUDA where a GPU is visible, else the CPU; torch:cpu and torch:cuda pin the device.",
)
@click.option(
    "--profile",
    required=True,
    help="tensor-core-v1, neuromorphic-lif-v1 or quantum-gate-v1.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.json, report.html, report.junit.xml and report.dsse.json.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Seed of the random inputs (under a challenge, the base its nonce is mixed into).",
)
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
@click.option(
    "--waiver",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Loosen limits of the tolerance table for this run: a TOML file of [[waiver]] entries "
    "(op, dtype, rtol/atol/ulp, reason). The report records each one.",
)
@click.option(
    "--challenge/--no-challenge",
    "challenge_mode",
    default=None,
    help="Ask the marketplace for a challenge, which certification needs (default: when "
    "signed in and reachable; else the run is unchallenged).",
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
    waiver: Path | None,
    challenge_mode: bool | None,
) -> None:
    """Run the checks. Exit 0: required ones passed; 1: a FAIL or ERROR; 2: cannot start."""
    from portal.cancel import CancelToken
    from portal.conformance.backends import check_backend_spec
    from portal.conformance.catalogue import profile_checks
    from portal.conformance.labels import check_status
    from portal.conformance.report import write_reports
    from portal.conformance.runner import StartError, run_profile
    from portal.conformance.runs import record_run
    from portal.conformance.tolerances import load_table, load_waivers
    from portal.db.store import Store
    from portal.errors import PortalError
    from portal.plugins.keys import load_signing_key

    try:  # everything a run needs, before asking the marketplace for a challenge
        profile_checks(profile, only=only)
        check_backend_spec(spec)
        waivers = load_waivers(waiver, load_table()) if waiver else []
        key = None if no_sign else load_signing_key(_data_dir(ctx))
    except PortalError as exc:
        click.echo(_("Error: {message}").format(message=exc.message), err=True)
        ctx.exit(2)
    # an unsigned report cannot be submitted: it would spend a challenge for nothing
    wanted = challenge_mode if challenge_mode is not None else not no_sign
    challenge = _challenge(ctx, required=bool(challenge_mode)) if wanted else None

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
            challenge=challenge,
            waivers=waivers,
        )
    except StartError as exc:
        click.echo(_("Error: {message}").format(message=exc.message), err=True)
        ctx.exit(2)
    for result in outcome.results:
        click.echo(f"{check_status(result.status):<24} {result.check}  {result.message}")
    for path in write_reports(outcome, out, key=key):
        click.echo(_("Written: {path}").format(path=path))
    with Store.open(_data_dir(ctx)) as store:
        run_id = record_run(store, outcome, report_dir=out)
    click.echo(_("Recorded as run {id} (`aic-portal conformance runs {id}`).").format(id=run_id))
    for kept in outcome.table.waivers:
        click.echo(
            _("Waiver: {op} on {dtype} loosened, because: {reason}").format(
                op=kept.op, dtype=kept.dtype, reason=kept.reason
            )
        )
    if challenge is None:
        click.echo(_("Unchallenged: this run cannot be certified."))
    ctx.exit(outcome.exit_code)


def _challenge(ctx: click.Context, *, required: bool) -> Challenge | None:
    """A marketplace challenge when signed in and reachable; else None, or exit 2 if required."""
    from portal.auth.oauth import configured_marketplace
    from portal.auth.tokens import TokenStore
    from portal.conformance.submit import fetch_challenge
    from portal.errors import ErrorKind, PortalError

    obj: _Context = ctx.find_root().obj
    market = configured_marketplace(obj.data_dir, obj.settings)
    try:
        if market is None:
            raise PortalError(_("No marketplace is configured."), kind=ErrorKind.INPUT)
        tokens = TokenStore(obj.data_dir.keyring_service, market.account)
        if tokens.load() is None:
            raise PortalError(_("You are not signed in."), kind=ErrorKind.AUTH)
        challenge = fetch_challenge(market, tokens)
    except PortalError as exc:
        if exc.kind == ErrorKind.CANCELLED:
            raise
        if required:
            click.echo(
                _("Error: no challenge from the marketplace: {problem}").format(
                    problem=exc.message
                ),
                err=True,
            )
            ctx.exit(2)
        click.echo(
            _("No challenge from the marketplace: {problem} The run is unchallenged.").format(
                problem=exc.message
            ),
            err=True,
        )
        return None
    click.echo(
        _("Challenge {id} from the marketplace: it answers this run only.").format(id=challenge.id),
        err=True,
    )
    return challenge


@conformance.command("backends")
def backends() -> None:
    """List the backends this installation knows, with their kind, dtypes and devices."""
    from portal.conformance.backends import BackendNotInstalledError, backend_names, load_backend

    for name in backend_names():
        try:
            caps = load_backend(name).capabilities()
        except BackendNotInstalledError as exc:
            click.echo(f"{name}: {exc.message}")
            continue
        except Exception as exc:  # noqa: BLE001 - a broken vendor backend is listed, not fatal
            click.echo(_("{name}: cannot be loaded ({problem})").format(name=name, problem=exc))
            continue
        if caps.kind == "quantum":
            click.echo(_quantum_line(name, caps))
            continue
        click.echo(
            _("{name}: {kind}; dtypes {dtypes}; devices {devices}; versions {versions}").format(
                name=name,
                kind=caps.kind,
                dtypes=", ".join(caps.dtypes),
                devices=", ".join(caps.devices),
                versions=", ".join(f"{k} {v}" for k, v in caps.versions.items()) or "–",
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
@click.argument("report", type=click.Path(path_type=Path))
@click.pass_context
def verify(ctx: click.Context, key_path: Path | None, signature: Path | None, report: Path) -> None:
    """Check a report as the marketplace will: signature, digest, tolerance table, challenge and
    the profile's required checks. Exit 0: authentic and passed; 1: otherwise."""
    from portal.conformance.report import verify_report
    from portal.conformance.submit import report_files
    from portal.conformance.verification import ReportRefusedError
    from portal.plugins.keys import load_public_key, own_public_key_path

    if signature is None:
        report, signature = report_files(report)
    key_path = key_path or own_public_key_path(_data_dir(ctx))
    try:
        done = verify_report(report, load_public_key(key_path), signature=signature)
    except ReportRefusedError as exc:
        for line in exc.checked:
            click.echo("  ✓ " + line)
        click.echo("  ✗ " + exc.message)
        click.echo(_("Not authentic: this report cannot be trusted or submitted."))
        ctx.exit(1)
    click.echo(
        _("{path}: {profile} on {backend}").format(
            path=report, profile=done.profile, backend=done.backend
        )
    )
    for line in done.checked:
        click.echo("  ✓ " + line)
    for line in done.shortfalls:
        click.echo("  ✗ " + line)
    if not done.passed:
        click.echo(_("Authentic, but not passed: it cannot be certified."))
        ctx.exit(1)
    if done.challenge is None:
        click.echo(_("Authentic and passed, but unchallenged: it cannot be certified."))
    else:
        click.echo(_("Authentic and passed: it can be submitted for certification."))


@conformance.command("submit")
@click.option(
    "--sync/--no-sync",
    "sync_now",
    default=True,
    show_default=True,
    help="Send it right away when signed in, or leave it in the outbox for the next sync.",
)
@click.argument("report", type=click.Path(path_type=Path), metavar="FILE|DIR")
@click.pass_context
def submit(ctx: click.Context, sync_now: bool, report: Path) -> None:
    """Verify a signed report and submit it for certification through the outbox."""
    from portal.conformance.submit import queue_submission
    from portal.db.enums import Certification
    from portal.db.store import Store

    with Store.open(_data_dir(ctx)) as store:
        item = queue_submission(store, report)
        click.echo(_("Queued for certification (outbox item #{id}).").format(id=item))
        if sync_now:
            _sync_now(ctx, store)
        else:
            click.echo(_("It is sent at the next sync (`aic-portal sync`)."))
        shown = _echo_runs(store, sha256_of=report)
    if any(run.certification == Certification.REFUSED for run in shown):
        ctx.exit(1)


@conformance.command("runs")
@click.argument("run_id", type=int, required=False, metavar="[ID]")
@click.pass_context
def runs(ctx: click.Context, run_id: int | None) -> None:
    """List the runs kept here with their certification, or show run ID check by check."""
    from portal.conformance.labels import check_status
    from portal.conformance.runs import run_detail
    from portal.db.store import Store

    with Store.open(_data_dir(ctx)) as store:
        if run_id is None:
            _echo_runs(store)
            return
        detail = run_detail(store, run_id)
    _echo_run(detail.summary)
    click.echo(
        "  "
        + _("seed {seed}; report SHA-256 {sha256}").format(
            seed=detail.seed, sha256=detail.summary.report_sha256 or "–"
        )
    )
    for result in detail.results:
        ratio = (
            ""
            if result.ratio is None
            else "  " + _("({ratio} × limit)").format(ratio=f"{result.ratio:.3g}")
        )
        click.echo(f"  {check_status(result.status):<24} {result.check}{ratio}")
        if result.repro:
            click.echo("      " + result.repro.replace("\n", "\n      "))


def _echo_runs(store: Store, *, sha256_of: Path | None = None) -> list[RunSummary]:
    """Each run with its certification (only the run of the report at `sha256_of`, given one)."""
    from portal.conformance.runs import list_runs
    from portal.conformance.submit import report_files
    from portal.plugins.attestation import file_sha256

    found = list_runs(store)
    if sha256_of is not None:
        digest = file_sha256(report_files(sha256_of)[0])
        found = [run for run in found if run.report_sha256 == digest]
    if not found:
        click.echo(_("No conformance runs yet."))
    for run in found:
        _echo_run(run)
    return found


def _echo_run(run: RunSummary) -> None:
    from portal.conformance.labels import certification, run_status
    from portal.db.enums import Certification

    click.echo(
        _("Run {id}: {profile} on {backend}, {status}, {checks}, {date}").format(
            id=run.id,
            profile=run.profile,
            backend=run.backend,
            status=run_status(run.status),
            checks=ngettext("{count} check", "{count} checks", run.checks).format(
                count=format_number(run.checks)
            ),
            date=format_datetime(run.started_at),
        )
    )
    state = certification(run.certification)
    if run.certification_detail:
        state += ": " + run.certification_detail
    if not run.challenged and run.certification in (None, Certification.SUBMITTED):
        state += " " + _("(unchallenged: cannot be certified)")
    click.echo("  " + _("Certification: {state}").format(state=state))


def _sync_now(ctx: click.Context, store: Store) -> None:
    """Sync when a marketplace is configured and signed in; otherwise say when it goes."""
    from portal.auth.oauth import configured_marketplace
    from portal.auth.tokens import TokenStore
    from portal.cancel import CancelToken, no_progress
    from portal.errors import ErrorKind, PortalError
    from portal.sync.engine import sync

    obj: _Context = ctx.find_root().obj
    market = configured_marketplace(obj.data_dir, obj.settings)
    later = _("It is sent at the next sync (`aic-portal sync`).")
    try:
        if market is None:
            raise PortalError(_("No marketplace is configured."), kind=ErrorKind.INPUT)
        tokens = TokenStore(obj.data_dir.keyring_service, market.account)
        if tokens.load() is None:
            raise PortalError(_("You are not signed in."), kind=ErrorKind.AUTH)
        report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    except PortalError as exc:
        if exc.kind == ErrorKind.CANCELLED:
            raise
        click.echo(_("Not sent now: {problem}").format(problem=exc.message) + " " + later)
        return
    click.echo(report.summary())


def _quantum_line(name: str, caps: Capabilities) -> str:
    """One `backends` line for a quantum backend: qubits, simulator or not, gates, Qiskit."""
    return _(
        "{name}: quantum; {qubits} qubits; {nature}; basis gates {gates}; qiskit {qiskit}"
    ).format(
        name=name,
        qubits=_("unlimited") if caps.max_qubits is None else format_number(caps.max_qubits),
        nature=_("simulator") if caps.simulator else _("hardware"),
        gates=", ".join(caps.basis_gates),
        qiskit=caps.versions.get("qiskit", "?"),
    )


def _data_dir(ctx: click.Context) -> DataDir:
    obj: _Context = ctx.find_root().obj
    return obj.data_dir
