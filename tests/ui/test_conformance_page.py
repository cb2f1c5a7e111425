"""The Conformance page as a partner uses it: pick backend and profile, run, read, sign, submit."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from portal.conformance.catalogue import profile_checks
from portal.conformance.runner import StartError
from tests.keyrings import MemoryKeyring
from tests.sandbox_server import RunningSandbox
from ui.app import Shell
from ui.operations import running_operations
from ui.pages.conformance import ConformancePage
from ui.pages.conformance_wizard import BACKEND, PROFILE, RESULTS, RUN, SUBMIT, RunWizard

HANGS = "tests.conformance.hangs_in_var"
OFF_BY = "tests.conformance.off_by_matmul"


TENSOR = profile_checks("tensor-core-v1")


def _settle(qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not running_operations())


def _page(shell: Shell) -> ConformancePage:
    shell.window.show_page("conformance")
    page = shell.window.page("conformance")
    assert isinstance(page, ConformancePage)
    return page


def _wizard(shell: Shell, qtbot: QtBot) -> RunWizard:
    """The wizard opened from the page, with the backends loaded."""
    page = _page(shell)
    page.new_run()
    wizard = page.wizard
    assert wizard is not None
    qtbot.waitUntil(lambda: wizard.catalogue is not None)
    _settle(qtbot)
    return wizard


def _choose(wizard: RunWizard, qtbot: QtBot, backend: str) -> None:
    """Select `backend` in step 1, loading it as an array API module if it is one."""
    if backend.startswith("array-api:"):
        wizard.backends.module.setText(backend.removeprefix("array-api:"))
        wizard.backends.add_module()
        qtbot.waitUntil(lambda: backend in wizard.backends.infos)
        _settle(qtbot)
    for row in range(wizard.backends.list.count()):
        if wizard.backends.list.item(row).data(Qt.ItemDataRole.UserRole) == backend:
            wizard.backends.list.setCurrentRow(row)
    chosen = wizard.backends.chosen()
    assert chosen is not None and chosen.name == backend


def _run(wizard: RunWizard, qtbot: QtBot, backend: str, only: str) -> None:
    """Choose `backend`, run the checks matching `only`, and wait for the results."""
    _choose(wizard, qtbot, backend)
    wizard.next_button.click()
    assert wizard.step == PROFILE
    wizard.profiles.only.setText(only)
    wizard.next_button.click()
    assert wizard.step == RUN
    qtbot.waitUntil(lambda: wizard.outcome is not None, timeout=60_000)
    _settle(qtbot)


def _plain(text: str) -> str:
    """Text without the bidi isolates that keep identifiers left to right in Arabic."""
    return text.replace("\u2066", "").replace("\u2069", "")


def _rows(table: Any, columns: int) -> list[list[str]]:
    return [
        [table.item(row, column).text() for column in range(columns)]
        for row in range(table.rowCount())
        if not table.isRowHidden(row)
    ]


def test_a_small_profile_runs_live_to_the_results_and_is_listed(shell: Shell, qtbot: QtBot) -> None:
    page = _page(shell)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty)
    wizard = _wizard(shell, qtbot)
    backends = wizard.backends
    names = [
        backends.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(backends.list.count())
    ]
    assert names == sorted(names) and {"cpu-reference", "lif-reference"} <= set(names)
    assert backends.chosen() is not None and backends.chosen().name == "cpu-reference"
    assert backends.kind.text() == "Tensor"
    assert "float32" in backends.dtypes.text() and _plain(backends.devices.text()) == "cpu"
    assert "array_api" in backends.versions.text()

    _choose(wizard, qtbot, "cpu-reference")
    wizard.next_button.click()
    profiles = wizard.profiles
    assert [_plain(profiles.list.item(r).text()) for r in range(profiles.list.count())] == [
        f"tensor-core-v1: {len(TENSOR)} checks, {sum(c.required for c in TENSOR)} required"
    ]  # the neuromorphic profile is not offered for a tensor backend
    profiles.only.setText("nope.*")
    assert not wizard.next_button.isEnabled()
    assert profiles.count.text() == "No check of tensor-core-v1 matches “nope.*”."
    profiles.only.setText("softmax.float[36][24]")
    assert profiles.count.text() == f"2 of {len(TENSOR)} checks will run."
    profiles.seed.setValue(7)
    run = wizard.run
    seen: list[tuple[str, str, bool]] = []
    run._relay.sig_result.connect(  # what the live list showed as each result came in
        lambda _serial, r: seen.append(
            (r.check, run.table.item(run._rows[r.check], 1).text(), run.running is not None)
        )
    )
    wizard.next_button.click()
    assert wizard.run.table.item(0, 0).text() == "softmax.float32"
    assert not wizard.back_button.isEnabled() and not wizard.close_button.isEnabled()
    qtbot.waitUntil(lambda: wizard.outcome is not None, timeout=60_000)
    _settle(qtbot)
    assert seen == [  # each row filled while the run still went on
        ("softmax.float32", "Passed", True),
        ("softmax.float64", "Passed", True),
    ]
    assert _rows(wizard.run.table, 2) == [
        ["softmax.float32", "Passed"],
        ["softmax.float64", "Passed"],
    ]
    assert wizard.run.table.item(0, 2).text() not in ("", "—")  # the measured error ratio
    assert wizard.run.table.item(0, 3).text().endswith(" ms")
    assert wizard.run.progress.value() == wizard.run.progress.maximum() == 2
    assert wizard.outcome is not None and wizard.outcome.seed == 7

    wizard.next_button.click()
    assert wizard.step == RESULTS
    assert wizard.results.summary.text() == "tensor-core-v1 on cpu-reference: 2 passed."
    assert wizard.results.verdict.text().startswith("Passed")

    wizard.next_button.click()
    assert wizard.step == SUBMIT
    qtbot.waitUntil(lambda: wizard.submit.folder is not None)
    folder = wizard.submit.folder
    assert folder is not None and (folder / "report.json").is_file()
    assert not (folder / "report.dsse.json").exists()  # signed only when asked
    assert "unchallenged" in (folder / "report.json").read_text()
    wizard.next_button.click()  # Done
    assert not page.showing_wizard()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    _settle(qtbot)
    assert _rows(page.table, 5) == [
        ["cpu-reference", "tensor-core-v1", "Passed", "2", "Not submitted"]
    ]
    assert page.stack.currentWidget() is page.views


def test_filters_narrow_the_results(shell: Shell, qtbot: QtBot) -> None:
    wizard = _wizard(shell, qtbot)
    _run(wizard, qtbot, f"array-api:{OFF_BY}", "[mb]*.float[36][24]")
    wizard.next_button.click()
    results = wizard.results
    assert results.verdict.text().startswith("Not passed")
    assert results.summary.text() == (
        f"tensor-core-v1 on array-api:{OFF_BY}: 2 passed and 4 failed."
    )
    everything = results.visible_checks()
    assert everything == [
        "broadcasting.float32",
        "broadcasting.float64",
        "matmul.float32",
        "matmul.float64",
        "matmul.batched.float32",
        "matmul.batched.float64",
    ]
    results.status.setCurrentIndex(results.status.findText("Failed"))
    assert results.visible_checks() == [c for c in everything if c.startswith("matmul")]
    results.required.setChecked(True)
    assert results.visible_checks() == ["matmul.float32", "matmul.batched.float32"]
    results.search.setText("BATCHED")
    assert results.visible_checks() == ["matmul.batched.float32"]
    assert results.shown.text() == "Showing 1 of 6 checks."
    results.search.setText("no such check")
    assert results.visible_checks() == []
    assert results.nothing.isVisibleTo(results) and not results.table.isVisibleTo(results)
    results.search.clear()
    results.required.setChecked(False)
    results.status.setCurrentIndex(results.status.findText("Passed"))
    assert results.visible_checks() == ["broadcasting.float32", "broadcasting.float64"]
    results.status.setCurrentIndex(results.status.findData("not-passed"))
    assert len(results.visible_checks()) == 4
    results.status.setCurrentIndex(0)
    assert results.visible_checks() == everything


def test_a_check_opens_with_its_chart_tolerance_and_repro(shell: Shell, qtbot: QtBot) -> None:
    wizard = _wizard(shell, qtbot)
    _run(wizard, qtbot, f"array-api:{OFF_BY}", "[mb]*.float[36][24]")
    wizard.next_button.click()
    results = wizard.results
    results.table.setFocus()
    row = next(
        r
        for r in range(results.table.rowCount())
        if results.table.item(r, 0).text() == "matmul.float32"
    )
    results.table.selectRow(row)
    qtbot.keyClick(results.table, Qt.Key.Key_Return)
    detail = wizard.check
    assert wizard.stack.currentWidget() is detail
    assert detail.title.text() == "matmul.float32"
    assert detail.status.text().startswith("Failed: largest error is ")
    assert detail.tolerance.text().startswith("matmul on float32: rtol 1.2e-07, atol 1e-06")
    assert "up to 0.75 passes; up to 1 passes with a warning" in detail.tolerance.text()
    quantities = [detail.measured.item(r, 0).text() for r in range(detail.measured.rowCount())]
    assert quantities == ["Largest absolute error", "Largest relative error", "Error / limit"]
    assert detail.chart.isVisibleTo(detail) and not detail.no_chart.isVisibleTo(detail)
    bars = detail.chart.bars
    assert [(b.label, b.this) for b in bars] == [("float32", True), ("float64", False)]
    assert bars[0].ratio > 4  # far above the warning limit drawn beside it
    series = detail.chart.chart().series()
    assert [s.name() for s in series[1:]] == ["Limit", "Warning level (0.75)"]
    assert [p.y() for p in series[1].points()] == [1.0, 1.0]
    assert [p.y() for p in series[2].points()] == [0.75, 0.75]
    snippet = detail.repro.toPlainText()
    assert f"run_check('array-api:{OFF_BY}', 'tensor-core-v1', 'matmul.float32'" in snippet
    assert detail.repro.isReadOnly()
    assert "input shapes" in detail.repro_info.text()
    detail.copy_button.click()
    assert QGuiApplication.clipboard().text() == snippet
    assert detail.copy_button.text() == "Copied"

    qtbot.keyClick(detail.status, Qt.Key.Key_Escape)  # back to the table, on the same row
    assert wizard.stack.currentWidget() is results
    assert results.table.currentRow() == row

    exact = next(
        r
        for r in range(results.table.rowCount())
        if results.table.item(r, 0).text() == "broadcasting.float32"
    )
    results.table.activated.emit(results.table.model().index(exact, 0))
    assert not detail.chart.isVisibleTo(detail) and detail.no_chart.isVisibleTo(detail)
    assert "compares exactly" in detail.no_chart.text()
    assert "broadcasting.float32" in detail.repro.toPlainText()  # a passing check reruns too
    wizard.back_button.click()
    assert wizard.stack.currentWidget() is results


def test_cancel_stops_the_backend_process_and_the_wizard_goes_on(
    shell: Shell, qtbot: QtBot
) -> None:
    wizard = _wizard(shell, qtbot)
    _choose(wizard, qtbot, f"array-api:{HANGS}")
    wizard.next_button.click()
    wizard.profiles.only.setText("layer-norm.float32")  # its var() never returns
    wizard.next_button.click()
    run = wizard.run
    qtbot.waitUntil(lambda: run.table.item(0, 1).text() == "Running…", timeout=30_000)
    assert multiprocessing.active_children()  # the backend's own process
    assert run.cancel_button.isVisibleTo(run) and run.cancel_button.hasFocus()
    qtbot.keyClick(run.cancel_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: run.running is None, timeout=10_000)
    _settle(qtbot)
    assert multiprocessing.active_children() == []
    assert run.current.text() == (
        "Cancelled after 0 checks; the backend process was stopped and nothing was recorded."
    )
    assert run.table.item(0, 1).text() == "Not run"
    assert not run.cancel_button.isVisibleTo(run)
    assert wizard.outcome is None and not wizard.next_button.isEnabled()
    assert wizard.back_button.isEnabled() and wizard.close_button.isEnabled()

    wizard.back_button.click()  # change the choice and run again: the UI is usable
    assert wizard.step == PROFILE
    wizard.profiles.only.setText("softmax.float32")
    wizard.next_button.click()
    qtbot.waitUntil(lambda: wizard.outcome is not None, timeout=60_000)
    _settle(qtbot)
    assert _rows(run.table, 2) == [["softmax.float32", "Passed"]]


def test_a_backend_that_cannot_load_or_start_is_explained_in_words(
    shell: Shell, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portal.conformance.backends as backends

    broken = "array-api:tests.conformance.needs_libcuda"  # loaded in a child process, as all are
    known = backends.backend_names()
    monkeypatch.setattr(backends, "backend_names", lambda: [*known, broken])
    wizard = _wizard(shell, qtbot)
    listed = wizard.backends.list
    row = next(
        r for r in range(listed.count()) if listed.item(r).data(Qt.ItemDataRole.UserRole) == broken
    )
    assert _plain(listed.item(row).text()) == f"{broken} (cannot be loaded)"
    listed.setCurrentRow(row)  # greyed, but the reason can be read
    assert wizard.backends.problem.text() == (
        "This backend cannot be loaded: OSError: libcuda.so.1: cannot open shared object file"
    )
    assert wizard.backends.chosen() is None and not wizard.next_button.isEnabled()
    qtbot.keyClick(listed, Qt.Key.Key_Return)
    assert wizard.step == BACKEND

    wizard.backends.module.setText("no_such_module_here")
    wizard.backends.add_module()
    qtbot.waitUntil(lambda: wizard.backends.add_button.isEnabled())
    _settle(qtbot)
    assert wizard.backends.module_problem.text() == (
        "There is no Python module no_such_module_here to test."
    )
    import portal.conformance.runner as runner

    def refuse(spec: str, profile: str, **_kw: Any) -> Any:
        raise StartError(f"The backend {spec} could not start: ImportError: libcuda.so.1")

    monkeypatch.setattr(runner, "run_profile", refuse)
    _choose(wizard, qtbot, "cpu-reference")
    wizard.next_button.click()
    wizard.next_button.click()
    qtbot.waitUntil(lambda: wizard.run.running is None)
    _settle(qtbot)
    assert wizard.run.current.text() == (
        "The backend cpu-reference could not start: ImportError: libcuda.so.1"
    )
    assert QApplication.activeModalWidget() is None
    assert shell.window.findChild(QMessageBox, "errorDialog") is None
    assert wizard.back_button.isEnabled()


def test_sign_makes_a_key_first_then_submit_queues_the_report(
    shell: Shell, qtbot: QtBot, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.sync.outbox import list_outbox

    synced: list[bool] = []
    monkeypatch.setattr(shell.state, "sync_now", lambda **_kw: synced.append(True))
    wizard = _wizard(shell, qtbot)
    _run(wizard, qtbot, "cpu-reference", "casts")
    wizard.next_button.click()
    wizard.next_button.click()
    submit = wizard.submit
    qtbot.waitUntil(lambda: submit.folder is not None and submit.sign_button.isEnabled())
    assert not submit.submit_button.isEnabled()
    assert "cannot certify it" in submit.verdict.text()  # no challenge was asked for
    submit.sign_button.click()
    _answer(submit, qtbot, "makeKeyQuestion", QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: submit.signed_by is not None)
    _settle(qtbot)
    assert submit.folder is not None and (submit.folder / "report.dsse.json").is_file()
    assert submit.state_label.text().startswith(f"Signed with key {submit.signed_by}")
    assert submit.submit_button.isEnabled() and not submit.sign_button.isEnabled()

    submit.submit_button.click()
    _answer(submit, qtbot, "submitQuestion", QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: submit.submitted)
    _settle(qtbot)
    assert synced == [True]
    assert submit.state_label.text().startswith("Queued for certification.")
    assert not submit.submit_button.isEnabled()
    assert shell.state.store is not None
    assert any(
        item.resource.startswith("conformance-report/") for item in list_outbox(shell.state.store)
    )
    page = _page(shell)
    wizard.close_button.click()
    qtbot.waitUntil(
        lambda: page.table.rowCount() == 1 and page.table.item(0, 4).text() == "Submitted"
    )
    _settle(qtbot)


def test_the_keyboard_alone_makes_a_run(shell: Shell, qtbot: QtBot) -> None:
    page = _page(shell)
    shell.window.activateWindow()  # keyboard shortcuts go to the active window
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty)
    qtbot.keyClick(shell.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    wizard = page.wizard
    assert wizard is not None and page.showing_wizard()
    qtbot.waitUntil(lambda: wizard.catalogue is not None)
    _settle(qtbot)
    backends = wizard.backends.list
    assert backends.hasFocus()
    for _row in range(backends.count()):  # down the list (other plugins add backends)
        if backends.currentItem().data(Qt.ItemDataRole.UserRole) == "lif-reference":
            break
        qtbot.keyClick(backends, Qt.Key.Key_Down)
    assert wizard.backends.chosen() is not None
    assert wizard.backends.chosen().name == "lif-reference"
    qtbot.keyClick(backends, Qt.Key.Key_Return)
    assert wizard.step == PROFILE
    assert _plain(wizard.profiles.list.item(0).text()).startswith("neuromorphic-lif-v1")
    qtbot.keyClick(wizard.profiles.list, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert wizard.step == BACKEND
    qtbot.keyClick(backends, Qt.Key.Key_Return)
    assert wizard.step == PROFILE
    only = wizard.profiles.only
    only.setFocus()
    qtbot.keyClicks(only, "lif.impulse-response")
    qtbot.keyClick(only, Qt.Key.Key_Return)
    assert wizard.step == RUN
    qtbot.waitUntil(lambda: wizard.outcome is not None, timeout=60_000)
    _settle(qtbot)
    assert wizard.next_button.hasFocus()
    qtbot.keyClick(wizard.next_button, Qt.Key.Key_Space)
    assert wizard.step == RESULTS and wizard.results.table.hasFocus()
    wizard.results.table.selectRow(0)
    qtbot.keyClick(wizard.results.table, Qt.Key.Key_Return)
    assert wizard.stack.currentWidget() is wizard.check
    qtbot.keyClick(wizard.check.status, Qt.Key.Key_Escape)
    assert wizard.stack.currentWidget() is wizard.results
    qtbot.keyClick(wizard.results.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert wizard.step == SUBMIT


def _answer(widget: QWidget, qtbot: QtBot, name: str, button: QMessageBox.StandardButton) -> None:
    qtbot.waitUntil(lambda: widget.window().findChild(QMessageBox, name) is not None)
    widget.window().findChild(QMessageBox, name).button(button).click()


def test_a_challenged_run_is_certified_by_the_sandbox(
    shell: Shell, qtbot: QtBot, sandbox: RunningSandbox, memory_keyring: MemoryKeyring
) -> None:
    from portal.plugins.keys import generate_signing_key
    from tests.sync.test_engine import signed_in

    shell.state.update_settings(marketplace_url=sandbox.url, ca_bundle=str(sandbox.tls.ca_cert))
    signed_in(sandbox, shell.state.data_dir, "lena@qubitforge.example")
    generate_signing_key(shell.state.data_dir)
    wizard = _wizard(shell, qtbot)
    _choose(wizard, qtbot, "cpu-reference")
    wizard.next_button.click()
    challenge = wizard.profiles.challenge
    assert challenge.isEnabled() and sandbox.url in wizard.profiles.challenge_hint.text()
    challenge.setChecked(True)
    wizard.profiles.seed.setValue(3)
    wizard.next_button.click()
    qtbot.waitUntil(lambda: wizard.outcome is not None, timeout=60_000)
    _settle(qtbot)
    outcome = wizard.outcome
    assert outcome is not None and outcome.challenge is not None
    assert outcome.base_seed == 3 and outcome.seed != 3  # drawn from the marketplace's nonce
    assert outcome.exit_code == 0
    wizard.next_button.click()
    wizard.next_button.click()
    submit = wizard.submit
    assert "cannot certify" not in submit.verdict.text()
    qtbot.waitUntil(lambda: submit.sign_button.isEnabled())
    submit.sign_button.click()
    qtbot.waitUntil(lambda: submit.submit_button.isEnabled())
    submit.submit_button.click()
    _answer(submit, qtbot, "submitQuestion", QMessageBox.StandardButton.Yes)
    qtbot.waitUntil(lambda: submit.submitted, timeout=10_000)
    page = _page(shell)
    wizard.next_button.click()  # Done: the list shows the run and, after sync, its verdict

    def certified() -> bool:
        if page.table.rowCount() != 1 or page.table.item(0, 4).text() == "Certified":
            return page.table.rowCount() == 1
        if shell.state.syncing is None and not running_operations():
            shell.state.sync_now()  # the verdict comes with a later sync
        return False

    qtbot.waitUntil(certified, timeout=60_000)
    _settle(qtbot)
    assert page.table.item(0, 4).text() == "Certified"


def test_a_kept_run_opens_from_the_list_and_is_signed_later(
    shell: Shell, qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    from portal.conformance.report import verify_report
    from portal.plugins.keys import generate_signing_key, load_public_key

    key = generate_signing_key(shell.state.data_dir)
    page = _page(shell)
    wizard = _wizard(shell, qtbot)
    _run(wizard, qtbot, f"array-api:{OFF_BY}", "matmul.*float[36][24]")
    wizard.next_button.click()
    wizard.next_button.click()
    qtbot.waitUntil(lambda: wizard.submit.folder is not None)
    folder = wizard.submit.folder
    assert folder is not None
    written = (folder / "report.json").read_bytes()
    wizard.next_button.click()  # Done, unsigned
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    _settle(qtbot)
    assert page.table.item(0, 2).text() == "Failed"

    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(page.showing_wizard)
    _settle(qtbot)
    assert wizard.step == RESULTS and wizard.reopened
    assert wizard.results.visible_checks()[:2] == ["matmul.float32", "matmul.float64"]
    assert wizard.results.verdict.text().startswith("Not passed")
    assert not wizard.back_button.isEnabled()  # nothing before the results of a kept run
    wizard.open_check(wizard.results.outcome.results[0])  # type: ignore[union-attr]
    assert wizard.check.chart.bars[0].ratio > 4 and wizard.back_button.isEnabled()
    wizard.back_button.click()
    wizard.next_button.click()
    submit = wizard.submit
    assert submit.sign_button.isEnabled() and not submit.submit_button.isEnabled()
    submit.sign_button.click()
    qtbot.waitUntil(lambda: submit.signed_by == key.key_id)
    _settle(qtbot)
    assert (folder / "report.json").read_bytes() == written  # the recorded report, now signed
    verified = verify_report(folder / "report.json", load_public_key(key.public_path))
    assert verified.profile == "tensor-core-v1"
    assert submit.submit_button.isEnabled()

    wizard.close_button.click()  # opened again later: signed, so ready to submit
    page.table.selectRow(0)
    page.open_selected()
    qtbot.waitUntil(lambda: wizard.step == RESULTS and page.showing_wizard())
    _settle(qtbot)
    wizard.next_button.click()
    assert submit.state_label.text().startswith(f"Signed with key {key.key_id}")
    assert submit.submit_button.isEnabled() and not submit.sign_button.isEnabled()
