"""Confirming a client's email address: the link sent at registration, the
page it opens (a button: mail scanners open links, and a GET never writes),
and asking for a new link. Clients confirm before they book online, because
confirmations, changes and reminders go to that address. Routes on the
accounts blueprint."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts import services
from clinic.accounts.confirmation import (
    LINKS_PER_HOUR,
    links_sent_lately,
    queue_confirmation_mail,
)
from clinic.accounts.forms import EmptyForm
from clinic.accounts.views import bp
from clinic.audit.services import record
from clinic.db import get_session
from clinic.web import actor, commit, rollback, signed_in


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str) -> Response | str:
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("accounts/confirm_email.html", form=form)
    db = get_session()
    try:
        user = services.confirm_email(db, token, current_app.secret_key, clock.now())
    except services.InvalidEmailLink as exc:
        rollback(db)
        return render_template("accounts/confirm_email.html", form=form,
                               error=str(exc))
    record(db, actor(), "confirm_email", "account", user.id, subject_user_id=user.id)
    commit(db)
    flash("Thank you: your email address is confirmed.", "success")
    return redirect(url_for("home.index"))


@bp.post("/email/confirm/new-link")
@login_required
def new_confirmation_link() -> Response:
    user = signed_in()
    if not EmptyForm().validate_on_submit():
        flash("Please try again.", "error")
    elif user.email_verified_at is not None:
        flash("Your email address is already confirmed.", "info")
    elif links_sent_lately(user.email) >= LINKS_PER_HOUR:
        flash("We have sent you several links in the last hour. Please look in "
              "your inbox and spam folder, or ask again later.", "error")
    else:
        queue_confirmation_mail(user)
        commit(get_session())
        flash(f"We have emailed a new link to {user.email}.", "success")
    return redirect(url_for("home.index"))
