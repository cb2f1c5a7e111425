"""The partner profile kept locally: saved from two threads at once without a clash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.db.enums import PartnerType
from portal.db.models import PartnerOrganisation, PartnerProfile
from portal.db.store import Store
from portal.paths import DataDir
from portal.sync.profile import Whoami, forget_profile, save_profile

WHO = Whoami(
    organisation_id="org-lagos",
    organisation="Lagos AI Integrators",
    partner_type=PartnerType.SYSTEM_INTEGRATOR,
    tier="gold",
    regions=["africa-west1"],
    revenue_share=Decimal("0.20"),
    user_id="user-ada",
    user_name="Ada",
    email="ada@lagos-ai.example",
)


@pytest.fixture
def store(data_dir: DataDir) -> Iterator[Store]:
    opened = Store.open(data_dir)
    yield opened
    opened.close()


def save_at_once(store: Store, start: threading.Barrier, failures: list[Exception]) -> None:
    start.wait()
    try:
        save_profile(store, WHO)
    except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped
        failures.append(exc)


def test_two_threads_saving_the_profile_at_once_keep_one_organisation(store: Store) -> None:
    for _round in range(20):
        forget_profile(store)
        start, failures = threading.Barrier(2), []
        workers = [
            threading.Thread(target=save_at_once, args=(store, start, failures)) for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert failures == []
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(PartnerOrganisation)) == 1
            assert session.scalar(select(func.count()).select_from(PartnerProfile)) == 1
