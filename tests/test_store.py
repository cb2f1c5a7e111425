"""Reading and writing the store through the core functions the pages and the CLI use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from portal.conformance.runs import list_runs
from portal.db.enums import OutboxState, PartnerType, RunStatus
from portal.db.models import (
    Certificate,
    ConformanceResult,
    ConformanceRun,
    OutboxItem,
    PartnerOrganisation,
    PluginVersion,
)
from portal.db.store import Store
from portal.errors import InputError
from portal.exams.catalog import list_certificates, list_exams
from portal.overview import overview, table_counts, waiting_to_sync
from portal.paths import DataDir
from portal.plugins.projects import add_project, list_projects, remove_project
from portal.sync.outbox import list_outbox


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


def test_a_new_store_is_empty(store: Store) -> None:
    assert set(table_counts(store).values()) == {0}
    empty = overview(store)
    assert empty.organisation is None
    assert (empty.plugin_projects, empty.outbox_waiting, empty.certificates) == (0, 0, 0)
    assert list_projects(store) == list_runs(store) == list_exams(store) == []
    assert list_certificates(store) == list_outbox(store) == []


def test_plugin_projects_are_added_listed_and_removed(store: Store, tmp_path: Path) -> None:
    (tmp_path / "zeta").mkdir()
    (tmp_path / "Alpha").mkdir()
    zeta = add_project(store, tmp_path / "zeta")
    add_project(store, tmp_path / "Alpha")
    with store.session() as session, session.begin():
        session.add_all([PluginVersion(project_id=zeta.id, version=v) for v in ("1.0.0", "1.1.0")])
    assert [(p.name, p.versions) for p in list_projects(store)] == [("Alpha", 0), ("zeta", 2)]
    assert overview(store).plugin_projects == 2

    remove_project(store, zeta.id)
    assert [p.name for p in list_projects(store)] == ["Alpha"]
    assert (tmp_path / "zeta").is_dir()


def test_a_folder_is_added_once(store: Store, tmp_path: Path) -> None:
    add_project(store, tmp_path)
    with pytest.raises(InputError, match="already a plugin project"):
        add_project(store, tmp_path / ".")
    assert len(list_projects(store)) == 1


def test_a_missing_folder_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        add_project(store, tmp_path / "nowhere")


def test_overview_counts_what_is_there(store: Store) -> None:
    now = datetime.now(UTC)
    with store.session() as session, session.begin():
        session.add(
            PartnerOrganisation(
                name="Jakarta Edge", partner_type=PartnerType.REGIONAL, regions=["asia-southeast2"]
            )
        )
        for n, state in enumerate(
            [OutboxState.PENDING, OutboxState.IN_FLIGHT, OutboxState.DELIVERED, OutboxState.FAILED]
        ):
            session.add(OutboxItem(idempotency_key=f"k{n}", resource="r", action="a", state=state))
        run = ConformanceRun(backend="cpu-reference", profile="tensor-core-v1", seed=1)
        run.results = [
            ConformanceResult(check_id="add", status="PASS"),
            ConformanceResult(check_id="mul", status="FAIL", measured_error=0.5),
        ]
        session.add(run)
        session.add(
            Certificate(
                certificate_id="c1",
                exam_id="e",
                exam_title="AIC Associate",
                holder_name="Ada",
                score=0.9,
                passed=True,
                issued_at=now - timedelta(days=1),
                document={},
            )
        )

    seen = overview(store)
    assert seen.organisation is not None
    assert seen.organisation.revenue_share == Decimal("0.2")
    assert (seen.conformance_runs, seen.certificates, seen.outbox_waiting) == (1, 1, 2)
    assert waiting_to_sync(store) == 2
    assert [(r.checks, r.status) for r in list_runs(store)] == [(2, RunStatus.RUNNING)]
    assert [i.state for i in list_outbox(store)] == [
        OutboxState.PENDING,
        OutboxState.IN_FLIGHT,
        OutboxState.FAILED,
        OutboxState.DELIVERED,
    ]
    assert list_certificates(store)[0].issued_at.tzinfo is not None
