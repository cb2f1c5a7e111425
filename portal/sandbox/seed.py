"""`--seed-demo`: partner organisations and users, so a fresh sandbox has something to show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from portal.sandbox.exams import seed_demo_exams
from portal.sandbox.store import Organisation, User, hash_password

__all__ = ["DEMO_PASSWORD", "seed_demo"]

from portal.demo_accounts import DEMO_PASSWORD

DEMO = [
    (
        "Lagos AI Integrators",
        "system_integrator",
        "gold",
        ["africa-west1"],
        "0.25",
        [("ada@lagos-ai.example", "Ada Obi"), ("tunde@lagos-ai.example", "Tunde Bello")],
    ),
    (
        "Jakarta Edge Compute",
        "regional",
        "silver",
        ["asia-southeast2"],
        "0.20",
        [("sari@jakarta-edge.example", "Sari Wijaya")],
    ),
    (
        "Qubit Forge",
        "hardware",
        "registered",
        ["europe-west4"],
        "0.20",
        [("lena@qubitforge.example", "Lena Vogel")],
    ),
]


def seed_demo(sessions: sessionmaker[Any]) -> list[str]:
    """Create the demo organisations, users and exams that are missing; returns the sign-ins."""
    emails = []
    with sessions() as session, session.begin():
        for name, kind, tier, regions, share, people in DEMO:
            org = session.scalars(select(Organisation).where(Organisation.name == name)).first()
            if org is None:
                org = Organisation(
                    name=name,
                    partner_type=kind,
                    tier=tier,
                    regions=regions,
                    revenue_share=Decimal(share),
                )
                session.add(org)
                session.flush()
            for email, display_name in people:
                emails.append(email)
                if session.scalars(select(User).where(User.email == email)).first() is None:
                    session.add(
                        User(
                            organisation_id=org.id,
                            email=email,
                            display_name=display_name,
                            password_hash=hash_password(DEMO_PASSWORD),
                        )
                    )
    seed_demo_exams(sessions)
    return emails
