"""A client books in a real browser: the suggested technique, the safety
questions, a free time; then cancels and books again. Every page is
axe-checked (``visit``/``follow``), at desktop width and at 375 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.booking.models import Service, Therapist
from clinic.intake.vocabulary import FIELDS_BY_KEY, RESCREEN_FIELDS, Kind
from tests.factories import (
    CLEAR_ANSWERS,
    NOW,
    WED_10,
    make_booking,
    make_client,
    make_intake,
    make_service,
    make_therapist,
)

Visit = Callable[..., Any]
Follow = Callable[..., Any]


def path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def answer_safety_questions(page: Page) -> None:
    """Answer the re-screen as the spec's clear example client would."""
    for key in RESCREEN_FIELDS:
        if key not in CLEAR_ANSWERS:
            continue
        value = CLEAR_ANSWERS[key]
        if FIELDS_BY_KEY[key].kind is Kind.INTEGER:
            page.locator(f"#{key}").fill(str(value))
        else:
            page.locator(f'input[name="{key}"][value="{value}"]').check()


def fits(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size or {"width": 0}
    assert width <= viewport["width"], f"{path(page)} is {width}px wide"


@pytest.fixture
def clinic_open(db: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fixed clock (the live server runs in this process), one service,
    two therapists and a client whose health questionnaire is on file."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    service = make_service(db, name="Back massage", duration=60, buffer=15)
    make_therapist(db, name="Alex Therapist", services=[service])
    make_therapist(db, name="Billie Therapist", services=[service])
    client = make_client(db, full_name="Casey Client")
    make_intake(db, client, now=NOW - timedelta(days=3))
    return client


def book(page: Page, visit: Visit, follow: Follow, slot_name: str) -> None:
    """From the start page to a confirmed booking at ``slot_name``."""
    visit(page, "/booking/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a session")
    expect(page.get_by_label("Swedish massage (suggested)")).to_be_checked()
    expect(page.get_by_text("Swedish massage is suggested as a starting point")
           ).to_be_visible()
    page.get_by_label("Back massage: 60 minutes, £45.00").check()
    fits(page)
    follow(page.get_by_role("button", name="Next: safety questions"))
    assert path(page).startswith("/intake/rescreen?next=")
    answer_safety_questions(page)
    follow(page.get_by_role("button", name="Continue"))
    assert re.match(r"/booking/times\?.*screening=\d+", path(page))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time")
    fits(page)
    follow(page.get_by_role("button", name=slot_name, exact=True))


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_client_books_cancels_and_books_again(
    page: Page, phone_page: Page, visit: Visit, follow: Follow,
    log_in: Callable[..., None], clinic_open: Any, viewport: str,
) -> None:
    page = page if viewport == "desktop" else phone_page
    log_in(page, clinic_open)
    book(page, visit, follow, "10:00 on Wednesday 24 March")
    assert re.fullmatch(r"/booking/\d+", path(page))
    expect(page.get_by_role("status")).to_have_text(
        "Your Back massage is booked for Wed 24 Mar 2027, 10:00 GMT.")
    expect(page.get_by_text("Wed 24 Mar 2027, 10:00 GMT to 11:00 GMT")).to_be_visible()
    expect(page.get_by_role("link", name="Add to my calendar (.ics file)")
           ).to_be_visible()
    fits(page)

    follow(page.get_by_role("button", name="Cancel this session"))
    expect(page.get_by_role("status")).to_contain_text("Your session is cancelled.")
    expect(page.locator(".facts")).to_contain_text("Cancelled")

    # The answers were used by the cancelled booking: asked again.
    book(page, visit, follow, "11:30 on Wednesday 24 March")
    expect(page.get_by_role("status")).to_have_text(
        "Your Back massage is booked for Wed 24 Mar 2027, 11:30 GMT.")

    visit(page, "/booking/mine")
    upcoming = page.get_by_role("list", name="Upcoming sessions")
    expect(upcoming.get_by_role("listitem")).to_have_count(1)
    expect(upcoming).to_contain_text("Wed 24 Mar 2027, 11:30 GMT Confirmed")
    past = page.get_by_role("list", name="Past and cancelled sessions")
    expect(past).to_contain_text("Cancelled")
    fits(page)
    follow(upcoming.get_by_role("link", name="Wed 24 Mar 2027, 11:30 GMT"))
    follow(page.get_by_role("link", name="Choose another time"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new time")
    fits(page)
    follow(page.get_by_role("button", name="14:00 on Thursday 25 March", exact=True))
    expect(page.get_by_role("status")).to_have_text(
        "Your session has moved to Thu 25 Mar 2027, 14:00 GMT.")


def test_a_client_who_loses_a_time_picks_a_nearby_one(
    page: Page, visit: Visit, follow: Follow, log_in: Callable[..., None],
    clinic_open: Any, db: Session,
) -> None:
    log_in(page, clinic_open)
    service = db.scalar(select(Service))
    assert service is not None
    # Without fresh safety answers the times page explains and links to them.
    visit(page, f"/booking/times?service={service.id}&technique=swedish")
    expect(page.get_by_role("alert")).to_have_text(
        "Please answer the safety questions for this booking first.")
    follow(page.get_by_role("link", name="Answer the safety questions"))
    answer_safety_questions(page)
    follow(page.get_by_role("button", name="Continue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a time")

    # Both therapists are booked at 10:00 while the client looks at the page.
    for therapist in db.scalars(select(Therapist)):
        make_booking(db, client=make_client(db), therapist=therapist,
                     service=service, start=WED_10)
    follow(page.get_by_role("button", name="10:00 on Wednesday 24 March", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "That time was just taken")
    nearby = page.get_by_role("region", name="Wednesday 24 March").get_by_role(
        "button")
    expect(nearby).to_have_text(["11:15 on Wednesday 24 March",
                                 "11:30 on Wednesday 24 March",
                                 "11:45 on Wednesday 24 March",
                                 "12:00 on Wednesday 24 March",
                                 "12:15 on Wednesday 24 March",
                                 "12:30 on Wednesday 24 March"])
    follow(nearby.first)
    expect(page.get_by_role("status")).to_have_text(
        "Your Back massage is booked for Wed 24 Mar 2027, 11:15 GMT.")
