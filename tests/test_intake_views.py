"""The client's intake pages: questionnaire, outcome pages, history, access.

Helpers here (answers, form posting, arranging screenings, reading audit
rows) are shared by the other ``test_intake_*`` modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from clinic import clock
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.intake import screening, services
from clinic.intake.models import Intake, IntakeKind, Screening
from clinic.intake.vocabulary import FIELDS, Kind
from clinic.settings.services import load_settings, save_settings
from tests.factories import CLEAR_ANSWERS

# The spec's example intake (§2.1), which screens clear.
CLEAR: dict[str, Any] = dict(CLEAR_ANSWERS)
URGENT = {**CLEAR, "bladder_change": "yes"}  # U-CES
REFER = {**CLEAR, "history_of_cancer": "yes"}  # R-CANCER-HISTORY
CAUTION = {**CLEAR, "pain_score": 7}  # C-HIGH-PAIN, NO_DEEP
NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def form_data(answers: Mapping[str, Any]) -> MultiDict[str, str]:
    """Answers as a browser would post them (one pair per ticked box)."""
    pairs: list[tuple[str, str]] = []
    for key, value in answers.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((key, str(item)) for item in values)
    return MultiDict(pairs)


def rescreen_part(answers: Mapping[str, Any]) -> dict[str, Any]:
    from clinic.intake.vocabulary import RESCREEN_FIELDS

    return {k: v for k, v in answers.items() if k in RESCREEN_FIELDS}


def arrange(db: Session, app: Flask, user: User, answers: Mapping[str, Any],
            now: datetime = NOW) -> Screening:
    """A full intake screened as the questionnaire would, committed."""
    result = services.submit_intake(db, user, answers, by=user,
                                    settings=load_settings(db, app.config), now=now)
    db.commit()
    return result


def audit_rows(db: Session) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def main_html(response: Any) -> str:
    page = response.get_data(as_text=True)
    return page[page.index("<main"):page.index("</main>")]


def text_of(html: str) -> str:
    """Visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    yield NOW


@pytest.fixture
def booking_start(app: Flask) -> str:
    """The booking flow's first page (a stand-in until the booking views exist)."""
    if "booking.start" not in app.view_functions:
        app.add_url_rule("/booking/", "booking.start", lambda: "booking")
    return "/booking/"


@pytest.fixture
def client_user(make_user: Callable[..., User], login: Callable[[User], None]) -> User:
    user = make_user(Role.CLIENT, full_name="Casey Client")
    login(user)
    return user


# ---------------------------------------------------------------- questionnaire


def test_questionnaire_asks_every_section_with_the_spec_wording(
    client: FlaskClient, client_user: User
) -> None:
    page = main_html(client.get("/intake/"))
    headings = re.findall(r"<h2 id=\"section-\w\">([^<]+)</h2>", page)
    assert headings == ["A. About you", "B. Your pain", "C. Safety questions",
                        "D. Medicines", "E. Health conditions"]
    assert "<legend class=\"label\">Does either leg feel weak?</legend>" in page
    # Each option's own explanation is tied to it.
    assert ('aria-describedby="leg_weakness-2-desc"' in page
            and "My foot drags or slaps, my leg gives way" in page)
    # Sections C and E carry the confidentiality notice.
    assert page.count("Your answers are confidential. We use them only to keep "
                      "your treatment safe.") == 2
    assert page.count("If none of them apply, tick “None of these”.") == 2
    assert 'type="checkbox" value="none"' in page
    radios = sum(len(f.choices) for f in FIELDS if f.kind is Kind.ENUM)
    assert page.count('type="radio"') == radios == 87


def test_age_is_prefilled_from_the_date_of_birth(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[[User], None]
) -> None:
    login(make_user(date_of_birth=date(1985, 6, 16)))  # 41 tomorrow (NOW is 15 June)
    page = main_html(client.get("/intake/"))
    assert re.search(r'id="age_years"[^>]*value="40"', page)
    assert "We have filled this in from your date of birth" in page


def test_no_date_of_birth_leaves_age_empty(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[[User], None]
) -> None:
    login(make_user(date_of_birth=None))
    page = main_html(client.get("/intake/"))
    assert re.search(r'id="age_years"[^>]*value=""', page)
    assert "We have filled this in" not in page


def test_submitting_stores_the_answers_in_the_spec_vocabulary(
    client: FlaskClient, client_user: User, db: Session, app: Flask
) -> None:
    answers = {k: v for k, v in CLEAR.items()
               if k not in ("onset", "cause_source", "symptom_extent_trend")}
    data = form_data({**answers, "pain_locations": ["thigh", "lower_back"],
                      "bp_systolic_mmhg": "", "bp_diastolic_mmhg": "82"})
    response = client.post("/intake/", data=data)
    intake = db.scalar(select(Intake))
    assert intake is not None
    stored = db.scalar(select(Screening))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/intake/screenings/{stored.id}"
    expected = {**answers, "pain_locations": ["thigh", "lower_back"],
                "bp_diastolic_mmhg": 82}
    assert intake.answers == expected
    assert isinstance(intake.answers["age_years"], int)
    assert intake.kind is IntakeKind.FULL and intake.client_id == client_user.id
    assert stored.outcome == "clear"
    assert stored.result == services.run_screening(
        expected, load_settings(db, app.config)
    ).to_record()


def test_each_submission_is_a_new_intake(
    client: FlaskClient, client_user: User, db: Session
) -> None:
    client.post("/intake/", data=form_data(CLEAR))
    client.post("/intake/", data=form_data(URGENT))
    intakes = list(db.scalars(select(Intake).order_by(Intake.id)))
    assert [i.answers["bladder_change"] for i in intakes] == ["no", "yes"]
    assert [s.outcome for s in db.scalars(select(Screening).order_by(Screening.id))] \
        == ["clear", "urgent"]


def test_required_answers_are_enforced_at_the_field(
    client: FlaskClient, client_user: User, db: Session
) -> None:
    response = client.post("/intake/", data={"pain_locations": "calf"})
    assert response.status_code == 200
    page = main_html(response)
    errors = dict(re.findall(r'<p class="error-message" id="(\w+)-error">([^<]+)</p>',
                             page))
    assert errors["age_years"].strip() == "Please enter a whole number from 0 to 120."
    assert errors["pregnancy"].strip() == "Please choose an answer."
    assert errors["bladder_change"].strip() == "Please choose an answer."
    assert errors["medications"].strip() == (
        "Please tick at least one answer, or “None of these”."
    )
    required = {"age_years", "pregnancy", "pain_score", "legs_affected",
                "pain_duration", "pain_trend", "clinician_assessed", "bladder_change",
                "bowel_change", "saddle_numbness", "leg_weakness", "leg_numbness",
                "one_leg_swollen_warm_red", "breathless_or_chest_pain", "fever",
                "unexplained_weight_loss", "night_pain", "history_of_cancer",
                "recent_injury", "surgery_last_12_weeks", "blood_pressure_status",
                "medications", "conditions"}
    assert set(errors) == required
    # The error is tied to its question, and what was ticked is kept.
    assert 'aria-describedby="bladder_change-error"' in page
    assert 'checked id="pain_locations-4"' in page
    assert count(db, Intake) == 0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("age_years", "thirty", "Please enter a whole number from 0 to 120."),
        ("age_years", "121", "Please enter a whole number from 0 to 120."),
        ("age_years", "-1", "Please enter a whole number from 0 to 120."),
        ("age_years", "35.5", "Please enter a whole number from 0 to 120."),
        ("age_years", "9" * 5000, "Please enter a whole number from 0 to 120."),
        ("pain_score", "11", "Please enter a whole number from 0 to 10."),
        ("bp_systolic_mmhg", "high", "Please enter a whole number from 50 to 300."),
        ("bp_diastolic_mmhg", "10", "Please enter a whole number from 20 to 200."),
        ("pregnancy", "maybe", "Please choose one of the answers shown."),
        ("bladder_change", "No", "Please choose one of the answers shown."),
        ("fever", "no\x00", "Please choose one of the answers shown."),
        ("medications", ["none", "warfarin"], "Please tick only the answers shown."),
        ("conditions", ["x" * 300], "Please tick only the answers shown."),
    ],
)
def test_bad_input_gets_a_message_at_the_field(
    client: FlaskClient, client_user: User, db: Session, key: str, value: Any,
    message: str,
) -> None:
    response = client.post("/intake/", data=form_data({**CLEAR, key: value}))
    assert response.status_code == 200
    page = main_html(response)
    assert re.search(rf'id="{key}-error">{re.escape(message)}', page), page
    assert count(db, Intake) == 0


# ---------------------------------------------------------------- outcome pages


def test_urgent_shows_the_messages_first_with_the_emergency_number_and_no_booking(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    save_settings(db, emergency_number="112")
    db.commit()
    shown = arrange(db, app, client_user, URGENT)
    page = main_html(client.get(f"/intake/screenings/{shown.id}"))
    text = text_of(page)
    assert text.startswith(
        "Please get medical help now You've told us about changes in bladder or "
        "bowel control"
    )
    assert ("Please go to an emergency department now or call 112. Do not wait to "
            "see if it settles. We have not booked a massage.") in text
    assert '<a href="tel:112">112</a>' in page
    assert "/booking" not in page and "Book a session" not in page
    assert "CES red flags" not in page  # never the therapist's rationale


def test_refer_explains_how_to_get_a_clearance_note(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    shown = arrange(db, app, client_user, REFER)
    text = text_of(main_html(client.get(f"/intake/screenings/{shown.id}")))
    assert text.startswith("Please see a clinician before booking Because you've "
                           "had cancer")
    assert screening.REFER_FOOTER in text
    assert "How to get a clearance note" in text
    assert "Once it is recorded you can book. A note covers you for 90 days." in text
    assert "Book a session" not in text
    assert "most informative single red flag" not in text


def test_refer_for_unconfirmed_answers_asks_to_complete_them_instead(
    client: FlaskClient, client_user: User, db: Session, app: Flask
) -> None:
    shown = arrange(db, app, client_user, {**CLEAR, "fever": "unsure"})
    page = main_html(client.get(f"/intake/screenings/{shown.id}"))
    text = text_of(page)
    assert "We couldn't confirm some of the safety questions" in text
    assert "How to get a clearance note" not in text
    assert screening.REFER_FOOTER not in text
    assert "Questions we could not confirm In the last week, have you had a " \
        "temperature" in text
    assert 'href="/intake/"' in page


def test_caution_shows_the_neutral_heading_then_messages_and_leads_to_booking(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    shown = arrange(db, app, client_user, CAUTION)
    page = main_html(client.get(f"/intake/screenings/{shown.id}"))
    assert f"<h2>{screening.CAUTION_HEADING}</h2>" in page
    text = text_of(page)
    assert (f"{screening.CAUTION_HEADING} As your pain is quite high today, your "
            "therapist will keep the pressure gentle.") in text
    assert "Suggested massage: Swedish massage" in text
    assert ("Swedish massage is suggested as a starting point because the pain "
            "began less than 6 weeks ago") in text
    assert "Massage types that suit you right now: Swedish massage Your" in text
    assert "Deep tissue" not in text and "Trigger point" not in text
    assert f'href="{booking_start}?screening={shown.id}"' in page


def test_clear_leads_to_booking_with_the_suggestion(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    answers = {**CLEAR, "pain_duration": "more_than_12_weeks",
               "clinician_assessed": "yes", "muscle_knots": "yes"}
    shown = arrange(db, app, client_user, answers)
    assert shown.outcome == "clear"
    page = main_html(client.get(f"/intake/screenings/{shown.id}"))
    text = text_of(page)
    assert "You can book Thank you. Nothing in your answers stops you booking" in text
    assert "Suggested massage: Trigger point therapy" in text
    assert ("Massage types that suit you right now: Trigger point therapy Deep "
            "tissue massage Neuromuscular therapy Swedish massage") in text
    assert f'<a class="button" href="{booking_start}?screening={shown.id}">' \
        "Book a session</a>" in page


def test_an_earlier_result_does_not_offer_booking(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    old = arrange(db, app, client_user, CLEAR)
    arrange(db, app, client_user, REFER)
    text = text_of(main_html(client.get(f"/intake/screenings/{old.id}")))
    assert "These are earlier answers." in text
    assert "Book a session" not in text


def test_a_used_or_stale_screening_sends_booking_through_the_questions_again(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    shown = arrange(db, app, client_user, CLEAR,
                    now=NOW - services.RESCREEN_VALID_FOR - timedelta(minutes=1))
    page = main_html(client.get(f"/intake/screenings/{shown.id}"))
    assert f'<a class="button" href="{booking_start}">Book a session</a>' in page


# ---------------------------------------------------------------- history and access


def test_history_lists_only_the_clients_own_screenings(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    mine = [arrange(db, app, client_user, CLEAR), arrange(db, app, client_user, URGENT)]
    other = arrange(db, app, make_user(), REFER)
    page = main_html(client.get("/intake/history"))
    links = re.findall(r'href="/intake/screenings/(\d+)">([^<]+)<', page)
    assert links == [(str(mine[1].id), "Get medical help now"),
                     (str(mine[0].id), "You can book")]
    assert str(other.id) not in [link for link, _ in links]


def test_another_clients_screening_is_not_found_and_the_attempt_audited(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    owner = make_user()
    theirs = arrange(db, app, owner, URGENT)
    before = len(audit_rows(db))
    assert client.get(f"/intake/screenings/{theirs.id}").status_code == 404
    [row] = audit_rows(db)[before:]
    assert (row.action, row.record_type, row.record_id, row.subject_user_id,
            row.actor_id, row.allowed) == (
        "view", "screening", theirs.id, owner.id, client_user.id, False)


@pytest.mark.parametrize("screening_id", ["424242", "99999999999999999999"])
def test_a_missing_screening_is_not_found(
    client: FlaskClient, client_user: User, screening_id: str
) -> None:
    assert client.get(f"/intake/screenings/{screening_id}").status_code == 404


def test_staff_may_open_any_clients_outcome_page(
    client: FlaskClient, db: Session, app: Flask, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    owner = make_user(full_name="Olive Owner")
    shown = arrange(db, app, owner, REFER)
    therapist = make_user(Role.THERAPIST)
    login(therapist)
    before = len(audit_rows(db))
    page = main_html(client.get(f"/intake/screenings/{shown.id}"))
    assert "You are seeing Olive Owner\u2019s result as they see it." in page
    [row] = audit_rows(db)[before:]
    assert (row.action, row.record_id, row.actor_id, row.allowed) == (
        "view", shown.id, therapist.id, True)


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    for url in ("/intake/", "/intake/rescreen", "/intake/history",
                "/intake/screenings/1", "/intake/review", "/intake/clients",
                "/intake/clients/1"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_staff_do_not_fill_in_the_questionnaire(
    client: FlaskClient, make_user: Callable[..., User], login: Callable[[User], None]
) -> None:
    login(make_user(Role.THERAPIST))
    assert client.get("/intake/").status_code == 403
    assert client.get("/intake/rescreen").status_code == 403
    assert client.get("/intake/history").status_code == 403


def test_reading_an_outcome_page_leaves_exactly_one_audit_row(
    client: FlaskClient, client_user: User, db: Session, app: Flask
) -> None:
    shown = arrange(db, app, client_user, CLEAR)
    before = len(audit_rows(db))
    client.get(f"/intake/screenings/{shown.id}")
    client.get("/intake/history")
    rows = audit_rows(db)[before:]
    assert [(r.action, r.record_type, r.record_id, r.subject_user_id, r.allowed)
            for r in rows] == [
        ("view", "screening", shown.id, client_user.id, True),
        ("list", "screening", None, client_user.id, True),
    ]


def test_submitting_is_audited_without_clinical_detail(
    client: FlaskClient, client_user: User, db: Session
) -> None:
    client.post("/intake/", data=form_data(URGENT))
    intake = db.scalar(select(Intake))
    assert intake is not None
    [row] = [r for r in audit_rows(db) if r.action == "create"]
    assert (row.record_type, row.record_id, row.subject_user_id, row.detail) == (
        "intake", intake.id, client_user.id, None)


def test_a_box_sent_twice_counts_once(
    client: FlaskClient, client_user: User, db: Session
) -> None:
    client.post("/intake/", data=form_data(
        {**CLEAR, "medications": ["antiplatelet", "antiplatelet", "none"]}))
    intake = db.scalar(select(Intake))
    assert intake is not None
    assert intake.answers["medications"] == ["antiplatelet", "none"]
    assert db.scalar(select(Screening.outcome)) == "caution"  # C-BLEEDING-RISK
