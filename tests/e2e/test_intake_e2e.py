"""Intake and screening in a real browser: the questionnaire, what each outcome
means for the client, the therapist's acknowledgement and a clearance note.

Every page is checked with axe-core (see conftest: ``visit``/``follow``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from clinic.accounts.models import Role
from clinic.db import utcnow
from clinic.intake import services
from clinic.intake.vocabulary import FIELDS_BY_KEY, Kind
from clinic.settings.services import load_settings
from tests.test_intake_views import CAUTION, CLEAR, REFER, rescreen_part

Visit = Callable[..., Any]
Follow = Callable[..., Any]


def path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def answer(page: Page, answers: dict[str, Any]) -> None:
    """Fill in the questions as a client would: tick, choose, type."""
    for key, value in answers.items():
        spec = FIELDS_BY_KEY[key]
        if spec.kind is Kind.INTEGER:
            page.locator(f"#{key}").fill(str(value))
            continue
        for item in value if isinstance(value, list) else [value]:
            page.locator(f'input[name="{key}"][value="{item}"]').check()


def fits_a_phone(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"{path(page)} is {width}px wide at a 375px viewport"


def arrange(db: Session, app: Flask, user: Any, answers: dict[str, Any]) -> Any:
    result = services.submit_intake(db, user, answers, by=user,
                                    settings=load_settings(db, app.config),
                                    now=utcnow())
    db.commit()
    return result


def test_new_bladder_changes_show_the_urgent_message_and_booking_stays_shut(
    page: Page, visit: Visit, follow: Follow, make_user: Callable[..., Any],
    log_in: Callable[..., None], db: Session,
) -> None:
    client = make_user(full_name="Una Urgent")
    log_in(page, client)
    visit(page, "/intake/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Health questions")
    expect(page.get_by_label("How old are you (in years)?")).to_have_value(
        re.compile(r"^\d+$"))  # filled in from the date of birth
    answer(page, {k: v for k, v in CLEAR.items() if k != "bladder_change"})
    bladder = page.get_by_role("group", name=re.compile(
        r"^Since this pain started, have you had any new problems passing urine"))
    bladder.get_by_label("Yes", exact=True).check()
    follow(page.get_by_role("button", name="Send my answers"))

    assert re.fullmatch(r"/intake/screenings/\d+", path(page))
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Please get medical help now")
    expect(main.locator("p").first).to_contain_text(
        "You've told us about changes in bladder or bowel control")
    expect(main).to_contain_text(
        "Please go to an emergency department now or call 999.")
    expect(main.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
    expect(main.locator('a[href*="/booking"]')).to_have_count(0)
    expect(main.get_by_role("link", name="Book a session")).to_have_count(0)

    # The re-screen before a booking refuses too: no way through to booking.
    visit(page, "/intake/rescreen?next=/booking/")
    answer(page, rescreen_part({**CLEAR, "bladder_change": "yes"}))
    follow(page.get_by_role("button", name="Continue"))
    assert re.fullmatch(r"/intake/screenings/\d+", path(page))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Please get medical help now")
    expect(page.get_by_role("main").locator('a[href*="/booking"]')).to_have_count(0)
    latest = services.latest_screening(db, client.id)
    assert latest is not None
    assert services.booking_gate(db, client.id, latest.id, utcnow()).allowed is False


def test_chronic_tight_muscles_with_knots_are_offered_trigger_point_first(
    phone_page: Page, visit: Visit, follow: Follow, make_user: Callable[..., Any],
    log_in: Callable[..., None],
) -> None:
    page = phone_page
    log_in(page, make_user())
    visit(page, "/intake/")
    fits_a_phone(page)
    follow(page.get_by_role("button", name="Send my answers"))  # nothing answered
    expect(page.get_by_role("alert")).to_contain_text("Please correct these answers")
    age = page.get_by_label("How old are you (in years)?")
    expect(age).not_to_have_attribute("aria-invalid", "true")  # prefilled, kept
    expect(page.locator("#pregnancy-error")).to_have_text("Please choose an answer.")
    fits_a_phone(page)

    answer(page, {**CLEAR, "pain_duration": "more_than_12_weeks",
                  "clinician_assessed": "yes", "suspected_cause": "tight_muscles",
                  "muscle_knots": "yes"})
    follow(page.get_by_role("button", name="Send my answers"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You can book")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Suggested massage: Trigger point therapy")
    suggestion = page.locator(".suggestion li")
    expect(suggestion).to_have_text(["Trigger point therapy", "Deep tissue massage",
                                     "Neuromuscular therapy", "Swedish massage"])
    expect(page.get_by_role("main")).to_contain_text(
        "it is aimed at the tender knots you described")
    fits_a_phone(page)


def test_a_therapist_acknowledges_a_caution(
    page: Page, visit: Visit, follow: Follow, make_user: Callable[..., Any],
    log_in: Callable[..., None], db: Session, app: Flask,
) -> None:
    client = make_user(full_name="Cato Caution")
    arrange(db, app, client, CAUTION)
    log_in(page, make_user(Role.THERAPIST, full_name="Theo Therapist"))
    visit(page, "/intake/review")
    queue = page.get_by_role("region", name=re.compile("New intakes to acknowledge"))
    expect(queue.get_by_role("row")).to_have_count(2)  # header and Cato
    expect(queue).to_contain_text("C-HIGH-PAIN")
    follow(queue.get_by_role("link", name="Cato Caution"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Cato Caution")
    expect(page.get_by_role("main")).to_contain_text("NPRS exactly 7")
    follow(page.get_by_role("button", name="Acknowledge"))
    expect(page.get_by_role("status")).to_contain_text("Acknowledged.")
    expect(page.locator(".acknowledged")).to_have_text(
        re.compile(r"^Acknowledged by Theo Therapist at .+\.$"))
    visit(page, "/intake/review")
    expect(page.get_by_role("main")).not_to_contain_text("Cato Caution")


def test_staff_record_a_clearance_that_unblocks_a_refer(
    page: Page, visit: Visit, follow: Follow, make_user: Callable[..., Any],
    log_in: Callable[..., None], db: Session, app: Flask,
) -> None:
    client = make_user(full_name="Rhea Refer")
    arrange(db, app, client, REFER)
    log_in(page, make_user(Role.THERAPIST, full_name="Tam Therapist"))
    visit(page, "/intake/clients")
    page.get_by_label("Name or email").fill("rhea")
    follow(page.get_by_role("button", name="Search"))
    follow(page.get_by_role("link", name="Rhea Refer"))
    follow(page.get_by_role("link", name="Record a clearance note"))

    page.get_by_label("Clinician's name").fill("Dr Jo Bloggs")
    page.get_by_role("group", name="Profession").get_by_label("Doctor or GP").check()
    page.get_by_label("Date of the note").fill(utcnow().date().isoformat())
    page.get_by_label("R-CANCER-HISTORY: History of cancer").check()
    page.get_by_label("Restrictions the note gives (optional)").fill(
        "No pressure over the left hip.")
    page.get_by_role("group", name="How the note was received").get_by_label(
        "Letter").check()
    follow(page.get_by_role("button", name="Record the note"))

    assert path(page) == f"/intake/clients/{client.id}"
    expect(page.get_by_role("status")).to_contain_text(
        "Clearance note recorded. The outcome is now caution.")
    newest = page.locator("article.screening").first
    expect(newest).to_contain_text("After a clearance note")
    expect(newest.locator(".badge").first).to_have_text("Caution")
    expect(page.locator("article.clearance")).to_contain_text("In force until")

    latest = services.latest_screening(db, client.id)
    assert latest is not None and latest.outcome == "caution"
