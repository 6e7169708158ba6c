"""The progress page: charts, signals, the session list, access and audit."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.settings.services import save_settings
from tests.factories import make_person, make_therapist
from tests.test_notes_support import (
    Clinic,
    arrange_clinic,
    audit_rows,
    hours_ago,
    last_audit_id,
    session_at,
    write_note,
)

Login = Callable[[User], None]


@pytest.fixture
def clinic(db: Session) -> Clinic:
    """Three signed sessions a week apart: pain 7 → 6 → 4, extent 3 → 3 → 2."""
    clinic = arrange_clinic(db)
    therapist = clinic.therapist_user
    for weeks, before, after, level, response in (
        (3, 7, 5, 3, None), (2, 6, 4, 3, "better"), (1, 4, 2, 2, "better"),
    ):
        booking = session_at(db, clinic, hours_ago(24 * 7 * weeks))
        write_note(db, booking, therapist, nprs_before=before, nprs_after=after,
                   extent_level=level, previous_response=response)
    return clinic


def url(clinic: Clinic) -> str:
    return f"/notes/clients/{clinic.client.id}/progress"


def test_the_chart_has_three_points_per_line_and_the_signals(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    login(clinic.therapist_user)
    before = last_audit_id(db)
    page = client.get(url(clinic)).get_data(as_text=True)
    for series in ("before", "after", "extent"):
        group = page.split(f'data-series="{series}">')[1].split("</g>")[0]
        assert group.count('<circle class="point"') == 3, series
    assert page.count("<svg") == 2 and "<title id=\"pain-chart-title\">" in page
    assert "Centralising: symptoms reach less far down the leg" in page
    assert "Clinically meaningful improvement: pain fell from 7 to 4 out of 10" in page
    table = page.split("<caption")[1].split("</table>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", table)
    assert cells[:5] == ["7", "5", "3: knee", "Moderate", "Not recorded"]
    assert [(r.action, r.record_type, r.subject_user_id, r.allowed)
            for r in audit_rows(db, before)] == [
        ("list", "session_note", clinic.client.id, True)
    ]


def test_no_notes_yet(client: FlaskClient, db: Session, login: Login) -> None:
    clinic = arrange_clinic(db)
    session_at(db, clinic, hours_ago(1))
    login(clinic.therapist_user)
    page = client.get(url(clinic)).get_data(as_text=True)
    assert "No signed session notes yet." in page and "<svg" not in page
    assert "No note" in page  # the session is listed, waiting for its note


def test_a_stranger_therapist_gets_404_unless_the_clinic_allows(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    stranger = make_therapist(db).user
    login(stranger)
    before = last_audit_id(db)
    assert client.get(url(clinic)).status_code == 404
    assert [(r.actor_id, r.allowed, r.subject_user_id)
            for r in audit_rows(db, before)] == [(stranger.id, False, clinic.client.id)]
    save_settings(db, notes_visible_to_all_therapists=True)
    db.commit()
    assert client.get(url(clinic)).status_code == 200


def test_admins_see_progress_and_clients_do_not(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    login(make_person(db, Role.ADMIN))
    page = client.get(url(clinic))
    assert page.status_code == 200
    assert (f'<a href="/intake/clients/{clinic.client.id}">Screening record of '
            in page.get_data(as_text=True))
    client.post("/logout")
    login(clinic.client)
    before = last_audit_id(db)
    assert client.get(url(clinic)).status_code == 403
    assert [(r.action, r.allowed) for r in audit_rows(db, before)] == [
        ("list", False)
    ]


@pytest.mark.parametrize("client_id", ["999999", "99999999999"])
def test_unknown_clients_are_404(
    client: FlaskClient, login: Login, clinic: Clinic, client_id: str
) -> None:
    login(clinic.therapist_user)
    assert client.get(f"/notes/clients/{client_id}/progress").status_code == 404


def test_a_staff_id_is_not_a_client(
    client: FlaskClient, login: Login, clinic: Clinic
) -> None:
    login(clinic.therapist_user)
    response = client.get(f"/notes/clients/{clinic.therapist_user.id}/progress")
    assert response.status_code == 404
