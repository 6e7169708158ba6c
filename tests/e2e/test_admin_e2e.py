"""Admin pages in a real browser: adding time off over a booked session (the
booking is listed first, then cancelled with a reason that reaches the
client), and every admin page accessible and phone-sized.

The clock is fixed (Monday 22 March 2027, 09:00 GMT); every page is checked
with axe-core (``visit``/``follow``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import BookingStatus, TimeOff
from tests.factories import make_person, make_room, make_therapist, make_time_off
from tests.smtp import SmtpSink
from tests.test_admin_support import at, fix_clock, reread, therapist_with_booking

Visit = Callable[..., Any]
Follow = Callable[..., Any]
TUESDAY = date(2027, 3, 23)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    fix_clock(monkeypatch)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, full_name="Ada Admin")


def test_time_off_over_a_booking_lists_it_then_cancels_it_with_a_reason(
    page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    db: Session, smtp_sink: SmtpSink, admin: User,
) -> None:
    _, booking = therapist_with_booking(db, at(TUESDAY, 10))
    log_in(page, admin)
    visit(page, "/admin/therapists")
    follow(page.get_by_role("link", name="Time off"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Time off: Tara Jones")

    page.get_by_label("Start date").fill("2027-03-23")
    page.get_by_label("Start time").fill("00:00")
    page.get_by_label("End date").fill("2027-03-24")
    page.get_by_label("End time").fill("00:00")
    page.get_by_label("Reason (for staff only)").fill("Sick")
    follow(page.get_by_role("button", name="Add the time off"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Add time off")
    table = page.get_by_role("table", name="1 booked session affected")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("Chris Client")
    expect(table).to_contain_text("Tue 23 Mar 2027, 10:00 GMT to 11:00 GMT")
    # Nothing is saved before the answer.
    assert db.scalar(select(func.count()).select_from(TimeOff)) == 0
    assert reread(db, booking).status is BookingStatus.CONFIRMED

    # Without a reason nothing happens, and the field says why.
    follow(page.get_by_role("button", name="Cancel them and add the time off"))
    reason = page.get_by_label("Reason for cancelling")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(
        re.compile("Please give a reason for cancelling."))
    assert reread(db, booking).status is BookingStatus.CONFIRMED

    reason.fill("Your therapist is unwell today.")
    follow(page.get_by_role("button", name="Cancel them and add the time off"))
    expect(page.get_by_role("status")).to_contain_text(
        "The time off is added. 1 booking was cancelled and the clients emailed.")
    expect(page.get_by_role("main")).to_contain_text(
        "Tue 23 Mar 2027, 00:00 GMT to Wed 24 Mar 2027, 00:00 GMT (Sick)")

    saved = reread(db, booking)
    assert (saved.status, saved.cancel_reason, saved.cancelled_by_id) == (
        BookingStatus.CANCELLED, "Your therapist is unwell today.", admin.id)
    (mail,) = smtp_sink.to(booking.client.email)
    assert "Your therapist is unwell today." in mail.get_body(
        preferencelist=("plain",)).get_content()


def test_a_clock_time_that_does_not_exist_is_explained_at_the_field(
    page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    db: Session, admin: User,
) -> None:
    therapist, _ = therapist_with_booking(db, at(TUESDAY, 10))
    log_in(page, admin)
    visit(page, f"/admin/therapists/{therapist.user_id}/time-off")
    page.get_by_label("Start date").fill("2027-03-28")
    page.get_by_label("Start time").fill("01:30")
    page.get_by_label("End date").fill("2027-03-28")
    page.get_by_label("End time").fill("12:00")
    follow(page.get_by_role("button", name="Add the time off"))
    start = page.get_by_label("Start time")
    expect(start).to_have_attribute("aria-invalid", "true")
    expect(start).to_have_accessible_description(
        re.compile("does not exist: the clocks go forward then"))


def test_deactivating_moves_a_session_to_a_free_colleague_first(
    page: Page, phone_page: Page, visit: Visit, follow: Follow,
    log_in: Callable[..., None], db: Session, smtp_sink: SmtpSink, admin: User,
) -> None:
    tara, booking = therapist_with_booking(db, at(TUESDAY, 10))
    make_therapist(db, name="Sam Patel", services=[booking.service])
    log_in(page, admin)
    visit(page, f"/admin/therapists/{tara.user_id}/deactivate")
    follow(page.get_by_role("link", name=re.compile("^Move to another therapist")))

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Move a session to another therapist")
    page.get_by_label("Sam Patel").check()
    follow(page.get_by_role("button", name="Move the session"))

    expect(page.get_by_role("status")).to_contain_text(
        "The session is now with Sam Patel. We have emailed the client.")
    expect(page.get_by_role("main")).to_contain_text(
        "Tara Jones has no upcoming booked sessions.")
    follow(page.get_by_role("button", name="Deactivate Tara Jones"))
    expect(page.get_by_role("status")).to_contain_text("Tara Jones is deactivated")
    saved = reread(db, booking)
    assert (saved.status, saved.starts_at) == (BookingStatus.CONFIRMED,
                                              booking.starts_at)
    assert saved.therapist.user.full_name == "Sam Patel"
    (mail,) = smtp_sink.to(booking.client.email)
    assert "Therapist: Sam Patel" in mail.get_body(
        preferencelist=("plain",)).get_content()

    log_in(phone_page, admin)
    visit(phone_page, f"/schedule/clinic/bookings/{booking.id}/therapist")
    width = phone_page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375


def _admin_pages(db: Session, admin: User) -> list[str]:
    therapist, booking = therapist_with_booking(db, at(TUESDAY, 10))
    make_room(db, name="Room 1")
    make_time_off(db, therapist, at(TUESDAY, 12), at(TUESDAY, 17), by=admin)
    tid = therapist.user_id
    other_admin = make_person(db, Role.ADMIN, full_name="Bea Boss")
    return [
        "/admin/", "/admin/services", "/admin/services/new",
        f"/admin/services/{booking.service_id}", "/admin/rooms",
        "/admin/rooms/1", "/admin/therapists", "/admin/therapists/new",
        f"/admin/therapists/{tid}", f"/admin/therapists/{tid}/deactivate",
        f"/admin/therapists/{tid}/hours", f"/admin/therapists/{tid}/time-off",
        "/admin/admins/new", f"/admin/admins/{other_admin.id}", "/admin/closures",
        "/admin/settings",
    ]


def test_every_admin_page_is_accessible_on_a_desktop(
    page: Page, visit: Visit, log_in: Callable[..., None], db: Session, admin: User,
) -> None:
    urls = _admin_pages(db, admin)
    log_in(page, admin)
    for url in urls:
        visit(page, url)


def test_every_admin_page_fits_a_phone(
    phone_page: Page, visit: Visit, log_in: Callable[..., None], db: Session,
    admin: User,
) -> None:
    urls = _admin_pages(db, admin)
    log_in(phone_page, admin)
    for url in urls:
        visit(phone_page, url)
        width = phone_page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, f"{url} is {width}px wide at a 375px viewport"


def test_hours_errors_and_the_keep_choice_are_accessible(
    page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    db: Session, admin: User,
) -> None:
    therapist, booking = therapist_with_booking(db, at(TUESDAY, 10))
    log_in(page, admin)
    visit(page, f"/admin/therapists/{therapist.user_id}/hours")
    tuesday_until = page.get_by_label("Tuesday, interval 1, Until")
    tuesday_until.fill("09:00")  # before its start (09:00-17:00 from the factory)
    follow(page.get_by_role("button", name="Save the working hours"))
    expect(tuesday_until).to_have_accessible_description(
        re.compile("The end must be after the start."))

    tuesday_until.fill("10:00")  # the booking (10:00-11:00) is now outside
    follow(page.get_by_role("button", name="Save the working hours"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "New hours for Tara Jones")
    page.get_by_role("radio", name=re.compile("^Keep them")).check()
    follow(page.get_by_role("button", name="Save the new hours"))
    expect(page.get_by_role("status")).to_contain_text("The working hours are saved.")
    assert reread(db, booking).status is BookingStatus.CONFIRMED


def test_an_admin_corrects_a_clients_address_and_confirms_it(
    page: Page, visit: Visit, follow: Follow, admin: User,
    make_user: Callable[..., User], log_in: Callable[..., None], smtp_sink: SmtpSink,
) -> None:
    client = make_user(email="kit@exmaple.com", full_name="Kit Keel",
                       email_verified_at=None)
    log_in(page, admin)
    visit(page, f"/intake/clients/{client.id}")
    follow(page.get_by_role("link", name="Correct these details"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Details of Kit Keel")
    page.get_by_label("Email").fill("kit@example.com")  # the typo, read back
    follow(page.get_by_role("button", name="Save the details"))
    expect(page.get_by_role("status")).to_contain_text("Kit Keel's details are saved.")
    expect(page.get_by_role("main")).to_contain_text(
        "kit@example.com (not confirmed yet)")
    assert smtp_sink.to("kit@example.com") and smtp_sink.to("kit@exmaple.com")
    follow(page.get_by_role("button", name="Mark as confirmed"))
    expect(page.get_by_role("status")).to_contain_text(
        "kit@example.com is marked as confirmed.")
    expect(page.get_by_role("main")).not_to_contain_text("not confirmed yet")
