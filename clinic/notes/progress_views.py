"""A client's progress for staff: charts, the §7.2 signals and their sessions.

Routed by ``clinic.notes.views`` (the blueprint's URL map).
"""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import login_required
from markupsafe import Markup

from clinic import clock
from clinic.db import get_session
from clinic.notes import chart, history
from clinic.notes.access import audit_read, client_or_404, staff_or_403
from clinic.web import settings


@login_required
def client_progress(client_id: int) -> str:
    """Pain and extent over the client's signed sessions, as charts, a table
    and plain sentences, with every session and its note."""
    staff_or_403("list", "session_note")
    db = get_session()
    client = client_or_404(db, client_id, "list")
    found = history.client_progress(db, client.id, settings().zone)
    sessions = history.sessions_of(db, client.id, clock.now())
    audit_read("list", "session_note", None, subject_user_id=client.id)
    charts = []
    if found.points:
        # chart.render escapes every text it places; the markup is ours.
        charts = [
            ("Pain chart", Markup(chart.pain_chart(found.points))),  # noqa: S704
            ("Extent chart", Markup(chart.extent_chart(found.points))),  # noqa: S704
        ]
    return render_template("notes/progress.html", client=client, found=found,
                           charts=charts, sessions=sessions,
                           client_page=client_page(client.id))


def client_page(client_id: int) -> str | None:
    """The client's screening record, when the intake feature is there."""
    if "intake.client_record" not in current_app.view_functions:
        return None
    return url_for("intake.client_record", client_id=client_id)
