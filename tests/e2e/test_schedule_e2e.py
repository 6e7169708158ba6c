"""Staff schedules in a real browser: a therapist's day with the screening
status of each client, their calendar link, and an admin cancelling a
session with a reason that reaches the client by mail.

The clock is fixed (Wednesday 24 March 2027, 10:00 GMT); every page is
checked with axe-core (``visit``/``follow``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import Booking, BookingStatus
from tests.smtp import SmtpSink
from tests.test_schedule_views import (  # noqa: F401  (fixtures)
    Week,
    fixed_clock,
    week_fixture,
)

Visit = Callable[..., Any]
Follow = Callable[..., Any]


def row(page: Page, name: str) -> Any:
    return page.get_by_role("row").filter(has_text=name)


def test_a_therapist_sees_today_with_each_clients_screening_status(
    page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    week: Week,
) -> None:
    log_in(page, week.tara.user)
    visit(page, "/schedule/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("My week")
    today = page.get_by_role("region", name="Wednesday 24 March Today")
    expect(today.get_by_role("row")).to_have_count(3)  # header + 2 sessions

    follow(page.get_by_role("link", name="Open Wednesday 24 March"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Today, 24 March 2027")
    expect(row(page, "Casey Caution")).to_contain_text(
        "Caution: awaiting acknowledgement")
    expect(row(page, "Chris Clear")).to_contain_text("Clear")
    expect(row(page, "Chris Clear").get_by_role("rowheader")).to_have_text(
        "Chris Clear")
    assert page.get_by_text("Sasha Other").count() == 0

    follow(page.get_by_role("button",
                            name=re.compile(r"Mark no-show\W+Casey Caution")))
    expect(page.get_by_role("status")).to_contain_text("Casey Caution did not come.")
    expect(row(page, "Casey Caution")).to_contain_text("No-show")

    visit(page, "/schedule/me/day?date=2027-03-28")
    expect(row(page, "Avery Acked")).to_contain_text("13:00\N{EN DASH}14:00 BST")
    expect(row(page, "Avery Acked")).to_contain_text("Caution: acknowledged")


def test_a_therapist_makes_a_private_calendar_link(
    phone_page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    week: Week,
) -> None:
    page = phone_page
    log_in(page, week.tara.user)
    visit(page, "/schedule/me/calendar")
    follow(page.get_by_role("button", name="Create my calendar link"))
    link = page.get_by_label("Your private calendar link")
    url = link.input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/schedule/feed/[\w-]{43}\.ics", url)
    feed = page.request.get(url)
    assert feed.status == 200
    assert "SUMMARY:Chris C.: Sciatica relief" in feed.text()

    follow(page.get_by_role("button", name="Make a new link"))
    assert page.get_by_label("Your private calendar link").input_value() != url
    assert page.request.get(url).status == 404


def test_an_admin_cancels_a_session_and_the_client_is_emailed(
    page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    make_user: Callable[..., User], db: Session, week: Week, smtp_sink: SmtpSink,
) -> None:
    log_in(page, make_user(Role.ADMIN))
    visit(page, "/schedule/clinic")
    expect(page.get_by_role("heading", level=2)).to_have_text(["Sam Patel",
                                                               "Tara Jones"])
    follow(row(page, "Chris Clear").get_by_role("link", name=re.compile("Cancel")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel a session")

    follow(page.get_by_role("button", name="Cancel the session"))
    reason = page.get_by_label("Reason for cancelling")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(
        re.compile("Please give a reason for cancelling."))

    reason.fill("Tara is unwell today, sorry.")
    follow(page.get_by_role("button", name="Cancel the session"))
    expect(page.get_by_role("status").first).to_contain_text(
        "We have emailed the client with your reason.")
    assert row(page, "Chris Clear").count() == 0  # booked sessions only

    db.expire_all()
    booking = db.get(Booking, week.clear.id)
    assert booking.status is BookingStatus.CANCELLED
    [mail] = smtp_sink.to(db.get(User, booking.client_id).email)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Reason:    Tara is unwell today, sorry." in body

    visit(page, "/schedule/clinic?view=week&status=all")
    expect(row(page, "Chris Clear")).to_contain_text("Cancelled")
