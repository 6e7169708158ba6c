"""The audit trail for admins: filters, pages, CSV export and its guard."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.audit.services import CSV_HEADER, csv_safe

Login = Callable[[User], None]
# London is on GMT in January, so local dates are UTC dates.
T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def event(db: Session, at: datetime, actor: User | None, action: str,
          record_type: str, record_id: int | None = None, *,
          subject: User | None = None, allowed: bool = True,
          detail: str | None = None) -> AuditEvent:
    row = AuditEvent(at=at, actor_id=actor.id if actor else None,
                     actor_role=actor.role.value if actor else None, action=action,
                     record_type=record_type, record_id=record_id,
                     subject_user_id=subject.id if subject else None,
                     allowed=allowed, ip="192.0.2.7", detail=detail)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "admin": make_user(Role.ADMIN, full_name="Ada Admin", email="ada@example.com"),
        "therapist": make_user(Role.THERAPIST, full_name="Tom Therapist",
                               email="tom@example.com"),
        "client": make_user(Role.CLIENT, full_name="Cleo Client",
                            email="cleo@example.com"),
        "other": make_user(Role.CLIENT, full_name="Otto Other",
                           email="otto@example.com"),
    }


@pytest.fixture
def events(db: Session, people: dict[str, User]) -> list[AuditEvent]:
    tom, cleo, otto = people["therapist"], people["client"], people["other"]
    return [
        event(db, T0, tom, "view", "session_note", 1, subject=cleo),
        event(db, T0 + timedelta(days=1), tom, "sign", "session_note", 1, subject=cleo),
        event(db, T0 + timedelta(days=2), tom, "view", "session_note", None,
              subject=otto, allowed=False),
        event(db, T0 + timedelta(days=3), cleo, "view", "client_record", None,
              subject=cleo),
        event(db, T0 + timedelta(days=4), None, "login_failed", "account",
              detail="=HYPERLINK(\"http://x\")"),
    ]


def shown_ids(page: str) -> list[int]:
    """The record ids in table order (None shown as -)."""
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    return [int(r.split("#")[1].split("<")[0]) if "#" in r else -1 for r in rows]


def test_only_admins_see_the_trail(
    client: FlaskClient, login: Login, people: dict[str, User]
) -> None:
    assert client.get("/admin/audit/").status_code == 302
    for role in ("therapist", "client"):
        login(people[role])
        assert client.get("/admin/audit/").status_code == 403
        assert client.get("/admin/audit/export.csv").status_code == 403
        client.post("/logout")


def test_newest_first_with_every_column(
    client: FlaskClient, login: Login, people: dict[str, User],
    events: list[AuditEvent],
) -> None:
    login(people["admin"])
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "<h2>5 entries</h2>" in page
    body = page.split("<tbody>")[1]
    order = [body.index(t) for t in ("login_failed", "client_record", "sign")]
    assert order == sorted(order)
    assert "Denied" in body and "Not logged in" in body and "192.0.2.7" in body


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"user": "tom@"}, [("view", False), ("sign", True), ("view", True)]),
        ({"user": "Therapist"}, [("view", False), ("sign", True), ("view", True)]),
        ({"client": "otto"}, [("view", False)]),
        ({"record_type": "client_record"}, [("view", True)]),
        ({"action": "sign"}, [("sign", True)]),
        ({"allowed": "denied"}, [("view", False)]),
        ({"since": "2027-01-11", "until": "2027-01-12", "record_type": "session_note"},
         [("view", False), ("sign", True)]),
        ({"user": "tom", "action": "view", "allowed": "allowed"}, [("view", True)]),
        ({"client": "nobody"}, []),
    ],
)
def test_filters(
    client: FlaskClient, login: Login, people: dict[str, User],
    events: list[AuditEvent], args: dict[str, str],
    expected: list[tuple[str, bool]],
) -> None:
    login(people["admin"])
    page = client.get("/admin/audit/", query_string=args).get_data(as_text=True)
    noun = "entry" if len(expected) == 1 else "entries"
    assert f"<h2>{len(expected)} {noun}</h2>" in page
    if expected:
        rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
        found = [(r.split("<td>")[1].split("<")[0], "Denied" not in r) for r in rows]
        assert found == expected


def test_user_filter_by_id(
    client: FlaskClient, login: Login, people: dict[str, User],
    events: list[AuditEvent],
) -> None:
    login(people["admin"])
    cleo = people["client"]
    page = client.get("/admin/audit/", query_string={"user": str(cleo.id)})
    assert "<h2>1 entry</h2>" in page.get_data(as_text=True)



def test_whose_record_names_staff_as_staff(
    client: FlaskClient, db: Session, login: Login, people: dict[str, User]
) -> None:
    """Account events about staff are theirs, not a client's: the column
    says whose record it is and what they are."""
    ada, tom = people["admin"], people["therapist"]
    event(db, T0, ada, "update_details", "user", tom.id, subject=tom,
          detail="email (by staff)")
    login(ada)
    page = client.get("/admin/audit/", query_string={"client": "tom"}).get_data(
        as_text=True)
    assert '<th scope="col">Whose record</th>' in page
    assert "Whose record (name, email or id)" in page
    row = page.split("<tbody>")[1]
    assert "Tom Therapist<br><span class=\"muted\">tom@example.com (therapist)" in row

@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"since": "2027-13-01"}, "Please enter a date like 2027-03-28."),
        ({"since": "9999-01-01"}, "Please enter a date between 2000 and 2100."),
        ({"since": "2027-02-01", "until": "2027-01-01"},
         "The end date must be on or after the start date."),
        ({"record_type": "bogus"}, "Please choose one of the options shown."),
        ({"allowed": "maybe"}, "Please choose one of the options shown."),
        ({"user": "x" * 255}, "Please use at most 254 characters."),
        ({"user": "a\x00b"}, "Please remove unusual characters."),
    ],
)
def test_bad_filters_are_explained(
    client: FlaskClient, login: Login, people: dict[str, User],
    events: list[AuditEvent], args: dict[str, str], message: str,
) -> None:
    login(people["admin"])
    response = client.get("/admin/audit/", query_string=args)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page and "<tbody>" not in page


def test_pages_of_fifty(
    client: FlaskClient, db: Session, login: Login, people: dict[str, User]
) -> None:
    for n in range(1, 53):
        event(db, T0 + timedelta(minutes=n), people["therapist"], "view", "intake", n)
    login(people["admin"])
    first = client.get("/admin/audit/?record_type=intake").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert shown_ids(first) == list(range(52, 2, -1))
    last = client.get("/admin/audit/?record_type=intake&page=2").get_data(as_text=True)
    assert shown_ids(last) == [2, 1]
    assert 'href="/admin/audit/?page=1&amp;record_type=intake"' in last
    clamped = client.get("/admin/audit/?record_type=intake&page=99999999999999999999")
    assert shown_ids(clamped.get_data(as_text=True)) == [2, 1]


def test_csv_export_of_the_filtered_set(
    client: FlaskClient, db: Session, login: Login, people: dict[str, User],
    events: list[AuditEvent],
) -> None:
    login(people["admin"])
    response = client.get("/admin/audit/export.csv?record_type=session_note")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="audit-'
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == CSV_HEADER
    tom, cleo, otto = people["therapist"], people["client"], people["other"]
    assert rows[1:] == [
        [str(events[2].id), "2027-01-12T12:00:00+00:00", "2027-01-12T12:00:00+00:00",
         str(tom.id), "tom@example.com", "therapist", "view", "session_note", "",
         str(otto.id), "otto@example.com", "no", "192.0.2.7", ""],
        [str(events[1].id), "2027-01-11T12:00:00+00:00", "2027-01-11T12:00:00+00:00",
         str(tom.id), "tom@example.com", "therapist", "sign", "session_note", "1",
         str(cleo.id), "cleo@example.com", "yes", "192.0.2.7", ""],
        [str(events[0].id), "2027-01-10T12:00:00+00:00", "2027-01-10T12:00:00+00:00",
         str(tom.id), "tom@example.com", "therapist", "view", "session_note", "1",
         str(cleo.id), "cleo@example.com", "yes", "192.0.2.7", ""],
    ]
    exported = db.query(AuditEvent).filter_by(action="export").one()
    assert (exported.record_type, exported.actor_id) == ("audit_event",
                                                          people["admin"].id)


def test_csv_cells_that_could_run_as_formulas_are_neutralised(
    client: FlaskClient, db: Session, login: Login, people: dict[str, User],
) -> None:
    for detail in ("=1+2", "+SUM(A1)", "-2+3", "@cmd", 'a, "quoted" value'):
        event(db, T0, people["therapist"], "note", "csv_test", detail=detail)
    login(people["admin"])
    response = client.get("/admin/audit/export.csv?record_type=csv_test")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(row[-1] for row in rows[1:]) == sorted(
        ["'=1+2", "'+SUM(A1)", "'-2+3", "'@cmd", 'a, "quoted" value']
    )
    assert '"a, ""quoted"" value"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=A1", "'=A1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
     ("\tx", "'\tx"), ("plain", "plain"), (None, ""), (7, "7"), ("a=b", "a=b")],
)
def test_csv_safe(value: Any, safe: str) -> None:
    assert csv_safe(value) == safe


def test_bad_filters_give_no_export(
    client: FlaskClient, login: Login, people: dict[str, User]
) -> None:
    login(people["admin"])
    response = client.get("/admin/audit/export.csv?since=nonsense")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Please enter a date like 2027-03-28." in response.get_data(as_text=True)
