"""Cancelling, rescheduling and no-shows through the booking service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking import services
from clinic.booking.models import Booking, BookingStatus
from clinic.booking.services import BookingPolicyError, SlotUnavailable
from clinic.booking.slots import Unfit
from clinic.intake.services import BookingNotAllowed
from clinic.mail.models import OutboxMessage
from tests import factories
from tests.factories import (
    NOW,
    SETTINGS,
    URGENT_ANSWERS,
    WED_10,
    Book,
    World,
    make_booking,
    make_client,
    make_person,
    make_rescreen,
    make_room,
    make_therapist,
)

world, session, book = factories.world, factories.session, factories.book

TOO_LATE = (
    "It is less than 24 hours before the session, so it can no longer be changed "
    "online. Please call the clinic on 020 7946 0000."
)


def booked(book: Book, session: Session) -> Booking:
    booking = book()
    session.commit()
    return booking


def user(session: Session, who: User) -> User:
    return session.get(User, who.id)  # type: ignore[return-value]


def audit_actions(db: Session, booking_id: int) -> list[str]:
    db.expire_all()
    return list(db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_type == "booking", AuditEvent.record_id == booking_id)
        .order_by(AuditEvent.id)
    ))


def subjects(db: Session) -> list[str]:
    db.expire_all()
    return [m.subject.split(":")[0] for m in
            db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


# --- cancel ------------------------------------------------------------------------


def test_a_client_cancels_before_the_cutoff(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    cutoff = WED_10 - timedelta(hours=24)
    services.cancel_booking(session, booking, by=user(session, world.client),
                            reason="", settings=SETTINGS, now=cutoff)
    session.commit()
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert (stored.status, stored.cancelled_at, stored.cancelled_by_id,
            stored.cancel_reason) == (BookingStatus.CANCELLED, cutoff,
                                      world.client.id, None)
    assert audit_actions(db, booking.id) == ["book", "cancel"]
    assert subjects(db) == ["Booked", "Cancelled"]


def test_a_client_cannot_cancel_after_the_cutoff(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    late = WED_10 - timedelta(hours=24) + timedelta(seconds=1)
    with pytest.raises(BookingPolicyError) as caught:
        services.cancel_booking(session, booking, by=user(session, world.client),
                                reason="", settings=SETTINGS, now=late)
    session.rollback()
    assert str(caught.value) == TOO_LATE
    db.expire_all()
    assert db.get(Booking, booking.id).status is BookingStatus.CONFIRMED
    # Asking the service to waive the cut-off does not help a client.
    with pytest.raises(BookingPolicyError):
        services.cancel_booking(session, booking, by=user(session, world.client),
                                reason="", settings=SETTINGS, now=late,
                                enforce_cutoff=False)
    session.rollback()


def test_an_admin_cancels_anytime_but_only_with_a_reason(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    admin = make_person(db, Role.ADMIN)
    late = WED_10 - timedelta(hours=1)
    with pytest.raises(BookingPolicyError) as caught:
        services.cancel_booking(session, booking, by=user(session, admin), reason=" ",
                                settings=SETTINGS, now=late, enforce_cutoff=False)
    session.rollback()
    assert str(caught.value) == "Please give a reason for cancelling."
    services.cancel_booking(session, booking, by=user(session, admin),
                            reason="Therapist unwell", settings=SETTINGS, now=late,
                            enforce_cutoff=False)
    session.commit()
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert (stored.status, stored.cancel_reason, stored.cancelled_by_id) == (
        BookingStatus.CANCELLED, "Therapist unwell", admin.id)


def test_cancelling_twice_or_someone_elses_booking_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    stranger = make_client(db)
    with pytest.raises(BookingPolicyError) as caught:
        services.cancel_booking(session, booking, by=user(session, stranger),
                                reason="", settings=SETTINGS, now=NOW)
    session.rollback()
    assert str(caught.value) == "You cannot change this booking."
    services.cancel_booking(session, booking, by=user(session, world.client),
                            reason="", settings=SETTINGS, now=NOW)
    session.commit()
    with pytest.raises(BookingPolicyError) as caught:
        services.cancel_booking(session, booking, by=user(session, world.client),
                                reason="", settings=SETTINGS, now=NOW)
    session.rollback()
    assert str(caught.value) == "This booking is already cancelled."


def test_a_cancelled_time_is_free_again(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    services.cancel_booking(session, booking, by=user(session, world.client),
                            reason="", settings=SETTINGS, now=NOW)
    session.commit()
    other = make_client(db)
    factories.make_intake(db, other, now=NOW)
    screening = make_rescreen(db, other, now=NOW)
    again = book(client=other, screening_id=screening.id)
    assert (again.starts_at, again.therapist_id) == (WED_10, world.therapist.user_id)


# --- reschedule ----------------------------------------------------------------------


def test_reschedule_moves_the_same_row_and_keeps_the_screening(
    book: Book, session: Session, db: Session, world: World
) -> None:
    room = make_room(db)
    booking = booked(book, session)
    assert booking.room_id == room.id
    later = WED_10 + timedelta(minutes=30)  # overlaps its own old time
    moved = services.reschedule_booking(
        session, booking, by=user(session, world.client), start=later,
        therapist_id=None, settings=SETTINGS, now=NOW)
    session.commit()
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert moved.id == booking.id
    assert (stored.starts_at, stored.ends_at, stored.blocks_until) == (
        later, later + timedelta(hours=1), later + timedelta(minutes=75))
    assert (stored.screening_id, stored.room_id, stored.status) == (
        world.screening.id, room.id, BookingStatus.CONFIRMED)
    assert db.scalar(select(AuditEvent.detail).where(
        AuditEvent.action == "reschedule")) == (
        "from 2027-03-24T10:00:00+00:00 to 2027-03-24T10:30:00+00:00")
    assert subjects(db) == ["Booked", "Moved"]


def test_reschedule_to_another_therapist(
    book: Book, session: Session, db: Session, world: World
) -> None:
    other = make_therapist(db, services=[world.service])
    booking = booked(book, session)
    services.reschedule_booking(
        session, booking, by=user(session, world.client), start=WED_10,
        therapist_id=other.user_id, settings=SETTINGS, now=NOW)
    session.commit()
    db.expire_all()
    assert db.get(Booking, booking.id).therapist_id == other.user_id


def test_reschedule_rechecks_the_new_time(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10 + timedelta(hours=2))
    with pytest.raises(SlotUnavailable) as caught:
        services.reschedule_booking(
            session, booking, by=user(session, world.client),
            start=WED_10 + timedelta(hours=2, minutes=30), therapist_id=None,
            settings=SETTINGS, now=NOW)
    session.rollback()
    assert caught.value.reason is Unfit.THERAPIST_BUSY
    db.expire_all()
    assert db.get(Booking, booking.id).starts_at == WED_10


def test_reschedule_after_the_cutoff_is_refused_for_clients(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    with pytest.raises(BookingPolicyError) as caught:
        services.reschedule_booking(
            session, booking, by=user(session, world.client),
            start=WED_10 + timedelta(days=1), therapist_id=None, settings=SETTINGS,
            now=WED_10 - timedelta(hours=23))
    session.rollback()
    assert str(caught.value) == TOO_LATE


def test_reschedule_is_refused_when_newer_answers_block_booking(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    make_rescreen(db, world.client, now=NOW + timedelta(hours=1),
                  answers=URGENT_ANSWERS)
    with pytest.raises(BookingNotAllowed) as caught:
        services.reschedule_booking(
            session, booking, by=user(session, world.client),
            start=WED_10 + timedelta(days=1), therapist_id=None, settings=SETTINGS,
            now=NOW + timedelta(hours=2))
    session.rollback()
    assert str(caught.value) == (
        "Your latest safety answers mean this session cannot be moved. Please call "
        "the clinic."
    )


def test_reschedule_to_the_same_time_is_refused(
    book: Book, session: Session, world: World
) -> None:
    booking = booked(book, session)
    with pytest.raises(BookingPolicyError) as caught:
        services.reschedule_booking(
            session, booking, by=user(session, world.client), start=WED_10,
            therapist_id=None, settings=SETTINGS, now=NOW)
    session.rollback()
    assert str(caught.value) == "That is already the time of this booking."


# --- no-show ---------------------------------------------------------------------


def test_no_show_only_after_the_start_and_only_by_its_therapist_or_an_admin(
    book: Book, session: Session, db: Session, world: World
) -> None:
    booking = booked(book, session)
    therapist = user(session, world.therapist.user)
    with pytest.raises(BookingPolicyError) as caught:
        services.mark_no_show(session, booking, by=therapist,
                              now=WED_10 - timedelta(seconds=1))
    session.rollback()
    assert str(caught.value) == (
        "A session can be marked as a no-show only after its start time.")
    for who in (make_therapist(db).user, world.client):
        with pytest.raises(BookingPolicyError) as caught:
            services.mark_no_show(session, booking, by=user(session, who), now=WED_10)
        session.rollback()
        assert str(caught.value) == (
            "Only the session's therapist or an admin can record a no-show.")
    services.mark_no_show(session, booking, by=user(session, world.therapist.user),
                          now=WED_10 + timedelta(minutes=10))
    session.commit()
    db.expire_all()
    assert db.get(Booking, booking.id).status is BookingStatus.NO_SHOW
    assert audit_actions(db, booking.id) == ["book", "no_show"]
    admin = make_person(db, Role.ADMIN)
    with pytest.raises(BookingPolicyError) as caught:
        services.mark_no_show(session, booking, by=user(session, admin), now=WED_10)
    session.rollback()
    assert str(caught.value) == "Only a confirmed session can be marked as a no-show."


def test_staff_book_on_behalf_of_a_client(
    book: Book, session: Session, db: Session, world: World
) -> None:
    admin = make_person(db, Role.ADMIN)
    booking = book(booked_by=user(session, admin))
    session.commit()
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert (stored.client_id, stored.created_by_id) == (world.client.id, admin.id)
    assert db.scalar(select(AuditEvent.actor_id).where(
        AuditEvent.action == "book")) == admin.id


def test_a_session_for_a_non_client_is_refused(
    book: Book, session: Session, db: Session, world: World
) -> None:
    admin = user(session, make_person(db, Role.ADMIN))
    with pytest.raises(BookingPolicyError) as caught:
        services.book_session(
            session, client=admin, booked_by=admin, service_id=world.service.id,
            technique="swedish", therapist_id=None, start=WED_10,
            screening_id=world.screening.id, settings=SETTINGS, now=NOW)
    session.rollback()
    assert str(caught.value) == "Sessions can only be booked for a client."


def test_datetime_constants_are_what_the_tests_say() -> None:
    assert NOW.weekday() == 0 and datetime(2027, 3, 24, 10, tzinfo=UTC) == WED_10
