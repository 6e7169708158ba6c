"""The audit trail for admins: filter, page through, export as CSV.

The trail itself can never be edited or deleted (database triggers); these
pages only read it. An export copies personal data out of the app, so it
leaves its own audit row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo

from flask import Blueprint, Flask, Response, current_app, render_template, request
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from clinic import clock
from clinic.accounts.models import EMAIL_MAX, Role
from clinic.accounts.permissions import role_required
from clinic.audit import services
from clinic.audit.models import AuditEvent
from clinic.db import get_session, new_session
from clinic.forms import ClinicForm, max_length, strip_filter
from clinic.web import actor, settings

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PER_PAGE = 50
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
DATE_MESSAGE = "Please enter a date like 2027-03-28."
CHOOSE_SHOWN = "Please choose one of the options shown."
ALLOWED_CHOICES = [("", "Allowed and denied"), ("allowed", "Allowed only"),
                   ("denied", "Denied only")]


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def _in_range(form: ClinicForm, field: DateField) -> None:
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError("Please enter a date between 2000 and 2100.")


class FilterForm(ClinicForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    user = StringField("User (name, email or id)", filters=[strip_filter],
                       validators=[Optional(), max_length(EMAIL_MAX)])
    client = StringField("Whose record (name, email or id)", filters=[strip_filter],
                         validators=[Optional(), max_length(EMAIL_MAX)])
    record_type = SelectField("Record type", default="",
                              invalid_choice_message=CHOOSE_SHOWN)
    action = SelectField("Action", default="", invalid_choice_message=CHOOSE_SHOWN)
    since = DateField("From (date)", validators=[Optional(), _in_range],
                      format="%Y-%m-%d")
    until = DateField("To (date, inclusive)", validators=[Optional(), _in_range],
                      format="%Y-%m-%d")
    allowed = SelectField("Result", choices=_choices(ALLOWED_CHOICES), default="",
                          invalid_choice_message=CHOOSE_SHOWN)

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date must be on or after the start date.")

    def to_filter(self, zone: tzinfo) -> services.AuditFilter:
        return services.AuditFilter(
            user=self.user.data or "",
            client=self.client.data or "",
            record_type=self.record_type.data or "",
            action=self.action.data or "",
            since=_midnight(self.since.data, zone),
            until=_midnight(self.until.data + timedelta(days=1), zone)
            if self.until.data else None,
            allowed={"allowed": True, "denied": False}.get(self.allowed.data or ""),
        )


def _midnight(day: date | None, zone: tzinfo) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=zone) if day else None


def _filter_form() -> FilterForm:
    form = FilterForm(formdata=request.args)
    db = get_session()
    form.record_type.choices = _choices(
        [("", "Any record type")]
        + [(v, v) for v in services.distinct_values(db, AuditEvent.record_type)])
    form.action.choices = _choices(
        [("", "Any action")]
        + [(v, v) for v in services.distinct_values(db, AuditEvent.action)])
    return form


def _valid(form: FilterForm) -> bool:
    valid = form.validate()
    for name in ("since", "until"):
        field = form[name]
        if field.errors and any("Not a valid date" in e for e in field.errors):
            field.errors = [DATE_MESSAGE]
    return valid


@bp.get("/")
@role_required(Role.ADMIN)
def trail() -> str:
    """The trail, newest first, filtered and paginated."""
    form = _filter_form()
    listing = None
    if _valid(form):
        page = request.args.get("page", 1, type=int)
        wanted = form.to_filter(settings().zone)
        listing = services.page_of_events(get_session(), wanted, page, PER_PAGE)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/trail.html", form=form, listing=listing, query=query)


def _stream(app: Flask, wanted: services.AuditFilter, zone: tzinfo) -> Iterator[str]:
    """The CSV from a session of its own, closed as soon as the last row is
    sent. The rows are read in batches while the response streams (after the
    view has returned), so the read must end with the stream, not wait for a
    request teardown."""
    with new_session(app, write=False) as db:
        yield from services.csv_lines(db, wanted, zone)


@bp.get("/export.csv")
@role_required(Role.ADMIN)
def export() -> Response | str:
    """The filtered trail as a CSV file, streamed row by row."""
    form = _filter_form()
    if not _valid(form):
        return render_template("audit/trail.html", form=form, listing=None, query={})
    zone = settings().zone
    wanted = form.to_filter(zone)
    with new_session() as db:
        services.record(db, actor(), "export", "audit_event", None)
        db.commit()
    stamp = clock.now().astimezone(zone).strftime("%Y-%m-%d-%H%M")
    return Response(
        _stream(current_app._get_current_object(), wanted, zone),  # type: ignore[attr-defined]
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
