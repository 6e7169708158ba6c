"""A client closes their own account (Account page -> Close my account); an
admin reopens it from the client's page. Routes on the accounts blueprint;
the rules are in ``clinic.booking.closing``."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import logout_user
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts.details_views import client_account_or_404
from clinic.accounts.forms import CloseAccountForm, EmptyForm
from clinic.accounts.models import Role, User
from clinic.accounts.permissions import role_required
from clinic.accounts.views import bp, password_confirmed
from clinic.booking import closing
from clinic.booking.queries import upcoming_bookings
from clinic.db import get_session
from clinic.web import client_ip, commit, rollback, settings, signed_in


@bp.route("/account/close", methods=["GET", "POST"])
@role_required(Role.CLIENT)
def close_account() -> Response | str:
    """What closing does, the sessions it cancels, then the password."""
    db, client, now = get_session(), signed_in(), clock.now()
    form = CloseAccountForm()
    if form.validate_on_submit() and password_confirmed(db, client,
                                                        form.current_password):
        me = db.get(User, client.id)  # the request's own session writes it
        assert me is not None
        try:
            closing.close_account(db, me, settings=settings(), now=now,
                                  ip=client_ip())
        except closing.CannotClose as exc:
            rollback(db)
            flash(str(exc), "error")
            return redirect(url_for("accounts.close_account"))
        commit(db)
        logout_user()
        flash("Your account is closed, and we have emailed you a note of it. "
              "To open it again, please call the clinic.", "info")
        return redirect(url_for("accounts.login"))
    upcoming = upcoming_bookings(db, client.id, now)
    return render_template(
        "accounts/close_account.html", form=form, upcoming=upcoming,
        too_soon=closing.too_soon(upcoming, settings(), now))


@bp.post("/clients/<id:client_id>/reopen")
@role_required(Role.ADMIN)
def reopen_client(client_id: int) -> Response:
    db, client = get_session(), client_account_or_404(client_id)
    if EmptyForm().validate_on_submit():
        try:
            closing.reopen_account(db, client, by=signed_in(), settings=settings(),
                                   ip=client_ip())
        except closing.CannotClose as exc:
            rollback(db)
            flash(str(exc), "error")
        else:
            commit(db)
            flash(f"{client.full_name}'s account is open again; we have emailed "
                  "them.", "success")
    return redirect(url_for("intake.client_record", client_id=client.id))
