"""Staff pages: review queue, client list, a client's record, acknowledging."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import BookingStatus
from clinic.intake import queries, services
from clinic.intake.models import Acknowledgement, Screening
from tests import factories
from tests import test_intake_views as shared
from tests.test_intake_views import (
    CAUTION,
    CLEAR,
    NOW,
    REFER,
    URGENT,
    arrange,
    audit_rows,
    count,
    main_html,
    text_of,
)

fixed_clock = shared.fixed_clock


@pytest.fixture
def therapist(make_user: Callable[..., User], login: Callable[[User], None]) -> User:
    user = make_user(Role.THERAPIST, full_name="Theo Therapist")
    login(user)
    return user


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The text of each cell of each body row of one table."""
    match = re.search(rf'id="{table_id}">(.*?)</table>', page, re.S)
    if match is None:
        return []
    body = match.group(1).split("<tbody>")[1]
    return [
        [text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def when(moment: datetime) -> str:
    """How the pages show an instant: in the clinic's zone (Europe/London)."""
    local = moment.astimezone(ZoneInfo("Europe/London"))
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


@pytest.fixture
def clinic_clients(
    db: Session, app: Flask, make_user: Callable[..., User]
) -> dict[str, User]:
    """One client per queue situation, screened an hour apart."""
    people = {name: make_user(full_name=name) for name in (
        "Una Urgent", "Rhea Refer", "Cato Caution", "Ada Acknowledged", "Cleo Clear",
        "Iris Improved", "Nell New",
    )}
    arrange(db, app, people["Una Urgent"], URGENT, NOW - timedelta(hours=1))
    arrange(db, app, people["Rhea Refer"], REFER, NOW - timedelta(hours=2))
    arrange(db, app, people["Cato Caution"], CAUTION, NOW - timedelta(hours=3))
    done = arrange(db, app, people["Ada Acknowledged"], CAUTION,
                   NOW - timedelta(hours=4))
    services.acknowledge(db, done, people["Ada Acknowledged"], NOW)
    arrange(db, app, people["Cleo Clear"], CLEAR, NOW - timedelta(hours=5))
    # Urgent once, clear since: the latest screening is what counts.
    arrange(db, app, people["Iris Improved"], URGENT, NOW - timedelta(days=2))
    arrange(db, app, people["Iris Improved"], CLEAR, NOW - timedelta(hours=6))
    db.commit()
    return people


def test_review_queue_lists_each_client_by_their_latest_screening(
    client: FlaskClient, therapist: User, clinic_clients: dict[str, User]
) -> None:
    page = main_html(client.get("/intake/review"))
    assert table_rows(page, "table-urgent") == [
        ["Una Urgent", when(NOW - timedelta(hours=1)), "Urgent", "U-CES"],
    ]
    assert table_rows(page, "table-clearance") == [
        ["Rhea Refer", when(NOW - timedelta(hours=2)), "Refer", "R-CANCER-HISTORY"],
    ]
    assert table_rows(page, "table-acknowledge") == [
        ["Cato Caution", when(NOW - timedelta(hours=3)), "Caution", "C-HIGH-PAIN"],
    ]
    una = clinic_clients["Una Urgent"]
    assert f'href="/intake/clients/{una.id}">Una Urgent</a>' in page
    for absent in ("Ada Acknowledged", "Cleo Clear", "Iris Improved", "Nell New"):
        assert absent not in page


def test_review_queue_runs_a_fixed_number_of_queries(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    def queries_for_queue() -> int:
        seen: list[str] = []
        engine = app.extensions["clinic.engine"]

        def count_query(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count_query)
        try:
            client.get("/intake/review")
        finally:
            event.remove(engine, "before_cursor_execute", count_query)
        return len([s for s in seen if "screening" in s.lower()])

    for n in range(3):
        arrange(db, app, make_user(full_name=f"Early {n}"), URGENT)
    few = queries_for_queue()
    for n in range(12):
        arrange(db, app, make_user(full_name=f"Later {n}"), [REFER, CAUTION][n % 2])
    # the queue and the sessions booked on an earlier caution
    assert queries_for_queue() == few == 2


def test_client_list_shows_status_and_searches_by_name_or_email(
    client: FlaskClient, therapist: User, clinic_clients: dict[str, User],
    make_user: Callable[..., User],
) -> None:
    make_user(Role.THERAPIST, full_name="Tess Staff")  # staff are not clients
    page = main_html(client.get("/intake/clients"))
    first = table_rows(page, "clients")[0]
    assert first == ["Ada Acknowledged", clinic_clients["Ada Acknowledged"].email,
                     "Caution", when(NOW - timedelta(hours=4))]
    names = [row[0] for row in table_rows(page, "clients")]
    assert names == sorted(names)
    assert "Tess Staff" not in names and "Theo Therapist" not in names
    statuses = {row[0]: row[2] for row in table_rows(page, "clients")}
    assert statuses == {
        "Ada Acknowledged": "Caution", "Cato Caution": "Caution Needs acknowledging",
        "Cleo Clear": "Clear", "Iris Improved": "Clear", "Nell New": "No answers yet",
        "Rhea Refer": "Refer Awaiting clearance", "Una Urgent": "Urgent Urgent alert",
    }
    found = main_html(client.get("/intake/clients?q=refer"))
    assert [row[0] for row in table_rows(found, "clients")] == ["Rhea Refer"]
    assert "1 client matching “refer”." in text_of(found)
    email = clinic_clients["Nell New"].email
    by_email = main_html(client.get("/intake/clients", query_string={"q": email}))
    assert [row[0] for row in table_rows(by_email, "clients")] == ["Nell New"]
    # LIKE wildcards are matched literally.
    assert table_rows(main_html(client.get("/intake/clients?q=%25")), "clients") == []


def test_client_list_pages_and_clamps_bad_page_numbers(
    client: FlaskClient, therapist: User, make_user: Callable[..., User]
) -> None:
    for n in range(30):
        make_user(full_name=f"Client {n:02d}")
    first = main_html(client.get("/intake/clients"))
    assert len(table_rows(first, "clients")) == 25
    assert "Page 1 of 2" in first and 'href="/intake/clients?page=2"' in first
    second = main_html(client.get("/intake/clients?page=2"))
    assert [r[0] for r in table_rows(second, "clients")] == [
        f"Client {n:02d}" for n in range(25, 30)
    ]
    for bad in ("0", "-3", "abc", "9" * 40):
        response = client.get(f"/intake/clients?page={bad}")
        assert response.status_code == 200, bad
        assert table_rows(main_html(response), "clients"), bad


def test_client_search_refuses_bad_text_with_a_message(
    client: FlaskClient, therapist: User
) -> None:
    page = main_html(client.get("/intake/clients", query_string={"q": "a\x00b"}))
    assert "Please remove unusual characters." in page
    long = main_html(client.get("/intake/clients", query_string={"q": "x" * 101}))
    assert "Please use at most 100 characters." in long


def test_client_record_shows_reasons_answers_and_reference_text(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    person = make_user(full_name="Petra Patient")
    answers = {**CAUTION, "medications": ["nerve_pain_medicine"],
               "pain_locations": ["calf"], "fever": "no"}
    shown = arrange(db, app, person, answers)
    page = main_html(client.get(f"/intake/clients/{person.id}"))
    text = text_of(page)
    assert f"{when(NOW)}: Full questionnaire Caution" in text
    assert ("C-HIGH-PAIN NPRS exactly 7 The seed says firm pressure flares nerve "
            "pain") in text
    assert "Excluded techniques Deep tissue massage, Neuromuscular therapy, " \
        "Trigger point therapy" in text
    assert "Suggested techniques Swedish massage Swedish massage is suggested" in text
    assert "A-SEDATING-MEDS These can cause drowsiness or dizziness" in text
    assert "A-NERVE-DOMINANT The pattern extends below the knee" in text
    # Answers as questions and labels, grouped by section, never raw keys.
    assert "D. Medicines Do you take any of these medicines? Tick all that apply, " \
        "or 'none'. Pregabalin (Lyrica), gabapentin" in text
    assert "Which leg has pain, pins and needles or numbness? Right leg" in text
    assert "nerve_pain_medicine" not in text
    assert "Is one of your legs (usually the calf) swollen" in text
    assert ("For reference: compression socks Compression socks don't treat the "
            "cause of sciatica") in text
    assert f'action="/intake/screenings/{shown.id}/acknowledge"' in page


def test_client_record_kinds_and_cleared_rules(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    person = make_user()
    arrange(db, app, person, REFER, NOW - timedelta(hours=2))
    services.submit_rescreen(db, person, REFER, by=person,
                             settings=services_settings(db, app),
                             now=NOW - timedelta(hours=1))
    services.record_clearance(db, person, note(["R-CANCER-HISTORY"]), by=therapist,
                              settings=services_settings(db, app), now=NOW)
    db.commit()
    text = text_of(main_html(client.get(f"/intake/clients/{person.id}")))
    kinds = re.findall(r"(Full questionnaire|Re-screen before booking|After a "
                       r"clearance note) (Urgent|Refer|Caution|Clear)", text)
    assert kinds == [("After a clearance note", "Caution"),
                     ("Re-screen before booking", "Refer"),
                     ("Full questionnaire", "Refer")]
    assert "R-CANCER-HISTORY History of cancer Cleared" in text
    assert "Cleared by a clinician\u2019s note: R-CANCER-HISTORY." in text
    assert ("Dr Jo Bloggs, Doctor or GP In force until "
            f"{when(NOW + timedelta(days=90))}") in text


def services_settings(db: Session, app: Flask) -> Any:
    from clinic.settings.services import load_settings

    return load_settings(db, app.config)


def note(rule_ids: list[str], **changes: Any) -> services.ClearanceNote:
    from datetime import date

    from clinic.intake.models import ReceivedVia

    values: dict[str, Any] = {
        "clinician_name": "Dr Jo Bloggs", "profession": "Doctor or GP",
        "note_date": date(2026, 6, 10), "rule_ids": frozenset(rule_ids),
        "restrictions": "", "excluded_override": None, "urgent_assessed": False,
        "received_via": ReceivedVia.LETTER,
    }
    values.update(changes)
    return services.ClearanceNote(**values)


def test_acknowledging_records_who_and_when(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    person = make_user()
    shown = arrange(db, app, person, CAUTION)
    response = client.post(f"/intake/screenings/{shown.id}/acknowledge")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/intake/clients/{person.id}#screening-{shown.id}"
    )
    ack = db.scalar(select(Acknowledgement))
    assert ack is not None
    assert (ack.screening_id, ack.therapist_id, ack.at) == (shown.id, therapist.id, NOW)
    text = text_of(main_html(client.get(response.headers["Location"])))
    assert f"Acknowledged by Theo Therapist at {when(NOW)}." in text
    assert "Cato" not in main_html(client.get("/intake/review"))
    assert "acknowledge" not in [r.attention for r in queries.review_queue(db)]
    [row] = [r for r in audit_rows(db) if r.action == "acknowledge"]
    assert (row.record_type, row.record_id, row.subject_user_id, row.actor_id) == (
        "screening", shown.id, person.id, therapist.id)


def book_on(db: Session, person: User, screening: Screening,
            status: BookingStatus = BookingStatus.CONFIRMED) -> datetime:
    """A session in three days booked on ``screening``; returns its start."""
    service = factories.make_service(db)
    treating = factories.make_therapist(db, services=[service])
    start = NOW + timedelta(days=3)
    factories.make_booking(db, client=person, therapist=treating, service=service,
                           start=start, screening=screening, status=status)
    return start

def test_a_booked_caution_can_be_acknowledged_after_a_newer_screening(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    """The caution a session was booked on keeps its own button after the
    client answers again for a later booking."""
    person = make_user()
    booked = arrange(db, app, person, CAUTION)
    start = book_on(db, person, booked)
    newer = arrange(db, app, person, CAUTION, now=NOW + timedelta(hours=1))
    unbooked = arrange(db, app, person, CAUTION, now=NOW + timedelta(hours=2))
    page = main_html(client.get(f"/intake/clients/{person.id}"))
    forms = re.findall(r'/intake/screenings/(\d+)/acknowledge', page)
    assert sorted(int(f) for f in forms) == sorted([booked.id, unbooked.id])
    assert newer.id not in [int(f) for f in forms]
    assert f"Answered for the session on {when(start)}." in text_of(page)
    queue = main_html(client.get("/intake/review"))
    assert table_rows(queue, "table-booked") == [
        [person.full_name, when(start), f"Caution {when(NOW)}", booked_rules(booked)]]
    assert f"#screening-{booked.id}" in queue
    assert client.post(f"/intake/screenings/{booked.id}/acknowledge").status_code == 302
    db.expire_all()
    assert db.get(Screening, booked.id).acknowledgement is not None
    assert table_rows(main_html(client.get("/intake/review")), "table-booked") == []


def test_a_cancelled_session_asks_for_no_acknowledgement(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    """A caution answered for a session that was then cancelled says so, and
    only the latest screening keeps the button."""
    person = make_user()
    booked = arrange(db, app, person, CAUTION)
    start = book_on(db, person, booked, status=BookingStatus.CANCELLED)
    latest = arrange(db, app, person, CAUTION, now=NOW + timedelta(hours=1))
    page = main_html(client.get(f"/intake/clients/{person.id}"))
    assert f"Answered for the session on {when(start)} (cancelled)." in text_of(page)
    forms = re.findall(r'/intake/screenings/(\d+)/acknowledge', page)
    assert [int(f) for f in forms] == [latest.id]

def booked_rules(shown: Screening) -> str:
    return ", ".join(shown.fired_rules)


def test_only_a_caution_can_be_acknowledged(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    person = make_user()
    shown = arrange(db, app, person, CLEAR)
    response = client.post(f"/intake/screenings/{shown.id}/acknowledge",
                           follow_redirects=True)
    assert "Only a caution needs acknowledging." in response.get_data(as_text=True)
    assert count(db, Acknowledgement) == 0
    assert client.post("/intake/screenings/424242/acknowledge").status_code == 404


def test_a_client_cannot_acknowledge(
    client: FlaskClient, db: Session, app: Flask, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    person = make_user()
    shown = arrange(db, app, person, CAUTION)
    login(person)
    assert client.post(f"/intake/screenings/{shown.id}/acknowledge").status_code == 403
    assert count(db, Acknowledgement) == 0


@pytest.mark.parametrize(
    "url", ["/intake/review", "/intake/clients", "/intake/clients/{id}",
            "/intake/clients/{id}/clearance"],
)
def test_clients_get_403_on_staff_pages(
    client: FlaskClient, db: Session, app: Flask, make_user: Callable[..., User],
    login: Callable[[User], None], url: str,
) -> None:
    person = make_user()
    arrange(db, app, person, REFER)
    login(person)
    assert client.get(url.format(id=person.id)).status_code == 403


def test_a_client_probing_a_staff_record_is_audited(
    client: FlaskClient, db: Session, app: Flask, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    other = make_user()
    prober = make_user()
    login(prober)
    before = len(audit_rows(db))
    assert client.get(f"/intake/clients/{other.id}").status_code == 403
    [row] = audit_rows(db)[before:]
    assert (row.action, row.record_type, row.subject_user_id, row.actor_id,
            row.allowed) == ("view", "intake", other.id, prober.id, False)


def test_a_staff_record_of_a_non_client_is_not_found(
    client: FlaskClient, therapist: User, db: Session
) -> None:
    before = len(audit_rows(db))
    assert client.get(f"/intake/clients/{therapist.id}").status_code == 404
    assert client.get("/intake/clients/424242").status_code == 404
    assert client.get("/intake/clients/99999999999999").status_code == 404
    rows = audit_rows(db)[before:]
    assert [(r.subject_user_id, r.allowed) for r in rows] == [
        (therapist.id, False), (None, False)]


def test_each_staff_read_leaves_exactly_one_audit_row(
    client: FlaskClient, therapist: User, db: Session, app: Flask,
    make_user: Callable[..., User],
) -> None:
    person = make_user()
    shown = arrange(db, app, person, REFER)
    expected = {
        "/intake/review": ("list", "screening", None, None),
        "/intake/clients": ("list", "screening", None, None),
        f"/intake/clients/{person.id}": ("view", "intake", shown.intake_id, person.id),
        f"/intake/clients/{person.id}/clearance": ("view", "screening", shown.id,
                                                   person.id),
        f"/intake/screenings/{shown.id}": ("view", "screening", shown.id, person.id),
    }
    for url, row in expected.items():
        before = len(audit_rows(db))
        assert client.get(url).status_code == 200, url
        rows = audit_rows(db)[before:]
        assert [(r.action, r.record_type, r.record_id, r.subject_user_id, r.actor_id,
                 r.allowed) for r in rows] == [(*row, therapist.id, True)], url


def test_latest_screening_wins_even_within_one_instant(
    db: Session, app: Flask, make_user: Callable[..., User]
) -> None:
    person = make_user(full_name="Same Moment")
    arrange(db, app, person, URGENT, NOW)
    last = arrange(db, app, person, CAUTION, NOW)
    [entry] = queries.review_queue(db)
    assert entry.screening is not None
    assert (entry.client.id, entry.screening.id, entry.attention) == (
        person.id, last.id, "acknowledge")
    assert db.scalar(select(Screening.id).order_by(Screening.id.desc())) == last.id


def test_the_home_page_partial_summarises_the_queue(
    app: Flask, db: Session, clinic_clients: dict[str, User]
) -> None:
    from flask import render_template

    assert queries.review_counts(db) == {"urgent": 1, "clearance": 1,
                                         "acknowledge": 1}
    with app.test_request_context():
        staff = render_template("intake/_home_therapist.html",
                                intake_counts=queries.review_counts(db))
    assert text_of(staff) == ("Screening review 1 urgent alert 1 awaiting clearance "
                              "1 to acknowledge Open the review queue")
    assert '<strong class="text-danger">1 urgent alert</strong>' in staff


def test_the_client_record_links_to_progress_for_staff_who_may_read_the_notes(
    client: FlaskClient, db: Session, app: Flask, login: Callable[[User], None],
    make_user: Callable[..., User],
) -> None:
    person = make_user(full_name="Petra Patient")
    arrange(db, app, person, CLEAR)
    service = factories.make_service(db)
    treating = factories.make_therapist(db, name="Tara Treats", services=[service])
    other = factories.make_therapist(db, name="Oscar Other", services=[service])
    factories.make_booking(db, client=person, therapist=treating, service=service,
                           start=NOW + timedelta(days=1))
    link = (f'<a href="/notes/clients/{person.id}/progress">Sessions, notes and '
            "progress of Petra Patient</a>")
    login(treating.user)
    assert link in main_html(client.get(f"/intake/clients/{person.id}"))
    client.post("/logout")
    login(other.user)  # sees the screening, but not the notes of a client not theirs
    page = main_html(client.get(f"/intake/clients/{person.id}"))
    assert "Petra Patient" in page and "/progress" not in page
    client.post("/logout")
    login(make_user(Role.ADMIN))
    assert link in main_html(client.get(f"/intake/clients/{person.id}"))
