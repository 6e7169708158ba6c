"""One's own account: name, phone and date of birth, a new email address
(confirmed from the new inbox before it is used); and admins correcting a
client's details or confirming their address by hand. Routes on the
accounts blueprint."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts import services
from clinic.accounts.confirmation import (
    CHANGE_SUBJECT,
    LINKS_PER_HOUR,
    links_sent_lately,
    queue_email_change_mails,
    queue_moved_by_staff_mails,
)
from clinic.accounts.forms import (
    ChangeEmailForm,
    ClientContactForm,
    ClientDetailsForm,
    DetailsForm,
    EmptyForm,
)
from clinic.accounts.models import Role, User
from clinic.accounts.permissions import role_required
from clinic.accounts.views import bp, password_confirmed
from clinic.audit.services import record
from clinic.db import get_session
from clinic.web import actor, commit, rollback, signed_in


def _details_form(user: User, *, submitted: bool) -> DetailsForm:
    """The client's form asks for the date of birth too. ``submitted``:
    read the request's form; otherwise show the stored details."""
    form_class = ClientDetailsForm if user.is_client else DetailsForm
    return form_class() if submitted else form_class(formdata=None, obj=user)


def _page(details: DetailsForm, email: ChangeEmailForm) -> str:
    return render_template("accounts/details.html", form=details, email_form=email,
                           user=signed_in())


@bp.route("/account", methods=["GET", "POST"])
@login_required
def details() -> Response | str:
    user = signed_in()
    form = _details_form(user, submitted=request.method == "POST")
    if not form.validate_on_submit():
        return _page(form, ChangeEmailForm(formdata=None))
    db = get_session()
    me = db.get(User, user.id)  # the request's own session writes it
    assert me is not None
    changed = services.update_details(me, _changes(form))
    if not changed:
        flash("Nothing was changed.", "info")
        return redirect(url_for("accounts.details"))
    record(db, actor(), "update_details", "account", me.id, subject_user_id=me.id,
           detail=", ".join(changed))
    commit(db)
    flash("Your details are saved.", "success")
    return redirect(url_for("accounts.details"))


def _changes(form: DetailsForm) -> dict[str, object]:
    changes: dict[str, object] = {"full_name": form.full_name.data,
                                  "phone": form.phone.data or None}
    if isinstance(form, ClientDetailsForm):
        changes["date_of_birth"] = form.date_of_birth.data
    return changes


@bp.post("/account/email")
@login_required
def ask_email_change() -> Response | str:
    user = signed_in()
    form = ChangeEmailForm()
    details_form = _details_form(user, submitted=False)
    if not form.validate():
        return _page(details_form, form)
    db = get_session()
    if not password_confirmed(db, user, form.current_password):
        return _page(details_form, form)
    try:
        new_email = services.check_new_email(db, user, form.email.data)
    except services.AccountError as exc:
        form.email.errors.append(str(exc))
        return _page(details_form, form)
    if links_sent_lately(new_email, CHANGE_SUBJECT) >= LINKS_PER_HOUR:
        form.email.errors.append("We have sent several links to that address in "
                                 "the last hour. Please look there, or try later.")
        return _page(details_form, form)
    queue_email_change_mails(user, new_email)
    record(db, actor(), "ask_email_change", "account", user.id,
           subject_user_id=user.id)
    commit(db)
    flash(f"We have emailed a link to {new_email}. Your address changes when you "
          f"open it; until then we keep writing to {user.email}.", "success")
    return redirect(url_for("accounts.details"))


@bp.route("/email/change/<token>", methods=["GET", "POST"])
def change_email(token: str) -> Response | str:
    """The page the link opens: a button (a GET never writes)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("accounts/change_email.html", form=form)
    db = get_session()
    try:
        user, old = services.change_email(db, token, current_app.secret_key,
                                          clock.now())
    except services.AccountError as exc:
        rollback(db)
        return render_template("accounts/change_email.html", form=form,
                               error=str(exc))
    record(db, actor(), "change_email", "account", user.id, subject_user_id=user.id,
           detail=f"from {old}")
    commit(db)
    flash(f"Your email address is now {user.email}.", "success")
    return redirect(url_for("home.index"))


_CLIENT = "/clients/<id:client_id>"


def client_account_or_404(client_id: int) -> User:
    """A client's account for an admin's change. :raise 404: no such client."""
    client = get_session().get(User, client_id)
    if client is None or not client.is_client:
        abort(404)
    return client


@bp.route(f"{_CLIENT}/details", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_client(client_id: int) -> Response | str:
    """An admin corrects a client's details; a new address is used at once,
    unconfirmed, and both inboxes are told."""
    db, client = get_session(), client_account_or_404(client_id)
    form = ClientContactForm(obj=client if request.method == "GET" else None)
    if not form.validate_on_submit():
        return render_template("accounts/client_details.html", form=form, client=client)
    old_email = client.email
    changed = services.update_details(client, _changes(form))
    try:
        if services.set_email_by_staff(db, client, form.email.data):
            changed.append("email")
    except services.AccountError as exc:
        rollback(db)
        form.email.errors.append(str(exc))
        return render_template("accounts/client_details.html", form=form, client=client)
    if not changed:
        flash("Nothing was changed.", "info")
    else:
        record(db, actor(), "update_details", "account", client.id,
               subject_user_id=client.id, detail=f"{', '.join(changed)} (by staff)")
        if "email" in changed:
            queue_moved_by_staff_mails(client, old_email)
        commit(db)
        flash(f"{client.full_name}'s details are saved.", "success")
    return redirect(url_for("intake.client_record", client_id=client.id))


@bp.post(f"{_CLIENT}/email/confirmed")
@role_required(Role.ADMIN)
def confirm_client_email(client_id: int) -> Response:
    """An admin vouches for a client's address (read back on the phone, say),
    so the client can book online without the link."""
    db, client = get_session(), client_account_or_404(client_id)
    if not EmptyForm().validate_on_submit():
        flash("Please try again.", "error")
    elif client.email_verified_at is None:
        client.email_verified_at = clock.now()
        record(db, actor(), "confirm_email", "account", client.id,
               subject_user_id=client.id, detail="by staff")
        commit(db)
        flash(f"{client.email} is marked as confirmed.", "success")
    return redirect(url_for("intake.client_record", client_id=client.id))
