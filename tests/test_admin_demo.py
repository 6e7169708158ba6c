"""The demo clinic: services, rooms, therapists with hours, and screened
intakes, seeded once however often the command runs."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking.models import Room, Service, Therapist, WorkingHours
from clinic.intake.models import Intake, Screening


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _therapist(db: Session, email: str) -> Therapist:
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None
    therapist = db.get(Therapist, user.id)
    assert therapist is not None
    return therapist


def _hours(therapist: Therapist) -> set[tuple[int, time, time]]:
    return {(h.weekday, h.start, h.end) for h in therapist.hours}


def test_seeding_twice_adds_the_demo_clinic_once(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["clinic", "seed-demo"])
        assert result.exit_code == 0, result.output
    assert [_count(db, m) for m in (User, Service, Room, Therapist, WorkingHours,
                                    Intake, Screening)] == [5, 3, 2, 2, 15, 2, 2]
    services = {s.name: (s.duration_minutes, s.price_pence, s.buffer_minutes)
                for s in db.scalars(select(Service))}
    assert services == {
        "Sciatica relief massage": (60, 5500, 15),
        "Back and hip massage": (45, 4500, 10),
        "Initial assessment and massage": (75, 6500, 15),
    }
    tara = _therapist(db, "therapist1@example.com")
    sam = _therapist(db, "therapist2@example.com")
    assert tara.technique_keys == {"swedish", "deep_tissue", "trigger_point",
                                   "neuromuscular"}
    assert sam.technique_keys == {"swedish", "deep_tissue", "trigger_point"}
    assert len(tara.services) == len(sam.services) == 3
    assert tara.bio and sam.bio
    assert _hours(tara) == {(d, time(9), time(12, 30)) for d in range(5)} | {
        (d, time(13, 30), time(17)) for d in range(5)}
    assert _hours(sam) == {(d, time(10), time(18)) for d in range(1, 6)}


def test_demo_screenings_show_a_clear_and_a_caution(app: Flask, db: Session) -> None:
    app.test_cli_runner().invoke(args=["clinic", "seed-demo"])
    outcomes = {
        email: db.scalar(select(Screening).join(User, User.id == Screening.client_id)
                         .where(User.email == email))
        for email in ("client1@example.com", "client2@example.com")
    }
    clear, caution = outcomes["client1@example.com"], outcomes["client2@example.com"]
    assert clear is not None and caution is not None
    assert (clear.outcome, clear.top_technique) == ("clear", "trigger_point")
    assert caution.outcome == "caution"
    assert caution.fired_rules == ["C-BLEEDING-RISK"]
    assert set(caution.excluded_techniques) == {"deep_tissue", "trigger_point",
                                                "neuromuscular"}


def test_seeding_keeps_what_an_admin_changed(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["clinic", "seed-demo"])
    tara = _therapist(db, "therapist1@example.com")
    tara.bio = "Edited by an admin."
    tara.hours = []
    db.commit()
    runner.invoke(args=["clinic", "seed-demo"])
    db.expire_all()
    tara = _therapist(db, "therapist1@example.com")
    assert (tara.bio, tara.hours) == ("Edited by an admin.", [])



def test_demo_clients_each_have_one_upcoming_session(app: Flask, db: Session) -> None:
    from clinic.booking.models import Booking

    runner = app.test_cli_runner()
    for _ in range(2):
        assert runner.invoke(args=["clinic", "seed-demo"]).exit_code == 0
    bookings = list(db.scalars(select(Booking).order_by(Booking.starts_at)))
    assert len(bookings) == 2
    local = [b.starts_at.astimezone(ZoneInfo(app.config["CLINIC_TIMEZONE"]))
             for b in bookings]
    assert [t.time() for t in local] == [time(10), time(14)]
    assert local[0].weekday() < 5 and local[0].date() == local[1].date()
    assert all(b.screening_id is not None for b in bookings)
    assert [b.technique for b in bookings] == ["trigger_point", "swedish"]
