"""The database alone refuses overlapping bookings (PostgreSQL exclusion
constraints, SQLite triggers), and the service reports such a refusal as
"That time was just taken"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking import services, slots
from clinic.booking.models import (
    BUFFER_MINUTES,
    DURATION_MINUTES,
    LONGEST_HOLD,
    Booking,
    BookingStatus,
    Service,
    ends_after,
)
from clinic.booking.services import SlotTaken
from tests import factories
from tests.factories import (
    NOW,
    SETTINGS,
    WED_10,
    Book,
    World,
    make_booking,
    make_client,
    make_room,
    make_service,
    make_therapist,
)

world, session, book = factories.world, factories.session, factories.book


def refused_by_the_database(db: Session, **values: object) -> None:
    with pytest.raises(IntegrityError) as caught:
        make_booking(db, **values)  # type: ignore[arg-type]
    db.rollback()
    assert "no_overlap" in str(caught.value.orig) or (
        getattr(caught.value.orig, "sqlstate", None) == "23P01"
    )


def test_the_therapist_guard_counts_the_buffer(db: Session, world: World) -> None:
    # 10:00-11:00 with a 15-minute buffer: the therapist is busy until 11:15.
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10)
    for start in (WED_10, WED_10 + timedelta(minutes=5),
                  WED_10 + timedelta(hours=1, minutes=14),
                  WED_10 - timedelta(minutes=75) + timedelta(seconds=1)):
        refused_by_the_database(db, client=make_client(db), therapist=world.therapist,
                                service=world.service, start=start)
    # Half-open ranges: back to back on both sides is fine.
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10 + timedelta(minutes=75))
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10 - timedelta(minutes=75))


def test_the_room_guard(db: Session, world: World) -> None:
    room = make_room(db)
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10, room=room)
    refused_by_the_database(db, client=make_client(db), therapist=make_therapist(db),
                            service=world.service, start=WED_10 + timedelta(hours=1),
                            room=room)
    make_booking(db, client=make_client(db), therapist=make_therapist(db),
                 service=world.service, start=WED_10 + timedelta(hours=1),
                 room=make_room(db))


def test_the_client_guard_ignores_the_buffer(db: Session, world: World) -> None:
    make_booking(db, client=world.client, therapist=world.therapist,
                 service=world.service, start=WED_10)
    refused_by_the_database(db, client=world.client, therapist=make_therapist(db),
                            service=world.service, start=WED_10 + timedelta(minutes=59))
    # The client is free when the session ends, while its therapist is not.
    make_booking(db, client=world.client, therapist=make_therapist(db),
                 service=world.service, start=WED_10 + timedelta(hours=1))


def test_cancelled_bookings_do_not_count_but_pending_ones_do(
    db: Session, world: World
) -> None:
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10, status=BookingStatus.CANCELLED)
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10, status=BookingStatus.PENDING)
    refused_by_the_database(db, client=make_client(db), therapist=world.therapist,
                            service=world.service, start=WED_10)


def test_an_update_into_an_overlap_is_refused(db: Session, world: World) -> None:
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10)
    later = make_booking(db, client=make_client(db), therapist=world.therapist,
                         service=world.service, start=WED_10 + timedelta(hours=3))
    later.starts_at = WED_10 + timedelta(minutes=30)
    later.ends_at = later.starts_at + timedelta(hours=1)
    later.blocks_until = later.ends_at + timedelta(minutes=15)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # Moving a row over its own old time is fine (the guard skips itself).
    db.expire_all()
    row = db.get(Booking, later.id)
    row.starts_at += timedelta(minutes=30)
    row.ends_at += timedelta(minutes=30)
    row.blocks_until += timedelta(minutes=30)
    db.commit()


def test_a_missed_conflict_is_reported_as_just_taken(
    book: Book, session: Session, db: Session, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the check ever missed a booking, the guard still refuses the insert
    and the client reads "That time was just taken", not an error page."""
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10 + timedelta(minutes=30))
    monkeypatch.setattr(slots, "check_fits", lambda **_: None)
    with pytest.raises(SlotTaken) as caught:
        book()
    # The refused insert ended the transaction (no savepoint), so nothing of
    # ours can be committed by mistake.
    assert not session.in_transaction()
    session.commit()
    assert session.scalar(select(func.count()).select_from(Booking)) == 1
    assert str(caught.value) == "That time was just taken."
    assert services.TAKEN == "That time was just taken."


def test_a_missed_conflict_on_reschedule_is_reported_as_just_taken(
    book: Book, session: Session, db: Session, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    booking = book()
    session.commit()
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10 + timedelta(hours=3))
    monkeypatch.setattr(slots, "check_fits", lambda **_: None)
    with pytest.raises(SlotTaken):
        services.reschedule_booking(
            session, booking, by=session.get(User, world.client.id),
            start=WED_10 + timedelta(hours=2, minutes=30), therapist_id=None,
            settings=SETTINGS, now=NOW)
    session.rollback()
    db.expire_all()
    assert db.get(Booking, booking.id).starts_at == WED_10


def longest_service(db: Session) -> Service:
    return make_service(db, duration=DURATION_MINUTES[1], buffer=BUFFER_MINUTES[1])


def test_no_booking_holds_its_therapist_longer_than_the_longest_service(
    db: Session, world: World
) -> None:
    """The overlap reads look back only LONGEST_HOLD, so the database refuses
    a row (however written) that holds its therapist any longer."""
    longest = make_booking(db, client=make_client(db), therapist=world.therapist,
                           service=longest_service(db), start=WED_10)
    assert longest.blocks_until - longest.starts_at == LONGEST_HOLD
    too_long = make_booking(db, client=make_client(db), therapist=world.therapist,
                            service=world.service, start=WED_10 + timedelta(days=1),
                            commit=False)
    too_long.blocks_until = too_long.starts_at + LONGEST_HOLD + timedelta(minutes=1)
    with pytest.raises(IntegrityError) as caught:
        db.commit()
    db.rollback()
    assert "longest_hold" in str(caught.value.orig)
    # Nor can an update stretch a booking past it.
    longest.blocks_until += timedelta(minutes=1)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_the_guards_see_an_overlap_by_the_longest_booking(
    db: Session, world: World
) -> None:
    """A new booking overlapping the tail of one that started LONGEST_HOLD
    before it is still refused: the guards' look-back is not too short."""
    longest = longest_service(db)
    make_booking(db, client=world.client, therapist=world.therapist,
                 service=longest, start=WED_10)
    tail = WED_10 + LONGEST_HOLD - timedelta(minutes=1)
    refused_by_the_database(db, client=make_client(db), therapist=world.therapist,
                            service=world.service, start=tail)
    client_tail = WED_10 + timedelta(minutes=DURATION_MINUTES[1] - 1)
    refused_by_the_database(db, client=world.client, therapist=make_therapist(db),
                            service=world.service, start=client_tail)
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10 + LONGEST_HOLD)


def test_ends_after_finds_every_booking_not_yet_over(db: Session, world: World) -> None:
    """``ends_after`` adds a bound on the start for the index; it must not
    lose a long booking that started well before the moment."""
    longest, session = longest_service(db), timedelta(minutes=DURATION_MINUTES[1])
    starts = ((longest, WED_10), (world.service, WED_10 + LONGEST_HOLD),
              (longest, WED_10 + 2 * LONGEST_HOLD))
    bookings = [make_booking(db, client=make_client(db), therapist=world.therapist,
                             service=service, start=start)
                for service, start in starts]
    minute = timedelta(minutes=1)
    for moment in (WED_10 - minute, WED_10 + session - minute, WED_10 + session,
                   WED_10 + 2 * LONGEST_HOLD + session - minute):
        found = set(db.scalars(select(Booking.id).where(*ends_after(moment))))
        assert found == {b.id for b in bookings if b.ends_at > moment}, moment
