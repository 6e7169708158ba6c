"""Staff: therapists (account, profile, deactivation) and admins.

Staff never register themselves. An admin creates the account with an
unusable random password and the person gets a one-time link (the password
reset mechanism) to choose their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time, timedelta

from flask import abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, selectinload
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts import services as accounts
from clinic.accounts.confirmation import (
    queue_changed_by_clinic_notice,
    queue_moved_by_staff_mails,
)
from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role, User
from clinic.admin.common import (
    cancelled_note,
    changed_since_seen,
    get_or_404,
    handling,
    show_error,
)
from clinic.admin.forms import StaffForm, TherapistForm, options
from clinic.admin.schedule_forms import WEEKDAYS, DecisionForm
from clinic.audit.services import record
from clinic.booking import admin_schedule as schedule
from clinic.booking import admin_services as admin
from clinic.booking.models import Service, Therapist
from clinic.db import get_session
from clinic.intake.vocabulary import TECHNIQUE_NAMES
from clinic.mail.services import queue_mail, render_mail
from clinic.web import actor, commit, rollback, settings, signed_in

INVITE_MAX_AGE = timedelta(days=3)
EDIT_EMAIL_HINT = ("They log in with it. A new address gets a link to confirm "
                   "it (or to choose a password, if they have never logged in) "
                   "and the old one a notice.")


def therapists() -> str:
    db = get_session()
    rows = db.scalars(select(Therapist).join(Therapist.user)
                      .options(contains_eager(Therapist.user),
                               selectinload(Therapist.services),
                               selectinload(Therapist.techniques),
                               selectinload(Therapist.hours))
                      .order_by(Therapist.active.desc(), User.full_name))
    admins = db.scalars(select(User).where(User.role == Role.ADMIN)
                        .order_by(User.active.desc(), User.full_name))
    therapists = list(rows)
    hours = {t.user_id: hours_summary((h.weekday, h.start, h.end) for h in t.hours)
             for t in therapists}
    return render_template("admin/therapists.html", therapists=therapists,
                           hours=hours, admins=list(admins), button=EmptyForm(),
                           technique_names=TECHNIQUE_NAMES)


_DAYS = tuple(day[:3] for day in WEEKDAYS)  # Mon ... Sun
_DASH = "\N{EN DASH}"


def hours_summary(intervals: Iterable[tuple[int, time, time]]) -> str:
    """A week's hours in a line, e.g. "Mon-Fri 09:00-12:30, 13:30-17:00;
    Sat 10:00-14:00" (with en dashes): days in a row with the same hours
    share a range."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in intervals:
        by_day.setdefault(weekday, []).append((start, end))
    runs: list[tuple[int, int, str]] = []  # first day, last day, the hours
    for day in sorted(by_day):
        text = ", ".join(f"{start:%H:%M}{_DASH}{end:%H:%M}"
                         for start, end in sorted(by_day[day]))
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], day, text)
        else:
            runs.append((day, day, text))
    return "; ".join(f"{_day_range(first, last)} {text}"
                     for first, last, text in runs) or "None set"


def _day_range(first: int, last: int) -> str:
    return _DAYS[first] if first == last else f"{_DAYS[first]}{_DASH}{_DAYS[last]}"


def _with_services(form: TherapistForm) -> TherapistForm:
    rows = get_session().scalars(select(Service).order_by(Service.name))
    form.services.choices = options(
        (s.id, s.name if s.active else f"{s.name} (no longer offered)") for s in rows
    )
    return form


def _profile(form: TherapistForm) -> admin.Profile:
    return admin.Profile(
        full_name=form.full_name.data, phone=form.phone.data, bio=form.bio.data or "",
        service_ids=frozenset(form.services.data or ()),
        techniques=frozenset(form.techniques.data or ()))


def _queue_invitation(user: User, token: str) -> None:
    link = url_for("accounts.reset_password", token=token, _external=True)
    clinic = settings().clinic_name
    body = render_mail("admin/email/invite.txt", user=user, link=link,
                       days=INVITE_MAX_AGE.days, clinic=clinic)
    queue_mail(get_session(), to=user.email,
               subject=f"Your {clinic} account: choose a password", body=body)


def therapist_new() -> Response | str:
    form = _with_services(TherapistForm())
    if form.validate_on_submit():
        db = get_session()
        try:
            therapist, token = admin.create_therapist(
                db, actor(), email=form.email.data, profile=_profile(form),
                hash_profile=current_app.config["PASSWORD_HASH_PROFILE"],
                invite_max_age=INVITE_MAX_AGE)
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            _queue_invitation(therapist.user, token)
            commit(db)
            flash(f"{therapist.user.full_name} is added and has been emailed a "
                  "link to choose a password.", "success")
            return redirect(url_for("admin.therapists"))
    return render_template("admin/therapist_form.html", form=form, therapist=None)


def therapist_edit(therapist_id: int) -> Response | str:
    db = get_session()
    therapist = get_or_404(db, Therapist, therapist_id)
    form = _with_services(TherapistForm(obj=therapist.user))
    form.email.description = EDIT_EMAIL_HINT
    if not form.is_submitted():
        form.bio.data = therapist.bio
        form.services.data = [s.id for s in therapist.services]
        form.techniques.data = sorted(therapist.technique_keys)
    if form.validate_on_submit():
        try:
            admin.update_therapist(db, actor(), therapist.user_id, _profile(form))
            mailed = _correct_staff(db, therapist.user, form.email.data, [])
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            commit(db)
            flash(f"{therapist.user.full_name}'s profile is saved.{mailed}",
                  "success")
            return redirect(url_for("admin.therapists"))
    return render_template("admin/therapist_form.html", form=form,
                           therapist=therapist)


def _correct_staff(db: Session, user: User, new_email: str,
                   changed: list[str]) -> str:
    """Record what an admin corrected for a staff member (``changed``, plus
    the login address if it moved: a typo at invitation, say) in one audit
    row, and tell both inboxes about a new address. Returns a sentence for
    the admin about the mail. :raise AdminError: another account's address."""
    old = user.email
    try:
        moved = accounts.set_email_by_staff(db, user, new_email)
    except accounts.AccountError as exc:
        raise admin.AdminError(str(exc), "email") from None
    fields = [*changed, "email"] if moved else changed
    if fields:
        record(db, actor(), "update_details", "account", user.id,
               subject_user_id=user.id, detail=f"{', '.join(fields)} (by staff)")
    if not moved:
        return ""
    if user.last_login_at is None and user.active:  # invited at the old address
        queue_changed_by_clinic_notice(user, old)
        _, token = admin.new_invitation(db, actor(), user.id, INVITE_MAX_AGE)
        _queue_invitation(user, token)
        return f" A new link to choose a password is on its way to {user.email}."
    queue_moved_by_staff_mails(user, old)
    return f" We have emailed {user.email} a link to confirm it."


def therapist_deactivate(therapist_id: int) -> Response | str:
    """Show the future bookings first; deactivate once the admin has said
    what happens to them (cancel with a reason), or keep the therapist."""
    db = get_session()
    therapist = get_or_404(db, Therapist, therapist_id)
    form, decision = EmptyForm(), DecisionForm(may_keep=False)
    changed = False
    if form.validate_on_submit():
        try:
            cancelled = schedule.deactivate_therapist(
                db, actor(), therapist.user_id, handling(decision), settings(),
                clock.now())
        except schedule.DecisionNeeded as exc:
            rollback(db)
            changed = changed_since_seen(decision, exc)
        except admin.AdminError as exc:
            show_error(db, decision, exc)
        else:
            commit(db)
            flash(f"{therapist.user.full_name} is deactivated and can no longer "
                  f"log in.{cancelled_note(cancelled)}", "success")
            return redirect(url_for("admin.therapists"))
    # Listed afresh: what the admin confirms is exactly what they see now.
    bookings = schedule.future_bookings(db, therapist.user_id, clock.now())
    decision.seen.data = ",".join(str(b.id) for b in bookings)
    return render_template("admin/therapist_deactivate.html", therapist=therapist,
                           form=form, decision=decision, bookings=bookings,
                           changed=changed)


def staff_reactivate(user_id: int) -> Response:
    return _set_active(user_id, True)


def admin_deactivate(user_id: int) -> Response:
    return _set_active(user_id, False)


def _set_active(user_id: int, active: bool) -> Response:
    db = get_session()
    user = get_or_404(db, User, user_id)
    if EmptyForm().validate_on_submit():
        try:
            admin.set_staff_active(db, actor(), user.id, active)
        except admin.NotFound:
            abort(404)
        except admin.AdminError as exc:
            rollback(db)
            flash(str(exc), "error")
        else:
            commit(db)
            state = "active again" if active else "deactivated"
            flash(f"{user.full_name} is {state}.", "success")
    return redirect(url_for("admin.therapists"))


def admin_new() -> Response | str:
    form = StaffForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user, token = admin.invite_staff(
                db, actor(), email=form.email.data, full_name=form.full_name.data,
                phone=form.phone.data, role=Role.ADMIN,
                hash_profile=current_app.config["PASSWORD_HASH_PROFILE"],
                invite_max_age=INVITE_MAX_AGE)
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            _queue_invitation(user, token)
            commit(db)
            flash(f"{user.full_name} is added as an admin and has been emailed a "
                  "link to choose a password.", "success")
            return redirect(url_for("admin.therapists"))
    return render_template("admin/admin_form.html", form=form)


def admin_edit(user_id: int) -> Response | str:
    """Correct another admin's name, phone or login address (your own are
    on your Account page, where a new address needs your password)."""
    db = get_session()
    user = get_or_404(db, User, user_id)
    if user.role is not Role.ADMIN:
        abort(404)
    if user.id == signed_in().id:
        flash("Change your own details on your Account page.", "info")
        return redirect(url_for("accounts.details"))
    form = StaffForm(obj=user)
    form.email.description = EDIT_EMAIL_HINT
    if form.validate_on_submit():
        changed = accounts.update_details(user, {"full_name": form.full_name.data,
                                                 "phone": form.phone.data or None})
        try:
            mailed = _correct_staff(db, user, form.email.data, changed)
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            commit(db)
            if changed or mailed:
                flash(f"{user.full_name}'s details are saved.{mailed}", "success")
            else:
                flash("Nothing was changed.", "info")
            return redirect(url_for("admin.therapists"))
    return render_template("admin/admin_form.html", form=form, user=user)


def staff_invite(user_id: int) -> Response:
    """Send a staff member a new link to choose a password."""
    db = get_session()
    get_or_404(db, User, user_id)
    if EmptyForm().validate_on_submit():
        try:
            user, token = admin.new_invitation(db, actor(), user_id, INVITE_MAX_AGE)
        except admin.NotFound:
            abort(404)
        _queue_invitation(user, token)
        commit(db)
        flash(f"A new link to choose a password is on its way to {user.email}.",
              "success")
    return redirect(url_for("admin.therapists"))
