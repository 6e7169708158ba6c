"""What an admin manages: services, rooms, staff accounts, therapists'
profiles and the clinic's settings. Changes to schedules that can touch
booked sessions live in ``clinic.booking.admin_schedule``.

Each function takes the session and the acting admin (an audit ``Actor``),
validates, flushes and records an audit row (never with personal content).
None commits or imports flask.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.accounts.services import (
    EmailTaken,
    create_user,
    issue_reset_token,
    set_active,
)
from clinic.audit.services import Actor, record
from clinic.booking.models import (
    BUFFER_MINUTES,
    DURATION_MINUTES,
    Room,
    Service,
    Therapist,
    TherapistTechnique,
)
from clinic.intake.vocabulary import TECHNIQUE_KEYS
from clinic.settings.models import ClinicSettings
from clinic.settings.services import save_settings

M = TypeVar("M", Service, Room)
MAX_PRICE_PENCE = 1_000_000


class AdminError(Exception):
    """A refusal whose message is safe to show; ``field`` names the form field
    it is about, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AdminError):
    pass


def _get(db: Session, model: type[Any], record_id: int) -> Any:
    found = db.get(model, record_id)
    if found is None:
        raise NotFound("That record does not exist.")
    return found


# ------------------------------------------------------------ services, rooms


@dataclass(frozen=True)
class ServiceValues:
    name: str
    description: str
    duration_minutes: int
    price_pence: int
    buffer_minutes: int


def _check_service(values: ServiceValues) -> None:
    # The form says the same at each field; this guards the DB constraints.
    shortest, longest = DURATION_MINUTES
    if not shortest <= values.duration_minutes <= longest:
        raise AdminError(f"A session lasts {shortest} to {longest} minutes.",
                         "duration_minutes")
    least, most = BUFFER_MINUTES
    if not least <= values.buffer_minutes <= most:
        raise AdminError(f"The buffer is {least} to {most} minutes.", "buffer_minutes")
    if not 0 <= values.price_pence <= MAX_PRICE_PENCE:
        raise AdminError("The price is £0.00 to £10,000.00.", "price")


def _save_named(db: Session, model: type[M], row: M, label: str) -> M:
    """Flush ``row`` unless another row of ``model`` has the same name
    (ignoring case); the unique constraint catches a concurrent insert."""
    taken = AdminError(f"There is already a {label} called {row.name}.", "name")
    with db.no_autoflush:  # a renamed row's new name must wait for the check
        clash = db.scalar(select(model.id).where(
            func.lower(model.name) == row.name.lower(), model.id != (row.id or 0)))
    if clash is not None:
        raise taken
    db.add(row)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise taken from None
    return row


def save_service(db: Session, actor: Actor, values: ServiceValues,
                 service_id: int | None = None) -> Service:
    """Create a service, or update ``service_id``. :raise AdminError:"""
    _check_service(values)
    service = Service() if service_id is None else _get(db, Service, service_id)
    service.name = values.name.strip()
    service.description = values.description.strip()
    service.duration_minutes = values.duration_minutes
    service.price_pence = values.price_pence
    service.buffer_minutes = values.buffer_minutes
    _save_named(db, Service, service, "service")
    record(db, actor, "create" if service_id is None else "update", "service",
           service.id)
    return service


def save_room(db: Session, actor: Actor, name: str,
              room_id: int | None = None) -> Room:
    room = Room() if room_id is None else _get(db, Room, room_id)
    room.name = name.strip()
    _save_named(db, Room, room, "room")
    record(db, actor, "create" if room_id is None else "update", "room", room.id)
    return room


def set_catalogue_active(db: Session, actor: Actor, model: type[M], record_id: int,
                         active: bool) -> M:
    """(De)activate a service or room. Booked sessions keep it; it is only no
    longer offered for new bookings."""
    row = _get(db, model, record_id)
    row.active = active
    db.flush()
    record(db, actor, "reactivate" if active else "deactivate",
           model.__tablename__, row.id)
    return row


# ------------------------------------------------------------ staff, therapists


@dataclass(frozen=True)
class Profile:
    full_name: str
    phone: str | None
    bio: str
    service_ids: frozenset[int]
    techniques: frozenset[str]


def invite_staff(db: Session, actor: Actor, *, email: str, full_name: str,
                 phone: str | None, role: Role, hash_profile: str,
                 invite_max_age: timedelta) -> tuple[User, str]:
    """Create a therapist or admin account nobody can log in to until they
    choose a password through the returned one-time token (mail it)."""
    if role is Role.CLIENT:
        raise AdminError("Clients register themselves.")
    try:
        user = create_user(
            db, email=email, full_name=full_name, phone=phone, role=role,
            # Random and never shown: the account is unusable until the
            # invited person sets their own password through the link.
            password=secrets.token_urlsafe(32), hash_profile=hash_profile,
        )
    except EmailTaken:
        raise AdminError("An account with this email already exists.",
                         "email") from None
    record(db, actor, "invite", "account", user.id)
    return user, issue_reset_token(db, user, invite_max_age)


def new_invitation(db: Session, actor: Actor, user_id: int,
                   invite_max_age: timedelta) -> tuple[User, str]:
    """A fresh password link for a staff member (lost or expired invitation)."""
    user = _get(db, User, user_id)
    if user.role is Role.CLIENT or not user.active:
        raise NotFound("That record does not exist.")
    record(db, actor, "invite", "account", user.id)
    return user, issue_reset_token(db, user, invite_max_age)


def create_therapist(db: Session, actor: Actor, *, email: str, profile: Profile,
                     hash_profile: str, invite_max_age: timedelta
                     ) -> tuple[Therapist, str]:
    user, token = invite_staff(
        db, actor, email=email, full_name=profile.full_name, phone=profile.phone,
        role=Role.THERAPIST, hash_profile=hash_profile,
        invite_max_age=invite_max_age)
    therapist = Therapist(user_id=user.id, user=user)
    db.add(therapist)
    _apply_profile(db, therapist, profile)
    record(db, actor, "create", "therapist", user.id)
    return therapist, token


def update_therapist(db: Session, actor: Actor, therapist_id: int,
                     profile: Profile) -> Therapist:
    therapist = _get(db, Therapist, therapist_id)
    _apply_profile(db, therapist, profile)
    record(db, actor, "update", "therapist", therapist.user_id)
    return therapist


def _apply_profile(db: Session, therapist: Therapist, profile: Profile) -> None:
    services = list(db.scalars(
        select(Service).where(Service.id.in_(profile.service_ids))
        .order_by(Service.name)))
    if len(services) != len(profile.service_ids):
        raise AdminError("Please choose services from the list.", "services")
    if not profile.techniques <= set(TECHNIQUE_KEYS):
        raise AdminError("Please choose techniques from the list.", "techniques")
    therapist.user.full_name = profile.full_name.strip()
    therapist.user.phone = (profile.phone or "").strip() or None
    therapist.bio = profile.bio.strip()
    therapist.services = services
    # Change only what differs: rows are keyed by (therapist, technique).
    therapist.techniques = [
        t for t in therapist.techniques if t.technique in profile.techniques
    ] + [
        TherapistTechnique(therapist_id=therapist.user_id, technique=key)
        for key in sorted(profile.techniques - therapist.technique_keys)
    ]
    db.flush()


def set_staff_active(db: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Reactivate a therapist (and their login), or (de)activate an admin."""
    user = _get(db, User, user_id)
    if user.role is Role.CLIENT:
        raise NotFound("That record does not exist.")
    if user.role is Role.THERAPIST and not active:
        raise AdminError("Deactivate therapists from their own page.")
    if user.id == actor.user_id and not active:
        raise AdminError("You cannot deactivate your own account.")
    set_active(user, active)
    therapist = db.get(Therapist, user.id)
    if therapist is not None:
        therapist.active = active
    db.flush()
    record(db, actor, "reactivate" if active else "deactivate",
           "therapist" if therapist is not None else "account", user.id)
    return user


# ------------------------------------------------------------ settings


def save_clinic_settings(db: Session, actor: Actor, **values: Any) -> list[str]:
    """Store the clinic's settings and booking policy (validated by the form).
    Returns the names of the settings that changed; the audit row lists them."""
    row = db.get(ClinicSettings, 1)
    changed = sorted(k for k, v in values.items() if getattr(row, k, None) != v)
    save_settings(db, **values)
    record(db, actor, "update", "settings", 1,
           detail="changed: " + (", ".join(changed) or "nothing"))
    return changed
