"""The client's own record: a printable page and a JSON download.

Routed by ``clinic.notes.views`` (the blueprint's URL map). Both are reads of
clinical records and leave one audit row each.
"""

from __future__ import annotations

import json

from flask import Response, render_template
from flask_login import current_user

from clinic import clock
from clinic.accounts.models import Role
from clinic.accounts.permissions import role_required
from clinic.db import get_session
from clinic.notes.access import audit_read
from clinic.notes.record import client_record
from clinic.web import settings


@role_required(Role.CLIENT)
def my_record() -> str:
    """Everything we hold about the client that they may see, printable."""
    record = client_record(get_session(), current_user, settings().zone, clock.now())
    audit_read("view", "client_record", None, subject_user_id=current_user.id)
    return render_template("notes/my_record.html", record=record)


@role_required(Role.CLIENT)
def my_record_json() -> Response:
    """The same record as a JSON file to keep."""
    now = clock.now()
    record = client_record(get_session(), current_user, settings().zone, now)
    audit_read("export", "client_record", None, subject_user_id=current_user.id)
    body = json.dumps(record, ensure_ascii=False, indent=2)
    filename = f"my-clinic-record-{now.astimezone(settings().zone):%Y-%m-%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
