"""Session notes in a real browser: write, sign and correct a note, see the
progress chart after three sessions, and a client downloading their record.

Every page is checked with axe-core (see conftest: ``visit``/``follow``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from clinic.notes.advice import HOME_CARE
from tests.conftest import PASSWORD
from tests.test_notes_support import (
    Clinic,
    arrange_clinic,
    hours_ago,
    session_at,
    write_note,
)

Visit = Callable[..., Any]
Follow = Callable[..., Any]


def path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


def fits_a_phone(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"{path(page)} is {width}px wide at a 375px viewport"


def log_in_to(page: Page, visit: Visit, follow: Follow, user: Any, target: str) -> None:
    """Log in from a link to ``target`` (the login page sends you on to it)."""
    visit(page, f"/login?next={target}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    follow(page.get_by_role("button", name="Log in"))
    assert path(page) == target


def two_signed_sessions(db: Session, clinic: Clinic) -> None:
    """Weeks 1 and 2 of treatment, written up through the service."""
    for weeks, before, after, level, response in ((2, 7, 5, 3, None),
                                                  (1, 6, 4, 3, "better")):
        booking = session_at(db, clinic, hours_ago(24 * 7 * weeks))
        write_note(db, booking, clinic.therapist_user, nprs_before=before,
                   nprs_after=after, extent_level=level, previous_response=response)


def test_therapist_writes_signs_corrects_and_sees_progress(
    page: Page, phone_page: Page, visit: Visit, follow: Follow, db: Session,
) -> None:
    clinic = arrange_clinic(db)
    two_signed_sessions(db, clinic)
    today = session_at(db, clinic, hours_ago(1))

    log_in_to(page, visit, follow, clinic.therapist_user, f"/notes/booking/{today.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Session note")
    expect(page.get_by_label("Subjective: what the client tells you")).to_have_value(
        re.compile(r"^Before this visit the client reported pain 4/10")
    )
    expect(page.get_by_label("Pain score before the session (0 to 10)")).to_have_value(
        "4"
    )
    expect(page.get_by_label("2: Thigh")).to_be_checked()

    page.get_by_label("Objective: what you found").fill("Less guarding than last week.")
    page.get_by_label("Plan", exact=True).fill("One more session, then review.")
    page.get_by_label("Swedish massage").check()
    page.get_by_role("group", name="Pressure").get_by_label("Moderate").check()
    page.get_by_label("Pain score after the session (0 to 10)").fill("2")
    page.get_by_label("1: Buttock").check()
    page.get_by_label("Moving up towards the buttock (improving)").check()
    page.get_by_label("Better").check()
    page.get_by_label(HOME_CARE["A-NO-HAMSTRING-STRETCH"]).check()
    follow(page.get_by_role("button", name="Save draft"))
    expect(page.get_by_role("status")).to_contain_text("Draft saved.")
    expect(page.get_by_label("Home-care advice")).to_have_value(
        re.compile("No hamstring stretching")
    )

    follow(page.get_by_role("button", name="Sign and lock note"))
    expect(page.get_by_role("heading", name="Signed note")).to_be_visible()
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    expect(page.get_by_text("One more session, then review.")).to_be_visible()

    page.get_by_label("Addendum").fill("Pain after was 3, not 2.")
    follow(page.get_by_role("button", name="Add addendum"))
    addendum = page.get_by_role("article", name=re.compile("^Addendum by Alex"))
    expect(addendum).to_contain_text("Pain after was 3, not 2.")
    expect(page.get_by_text("One more session, then review.")).to_be_visible()

    follow(page.get_by_role("link", name="Progress and other sessions of Casey Client"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Progress: Casey Client")
    for series in ("before", "after", "extent"):
        expect(page.locator(f'[data-series="{series}"] circle.point')).to_have_count(3)
    expect(page.get_by_role("img", name="Pain score before and after each session")) \
        .to_be_visible()
    signals = page.get_by_role("list").filter(has_text="Centralising")
    expect(signals).to_contain_text("Clinically meaningful improvement: pain fell "
                                     "from 7 to 4 out of 10")

    log_in_to(phone_page, visit, follow, clinic.therapist_user,
              f"/notes/clients/{clinic.client.id}/progress")
    fits_a_phone(phone_page)
    visit(phone_page, f"/notes/booking/{today.id}")
    fits_a_phone(phone_page)


def test_client_downloads_their_record(
    page: Page, visit: Visit, follow: Follow, db: Session
) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(24))
    write_note(db, booking, clinic.therapist_user, plan="Two more sessions.",
               home_care="Walk every day.", objective="Not for the client.")

    log_in_to(page, visit, follow, clinic.client, "/notes/my-record")
    expect(page.get_by_role("heading", level=1)).to_have_text("My record")
    expect(page.get_by_text("Two more sessions.")).to_be_visible()
    expect(page.get_by_text("Not for the client.")).to_have_count(0)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my record (JSON file)").click()
    download = download_info.value
    assert re.fullmatch(r"my-clinic-record-\d{4}-\d{2}-\d{2}\.json",
                        download.suggested_filename)
    record = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert [(n["plan"], n["home_care"]) for n in record["session_notes"]] == [
        ("Two more sessions.", "Walk every day.")
    ]
    assert record["client"]["name"] == "Casey Client"
