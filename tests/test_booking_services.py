"""The booking service: every rule refused with its own message and nothing
written; booking, cancelling, rescheduling and no-shows when allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking import services
from clinic.booking.models import Booking, BookingStatus
from clinic.booking.services import (
    BookingPolicyError,
    ScreeningUsed,
    SlotUnavailable,
)
from clinic.booking.slots import Unfit
from clinic.intake.services import BookingNotAllowed, result_of
from clinic.mail.models import OutboxMessage
from tests import factories
from tests.factories import (
    BLEEDING_RISK_ANSWERS,
    NOW,
    REFER_ANSWERS,
    SETTINGS,
    URGENT_ANSWERS,
    WED_10,
    Book,
    World,
    make_booking,
    make_client,
    make_closure,
    make_intake,
    make_person,
    make_rescreen,
    make_room,
    make_service,
    make_therapist,
    make_time_off,
)

# Shared fixtures: the world, a writing session and book(**overrides).
world, session, book = factories.world, factories.session, factories.book

def count(db: Session, model: type[Any], *where: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def assert_nothing_written(db: Session, *, arranged: int = 0) -> None:
    """No booking beyond the ``arranged`` ones, no mail, no audit row."""
    assert count(db, Booking) == arranged
    assert count(db, OutboxMessage) == 0
    assert count(db, AuditEvent, AuditEvent.record_type == "booking") == 0


def refused(session: Session, db: Session, call: Callable[[], Any],
            error: type[Exception]) -> Exception:
    with pytest.raises(error) as caught:
        call()
    session.rollback()
    assert_nothing_written(db)
    return caught.value


# --- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "reason", "message"),
    [
        (NOW - timedelta(hours=1), Unfit.PAST,
         "That time has already passed. Please choose a later time."),
        (NOW + timedelta(hours=1), Unfit.TOO_SOON,
         "Sessions must be booked at least 2 hours ahead. Please choose a later time."),
        (NOW + timedelta(days=57), Unfit.BEYOND_HORIZON,
         "Sessions can be booked up to 56 days ahead. Please choose an earlier time."),
        (datetime(9999, 12, 31, 10, tzinfo=UTC), Unfit.BEYOND_HORIZON,
         "Sessions can be booked up to 56 days ahead. Please choose an earlier time."),
        (WED_10 + timedelta(minutes=5), Unfit.OFF_STEP,
         "Sessions start every 15 minutes. Please choose one of the times shown."),
        (WED_10 - timedelta(hours=2), Unfit.OUTSIDE_HOURS,
         "The therapist is not working at that time. Please choose one of the times "
         "shown."),
        # Would end at 17:30, after the 17:00 end of the day.
        (WED_10 + timedelta(hours=6, minutes=30), Unfit.OUTSIDE_HOURS,
         "The therapist is not working at that time. Please choose one of the times "
         "shown."),
    ],
)
def test_times_outside_the_policy_or_hours_are_refused(
    book: Book, session: Session, db: Session, start: datetime, reason: Unfit,
    message: str,
) -> None:
    error = refused(session, db, lambda: book(start=start), SlotUnavailable)
    assert (error.reason, str(error)) == (reason, message)


def test_time_off_is_refused(book: Book, session: Session, db: Session,
                             world: World) -> None:
    make_time_off(db, world.therapist, WED_10 - timedelta(hours=1),
                  WED_10 + timedelta(minutes=30))
    error = refused(session, db, lambda: book(), SlotUnavailable)
    assert str(error) == services.AWAY
    assert error.reason is Unfit.THERAPIST_BUSY and not error.taken


def test_a_clinic_closure_is_refused(book: Book, session: Session, db: Session) -> None:
    admin = make_person(db, Role.ADMIN)
    make_closure(db, WED_10 + timedelta(minutes=59), WED_10 + timedelta(hours=3),
                 by=admin)
    error = refused(session, db, lambda: book(), SlotUnavailable)
    assert str(error) == services.CLOSED


def test_an_inactive_service_is_refused(book: Book, session: Session, db: Session,
                                        world: World) -> None:
    world.service.active = False
    db.commit()
    error = refused(session, db, lambda: book(), BookingPolicyError)
    assert str(error) == "That service is not available to book."


def test_an_unknown_service_is_refused(
    book: Book, session: Session, db: Session
) -> None:
    error = refused(session, db, lambda: book(service_id=999_999), BookingPolicyError)
    assert str(error) == "That service is not available to book."


@pytest.mark.parametrize("therapist_id", ["inactive", 999_999])
def test_an_inactive_or_unknown_therapist_is_refused(
    book: Book, session: Session, db: Session, world: World, therapist_id: Any
) -> None:
    if therapist_id == "inactive":
        world.therapist.active = False
        db.commit()
        therapist_id = world.therapist.user_id
    error = refused(session, db, lambda: book(therapist_id=therapist_id),
                    BookingPolicyError)
    assert str(error) == "That therapist is not taking bookings."


def test_a_technique_the_screening_excluded_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    # Medicines are not re-asked: the full intake carries them forward.
    make_intake(db, world.client, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    screening = make_rescreen(db, world.client, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    assert screening.excluded_techniques == ["deep_tissue", "neuromuscular",
                                             "trigger_point"]
    error = refused(
        session, db,
        lambda: book(technique="deep_tissue", screening_id=screening.id),
        BookingPolicyError,
    )
    assert str(error) == (
        "Deep tissue massage is not suitable after your safety answers. Please "
        "choose one of the techniques offered."
    )


def test_a_technique_the_therapist_does_not_offer_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    other = make_therapist(db, name="Sam Swedish", services=[world.service],
                           techniques=["swedish"])
    error = refused(
        session, db,
        lambda: book(technique="trigger_point", therapist_id=other.user_id),
        BookingPolicyError,
    )
    assert str(error) == "Sam Swedish does not offer Trigger point therapy."


def test_a_service_the_therapist_does_not_offer_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    other = make_service(db, name="Hot stones")
    error = refused(session, db, lambda: book(service_id=other.id), BookingPolicyError)
    assert str(error) == "Alex Therapist does not offer Hot stones."


@pytest.mark.parametrize("age", [timedelta(hours=2, seconds=1), None])
def test_without_a_fresh_rescreen_booking_is_refused(
    book: Book, session: Session, db: Session, world: World, age: timedelta | None
) -> None:
    if age is None:
        screening_id = None
    else:
        screening_id = make_rescreen(db, world.client, now=NOW - age).id
    error = refused(session, db, lambda: book(screening_id=screening_id),
                    BookingNotAllowed)
    assert str(error) == "Please answer the safety questions for this booking first."


def test_answers_already_used_for_another_booking_are_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    make_booking(db, client=world.client, therapist=world.therapist,
                 service=world.service, start=WED_10 + timedelta(days=1),
                 screening=world.screening)
    with pytest.raises(ScreeningUsed) as caught:
        book()
    session.rollback()
    assert str(caught.value) == (
        "Those safety answers were already used for another booking. Please answer "
        "the safety questions again for this one."
    )
    assert_nothing_written(db, arranged=1)


@pytest.mark.parametrize("answers", [REFER_ANSWERS, URGENT_ANSWERS],
                         ids=["refer", "urgent"])
def test_a_refer_or_urgent_screening_is_refused_with_its_own_messages(
    book: Book, session: Session, db: Session, world: World, answers: dict[str, Any]
) -> None:
    screening = make_rescreen(db, world.client, now=NOW, answers=answers)
    assert not screening.booking_allowed
    error = refused(session, db, lambda: book(screening_id=screening.id),
                    BookingNotAllowed)
    assert str(error) == " ".join(result_of(screening).client_messages)
    assert str(error) != ""


def test_a_client_already_busy_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    elsewhere = make_therapist(db, services=[world.service])
    existing = make_booking(db, client=world.client, therapist=elsewhere,
                            service=world.service, start=WED_10 + timedelta(minutes=45))
    with pytest.raises(SlotUnavailable) as caught:
        book()
    session.rollback()
    assert (caught.value.reason, str(caught.value)) == (
        Unfit.CLIENT_BUSY, "You already have a session booked at that time."
    )
    assert_nothing_written(db, arranged=1)
    assert existing.status is BookingStatus.CONFIRMED


def test_the_therapist_is_busy_until_the_buffer_ends(
    book: Book, session: Session, db: Session, world: World
) -> None:
    other = make_client(db)
    make_booking(db, client=other, therapist=world.therapist, service=world.service,
                 start=WED_10 - timedelta(hours=1))  # 09:00-10:00, buffer to 10:15
    with pytest.raises(SlotUnavailable) as caught:
        book()
    session.rollback()
    assert (caught.value.reason, str(caught.value), caught.value.taken) == (
        Unfit.THERAPIST_BUSY,
        "That time is already taken. Please choose one of the times shown.",
        True,
    )
    assert_nothing_written(db, arranged=1)
    booking = book(start=WED_10 + timedelta(minutes=15))  # right after the buffer
    assert booking.starts_at == datetime(2027, 3, 24, 10, 15, tzinfo=UTC)


def test_no_free_room_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    room = make_room(db)
    other = make_therapist(db, services=[world.service])
    make_booking(db, client=make_client(db), therapist=other, service=world.service,
                 start=WED_10, room=room)
    with pytest.raises(SlotUnavailable) as caught:
        book()
    session.rollback()
    assert (caught.value.reason, str(caught.value)) == (
        Unfit.NO_ROOM,
        "All our treatment rooms are in use at that time. Please choose one of the "
        "times shown.",
    )
    assert_nothing_written(db, arranged=1)


def test_a_naive_start_is_refused(book: Book, session: Session, db: Session) -> None:
    error = refused(session, db, lambda: book(start=WED_10.replace(tzinfo=None)),
                    BookingPolicyError)
    assert str(error) == "That time could not be read. Please choose again."


def test_only_clients_are_booked_and_only_by_themselves_or_staff(
    book: Book, session: Session, db: Session, world: World
) -> None:
    stranger = session.get(User, make_client(db).id)
    error = refused(session, db, lambda: book(booked_by=stranger), BookingPolicyError)
    assert str(error) == "You can only book sessions for yourself."


# --- booking -----------------------------------------------------------------------


def test_a_booking_is_written_audited_and_mailed(
    book: Book, session: Session, db: Session, world: World
) -> None:
    first, second = make_room(db, name="Room A"), make_room(db, name="Room B")
    make_booking(db, client=make_client(db), therapist=make_therapist(db),
                 service=world.service, start=WED_10 + timedelta(minutes=30),
                 room=first)
    booking = book()
    session.commit()
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert stored is not None
    assert (stored.starts_at, stored.ends_at, stored.blocks_until) == (
        WED_10, WED_10 + timedelta(hours=1), WED_10 + timedelta(minutes=75))
    assert (stored.client_id, stored.therapist_id, stored.room_id) == (
        world.client.id, world.therapist.user_id, second.id)
    assert (stored.status, stored.screening_id, stored.technique,
            stored.price_pence, stored.created_by_id) == (
        BookingStatus.CONFIRMED, world.screening.id, "swedish", 4500, world.client.id)
    event_ = db.scalar(select(AuditEvent).where(AuditEvent.record_type == "booking"))
    assert (event_.action, event_.record_id, event_.subject_user_id,
            event_.actor_id) == ("book", booking.id, world.client.id, world.client.id)
    mail = db.scalar(select(OutboxMessage))
    assert mail.to_addr == world.client.email


def test_any_therapist_takes_the_first_one_free(
    book: Book, session: Session, db: Session, world: World
) -> None:
    second = make_therapist(db, services=[world.service])
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10)
    booking = book(therapist_id=None)
    assert booking.therapist_id == second.user_id


def test_any_therapist_reports_why_nobody_fits(
    book: Book, session: Session, db: Session, world: World
) -> None:
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10)
    error = refused_keep(session, lambda: book(therapist_id=None), SlotUnavailable)
    assert error.reason is Unfit.THERAPIST_BUSY and error.taken


def refused_keep(session: Session, call: Callable[[], Any],
                 error: type[Exception]) -> Any:
    with pytest.raises(error) as caught:
        call()
    session.rollback()
    return caught.value


def test_available_slots_costs_two_queries_whatever_the_therapists(
    session: Session, db: Session, world: World
) -> None:
    for _ in range(3):
        make_therapist(db, services=[world.service])
    make_room(db)
    statements: list[str] = []

    def count_statement(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            statements.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        offers = services.available_slots(
            session, client_id=world.client.id, service=world.service,
            technique="swedish", therapist_id=None, start_day=WED_10.date(),
            days=7, settings=SETTINGS, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    # the therapists' names, then the calendar (rooms, bookings, hours, time
    # off and closures) in one round trip
    assert len(statements) == 2, statements
    # 7 days x 29 starts (09:00 to 16:00 every 15 minutes), once each
    assert len(offers) == 7 * 29
    assert offers[0].start == datetime(2027, 3, 24, 9, tzinfo=UTC)
