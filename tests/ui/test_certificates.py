"""Certificates as a partner sees them: on the dashboard, warned of before they end, printed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytestqt.qtbot import QtBot

from portal.db.models import Certificate
from portal.exams.credentials import Award, build_credential, sign_credential, verify_credential
from ui.app import Shell
from ui.certificate_pdf import qr_payload, render_certificate_pdf
from ui.operations import running_operations
from ui.pages.dashboard import DashboardPage

NOW = datetime.now(UTC)
KEY = Ed25519PrivateKey.generate()


def _credential(certificate_id: str, title: str, valid_until: datetime) -> dict[str, object]:
    award = Award(
        certificate_id, "Amina Diallo", "org-lagos", "aic-exam", title, "0.86", NOW, valid_until
    )
    unsigned = build_credential(award, issuer_url="https://market.example", issuer_name="AIC")
    return sign_credential(unsigned, KEY, created=NOW)


def _hold(
    shell: Shell, certificate_id: str, title: str, valid_until: datetime, *, passed: bool = True
) -> None:
    store = shell.state.store
    assert store is not None
    with store.session() as session, session.begin():
        session.add(
            Certificate(
                certificate_id=certificate_id,
                exam_id="aic-exam",
                exam_title=title,
                holder_name="Amina Diallo",
                score=0.86,
                passed=passed,
                issued_at=NOW,
                document=_credential(certificate_id, title, valid_until),
            )
        )


def test_the_dashboard_lists_certificates_and_warns_90_days_before_one_ends(
    shell: Shell, qtbot: QtBot
) -> None:
    _hold(shell, "later", "AIC Conformance Engineer", NOW + timedelta(days=400))
    _hold(shell, "soon", "AIC Plugin Engineer", NOW + timedelta(days=30, hours=1))
    _hold(shell, "gone", "AIC Exam Proctor", NOW - timedelta(days=2))
    _hold(shell, "failed", "AIC Sync Specialist", NOW + timedelta(days=10), passed=False)
    page = shell.window.page("dashboard")
    assert isinstance(page, DashboardPage)
    shell.state.sig_changed.emit()
    qtbot.waitUntil(lambda: page.held.rowCount() == 3 and not running_operations())

    statuses = {page.held.item(r, 0).text(): page.held.item(r, 3).text() for r in range(3)}
    assert statuses == {
        "AIC Exam Proctor": "Expired",
        "AIC Plugin Engineer": "Expires in 30 days",
        "AIC Conformance Engineer": "Valid",
    }
    card = page.cards["certificates"]
    assert card.value.text() == "4"
    assert card.hint.text() == "1 expires within 90 days: re-sit the exam to keep it."
    assert not card.hint.isHidden()


def test_no_warning_while_every_certificate_has_time_left(shell: Shell, qtbot: QtBot) -> None:
    _hold(shell, "later", "AIC Conformance Engineer", NOW + timedelta(days=91))
    page = shell.window.page("dashboard")
    assert isinstance(page, DashboardPage)
    shell.state.sig_changed.emit()
    qtbot.waitUntil(lambda: page.held.rowCount() == 1 and not running_operations())
    assert page.cards["certificates"].hint.isHidden()
    assert page.held.item(0, 3).text() == "Valid"


def test_the_pdf_certificate_is_one_page_that_carries_its_verification(
    qtbot: QtBot, tmp_path: Path
) -> None:
    credential = _credential("c0ffee", "AIC Plugin Engineer", NOW + timedelta(days=730))
    check = verify_credential(credential, trusted_keys=[KEY.public_key()])
    out = render_certificate_pdf(check, tmp_path / "certificate.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert (
        data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>")
        >= 1
    )
    assert b"/Count 1" in data
    assert [p.name for p in tmp_path.iterdir()] == ["certificate.pdf"]
    assert qr_payload(check) == (
        f"https://market.example/v1/certificates/c0ffee/verify#sha256={check.digest}"
    )


def _trust(shell: Shell) -> None:
    from cryptography.hazmat.primitives import serialization

    from portal.exams.library import trust_keys

    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    trust_keys(shell.state.data_dir, [pem.decode()], source="https://market.example")


def test_the_exams_page_prints_a_certificate_and_saves_its_credential(
    shell: Shell, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from ui.pages.exams import ExamsPage

    _trust(shell)
    _hold(shell, "c0ffee", "AIC Plugin Engineer", NOW + timedelta(days=700))
    page = shell.window.page("exams")
    assert isinstance(page, ExamsPage)
    shell.window.show_page("exams")
    shell.state.sig_changed.emit()
    qtbot.waitUntil(lambda: page.certificates.rowCount() == 1 and not running_operations())
    actions = page.certificate_actions
    assert not actions.pdf_button.isEnabled()
    page.certificates.setFocus()
    page.certificates.setCurrentCell(0, 0)
    assert actions.pdf_button.isEnabled()

    pdf = tmp_path / "out" / "mine.pdf"
    pdf.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), ""))
    actions.pdf_button.click()
    qtbot.waitUntil(lambda: pdf.exists() and not running_operations())
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert shell.window.statusBar().currentMessage() == "Saved mine.pdf."

    saved = tmp_path / "out" / "mine.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    actions.credential_button.click()
    qtbot.waitUntil(lambda: saved.exists() and not running_operations())
    check = verify_credential(json.loads(saved.read_text()), trusted_keys=[KEY.public_key()])
    assert check.genuine


@pytest.mark.parametrize(
    ("forge", "verdict"),
    [(False, "This certificate is genuine and current."), (True, "not genuine")],
)
def test_a_certificate_file_is_checked_from_the_exams_page(
    shell: Shell,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    forge: bool,
    verdict: str,
) -> None:
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from ui.pages.exams import ExamsPage

    _trust(shell)
    credential = _credential("abc", "AIC Plugin Engineer", NOW + timedelta(days=700))
    if forge:
        credential["name"] = "AIC Grand Master"
    file = tmp_path / "sent.json"
    file.write_text(json.dumps(credential))
    page = shell.window.page("exams")
    assert isinstance(page, ExamsPage)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(file), ""))
    page.verify_button.click()
    qtbot.waitUntil(lambda: page.findChild(QMessageBox) is not None)
    box = page.findChild(QMessageBox)
    assert verdict in box.text()
    assert "Holder: Amina Diallo" in box.informativeText()
    box.close()


def test_the_exams_page_shows_the_marketplace_results(shell: Shell, qtbot: QtBot) -> None:
    from portal.db.models import Exam, ExamResult
    from ui.pages.exams import ExamsPage

    store = shell.state.store
    assert store is not None
    with store.session() as session, session.begin():
        session.add(
            Exam(
                exam_id="aic-platform-associate",
                version="2026.1",
                title="AIC-Platform Associate",
                languages=["en"],
                duration_s=3600,
                pass_mark=0.7,
                package_path="/nowhere/associate.aicexam",
                package_sha256="0" * 64,
            )
        )
        for n, (score, passed, pending) in enumerate([(14.0, True, 0), (6.0, False, 1)]):
            session.add(
                ExamResult(
                    submission_id=f"s{n}",
                    exam_id="aic-platform-associate",
                    exam_version="2026.1" if passed else "2025.2",  # no package here: its id
                    candidate_name="Amina Diallo",
                    score=score,
                    max_score=16.0,
                    passed=passed,
                    pending_manual=pending,
                    report={"final": not pending},
                    scored_at=NOW - timedelta(days=n),
                )
            )
    page = shell.window.page("exams")
    assert isinstance(page, ExamsPage)
    shell.state.sig_changed.emit()
    qtbot.waitUntil(lambda: page.results.rowCount() == 2 and not running_operations())
    rows = {
        page.results.item(r, 2).text(): (
            page.results.item(r, 0).text(),
            page.results.item(r, 3).text(),
        )
        for r in range(page.results.rowCount())
    }
    assert rows == {
        "88%": ("AIC-Platform Associate", "Passed"),
        "38%": ("aic-platform-associate", "Not decided yet · 1 answer awaits manual scoring"),
    }
    assert not page.results.isHidden()
