"""The demo clinic that ``make run`` seeds. Demo data only: refused in
production, and idempotent (running it again adds nothing twice)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.accounts.services import create_user, find_user_by_email

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105  (published demo login)

DEMO_USERS: tuple[dict[str, Any], ...] = (
    {"email": "admin@example.com", "full_name": "Alex Admin", "role": Role.ADMIN},
    {"email": "therapist1@example.com", "full_name": "Tara Jones",
     "role": Role.THERAPIST, "phone": "020 7946 0101"},
    {"email": "therapist2@example.com", "full_name": "Sam Patel",
     "role": Role.THERAPIST, "phone": "020 7946 0102"},
    {"email": "client1@example.com", "full_name": "Chris Client",
     "role": Role.CLIENT, "phone": "07700 900001",
     "date_of_birth": date(1988, 4, 12)},
    {"email": "client2@example.com", "full_name": "Dana Doe",
     "role": Role.CLIENT, "phone": "07700 900002",
     "date_of_birth": date(1979, 9, 30)},
)


def seed_demo(db: Session, config: dict[str, Any]) -> list[tuple[str, str]]:
    """Create whatever demo records are missing; return (role, email) logins."""
    users = [_ensure_user(db, spec, config) for spec in DEMO_USERS]
    db.flush()
    return [(user.role.value, user.email) for user in users]


def _ensure_user(db: Session, spec: dict[str, Any], config: dict[str, Any]) -> User:
    existing = find_user_by_email(db, spec["email"])
    if existing is not None:
        return existing
    return create_user(
        db, password=DEMO_PASSWORD, hash_profile=config["PASSWORD_HASH_PROFILE"],
        **spec,
    )
