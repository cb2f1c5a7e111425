"""The headless walkthrough: what `make run` shows on a machine without a display."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from portal.about import keyring_status
from portal.auth.oauth import Marketplace, configured_marketplace, sign_in
from portal.auth.tokens import NoKeyringError, TokenStore
from portal.cancel import CancelToken, no_progress
from portal.db.migrate import current_revision
from portal.db.store import Store
from portal.demo.conformance import show_conformance
from portal.demo.exams import show_exams
from portal.demo_accounts import DEMO_EMAIL, DEMO_PASSWORD
from portal.errors import ErrorKind, PortalError
from portal.i18n import (
    _,
    available_locales,
    current_locale,
    format_date,
    format_duration,
    format_money,
    format_number,
    language_name,
    ngettext,
    set_locale,
    text_direction,
)
from portal.overview import table_counts
from portal.paths import DataDir
from portal.settings import Settings
from portal.sync.connectivity import probe_marketplace
from portal.sync.embedded import EmbeddedSandbox
from portal.sync.engine import SyncReport, sync
from portal.sync.profile import Whoami, fetch_profile, save_profile


@dataclass(frozen=True)
class SignedIn:
    """The marketplace the walkthrough signed in to, whom for, and what its first sync fetched."""

    market: Marketplace
    tokens: TokenStore
    who: Whoami
    exams_downloaded: list[str]


def _sign_in_and_sync(
    data_dir: DataDir, market: Marketplace, *, sandbox: bool, echo: Callable[[str], object]
) -> SignedIn | None:
    """Sign in (as the sandbox's demo user), show who that is, and deliver one queued action."""
    tokens = TokenStore(data_dir.keyring_service, market.account)
    try:
        if tokens.load() is None:
            if not sandbox:
                echo(
                    "   "
                    + _("Not signed in: run `aic-portal login` to sign in through your browser.")
                )
                return None
            echo(
                "   "
                + _("Signing in to the sandbox as its demo user {email}…").format(email=DEMO_EMAIL)
            )
            sign_in(
                market,
                tokens,
                open_url=fill_sandbox_sign_in(market),
                cancel=CancelToken(),
                timeout=60,
            )
        who = fetch_profile(market, tokens)
    except NoKeyringError as exc:
        echo("   " + exc.message)
        return None
    echo(
        "   "
        + _("Signed in as {name} <{email}> for {organisation}.").format(
            name=who.user_name, email=who.email, organisation=who.organisation
        )
    )
    with Store.open(data_dir) as store:
        save_profile(store, who)
        report = _publish_a_plugin(data_dir, store, market, tokens, echo=echo)
    downloaded = report.exams_downloaded if report is not None else []
    return SignedIn(market, tokens, who, downloaded)


def _publish_a_plugin(
    data_dir: DataDir,
    store: Store,
    market: Marketplace,
    tokens: TokenStore,
    *,
    echo: Callable[[str], object],
) -> SyncReport | None:
    """Make a plugin from a template, lint, pack and sign it, publish it through the outbox;
    the sync's report (None when lint stopped it)."""
    from portal.plugins.attestation import sign_package
    from portal.plugins.keys import generate_signing_key, has_signing_key, load_signing_key
    from portal.plugins.labels import review_status
    from portal.plugins.lint import has_errors, lint_plugin
    from portal.plugins.pack import pack_plugin
    from portal.plugins.publish import list_versions, queue_publish
    from portal.plugins.templates import create_plugin

    name = f"walkthrough-{datetime.now(UTC):%Y%m%d%H%M%S}"
    # a folder per run: a package's folder belongs to one plugin project
    folder = data_dir.root / "walkthrough" / name / "source"
    create_plugin("model-serving", folder, name=name)
    found = lint_plugin(folder)
    echo(
        "   "
        + ngettext(
            "Made {name} from the model-serving template; lint: {n} finding.",
            "Made {name} from the model-serving template; lint: {n} findings.",
            len(found),
        ).format(name=name, n=len(found))
    )
    if has_errors(found):
        return None
    if not has_signing_key(data_dir):
        key = generate_signing_key(data_dir)
        echo("   " + _("Made the signing key {key}.").format(key=key.key_id))
    package = folder.parent / f"{name}-0.1.0.aicpkg"
    packed = pack_plugin(folder, package, progress=no_progress, cancel=CancelToken())
    sign_package(package, load_signing_key(data_dir))
    echo(
        "   "
        + _("Packed and signed {file} ({size} bytes, SHA-256 {digest}…).").format(
            file=package.name, size=format_number(packed.size), digest=packed.sha256[:12]
        )
    )
    queue_publish(store, data_dir, package)
    report = sync(store, market, tokens, progress=no_progress, cancel=CancelToken())
    status = next(v.review_status for v in list_versions(store, name=name))
    echo(
        "   "
        + _("Queued it for publishing, then synced: {summary} Review: {status}.").format(
            summary=report.summary(), status=review_status(status)
        )
    )
    return report


def _shown_or_stopped(step: Callable[[], None], *, echo: Callable[[str], object]) -> None:
    """Run a step; one that cannot go on says why in a line, and the walkthrough goes on."""
    try:
        step()
    except PortalError as exc:
        if exc.kind == ErrorKind.CANCELLED:
            raise
        echo("   " + _("Stopped here: {problem}").format(problem=exc.message))


def fill_sandbox_sign_in(market: Marketplace, *, email: str = DEMO_EMAIL) -> Callable[[str], None]:
    """What a person does in the browser, done with a published sandbox demo user.

    For the walkthrough, the benchmarks and the tests: it only works against the sandbox.
    """

    def visit(url: str) -> None:
        def walk() -> None:
            import httpx

            with market.client() as web:
                page = web.get(url)
                fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
                answer = web.post(
                    "/oauth/authorize",
                    data={**fields, "email": email, "password": DEMO_PASSWORD},
                )
            httpx.get(answer.headers["location"])

        threading.Thread(target=walk, daemon=True).start()

    return visit


def walkthrough(data_dir: DataDir, settings: Settings, *, echo: Callable[[str], object]) -> None:
    """Open the store as the app does at start, then show what it holds and how it will speak."""
    step = 0

    def heading(title: str) -> None:
        nonlocal step
        step += 1
        echo("")
        echo(f"{step}. {title}")

    heading(_("Data dir"))
    echo("   " + str(data_dir.root))

    heading(_("Local store"))
    before = current_revision(data_dir.database)
    with Store.open(data_dir) as store:
        after = store.revision()
        if before == after:
            echo(
                "   "
                + _("{path}: schema {revision}, current").format(
                    path=data_dir.database, revision=after
                )
            )
        else:
            echo(
                "   "
                + _("{path}: upgraded from {before} to schema {revision}").format(
                    path=data_dir.database, before=before or _("empty"), revision=after
                )
            )
        for table, rows in table_counts(store).items():
            echo(
                "   "
                + ngettext("{table}: {n} row", "{table}: {n} rows", rows).format(
                    table=table, n=format_number(rows)
                )
            )

    heading(_("Languages and formats"))
    chosen = current_locale()
    sample_time = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    try:
        for code in available_locales():
            set_locale(code)
            echo(
                "   "
                + " · ".join(
                    [
                        f"{code} ({language_name(code)}, {text_direction(code)})",
                        format_number(1234567.891),
                        format_money(Decimal("1499.50"), "USD"),
                        format_date(sample_time.date(), length="long"),
                        format_duration(5400, granularity="minute"),
                    ]
                )
            )
    finally:
        set_locale(chosen)

    heading(_("Secrets"))
    keyring = keyring_status()
    if keyring.usable:
        echo(
            "   " + _("Tokens and key passphrases go to {backend}.").format(backend=keyring.backend)
        )
    else:
        echo(
            "   "
            + _(
                "No usable OS keyring ({backend}): signing in and signing keys will ask you "
                "to install or unlock one; nothing is stored in plain text."
            ).format(backend=keyring.backend)
        )

    heading(_("Marketplace"))
    embedded = None
    market = configured_marketplace(data_dir, settings)
    if market is None:
        embedded = EmbeddedSandbox(data_dir)
        market = embedded.start(cancel=CancelToken())
        echo(
            "   "
            + _("No marketplace is configured: started the embedded sandbox at {url}.").format(
                url=market.url
            )
        )
    try:
        reach = probe_marketplace(market)
        signed_in = None
        if not reach.online:
            echo("   " + _("Offline: {reason}").format(reason=reach.reason()))
        else:
            echo("   " + _("Online: {url}").format(url=market.url))
            signed_in = _sign_in_and_sync(data_dir, market, sandbox=embedded is not None, echo=echo)

        heading(_("Conformance"))
        _shown_or_stopped(lambda: show_conformance(data_dir, signed_in, echo=echo), echo=echo)

        heading(_("Exams"))
        _shown_or_stopped(lambda: show_exams(data_dir, signed_in, echo=echo), echo=echo)
    finally:
        if embedded is not None:
            embedded.stop()
    echo("")
    echo(_("Log file: {path}").format(path=data_dir.log_file))
