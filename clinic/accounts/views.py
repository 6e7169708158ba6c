"""Register, log in, log out, reset and change a password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import Field

from clinic.accounts import services
from clinic.accounts.confirmation import queue_account_notice, queue_confirmation_mail
from clinic.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from clinic.accounts.models import Role, User
from clinic.audit.services import record
from clinic.db import get_session
from clinic.mail.services import queue_mail, render_mail
from clinic.web import actor, client_ip, commit, settings

bp = Blueprint("accounts", __name__)


def _profile() -> str:
    return current_app.config["PASSWORD_HASH_PROFILE"]


def login_policy() -> services.LoginPolicy:
    cfg = current_app.config
    return services.LoginPolicy(
        max_failures_per_account=cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        max_failures_per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=cfg["LOGIN_FAILURE_WINDOW"],
        hash_profile=_profile(),
    )


def password_confirmed(db: Session, user: User, field: Field) -> bool:
    """Whether ``field`` holds ``user``'s current password; if not, the field
    says why and the failed attempt is committed (it counts towards the
    login throttle, so guessing here is no easier than at the login page)."""
    try:
        services.check_current_password(db, user, field.data, client_ip(),
                                        login_policy())
    except services.AccountError as exc:
        commit(db)
        field.errors.append(str(exc))
        return False
    return True


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no '//' or '\\' tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def _land(user: User) -> Response:
    return redirect(url_for("home.index"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response | str:
    if current_user.is_authenticated:
        return _land(current_user)
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = services.create_user(
                db,
                email=form.email.data,
                password=form.password.data,
                full_name=form.full_name.data,
                role=Role.CLIENT,
                phone=form.phone.data,
                date_of_birth=form.date_of_birth.data,
                hash_profile=_profile(),
            )
        except services.EmailTaken as exc:
            form.email.errors.append(str(exc))
        else:
            record(db, actor(), "register", "account", user.id, subject_user_id=user.id)
            queue_confirmation_mail(user)
            commit(db)
            login_user(user)
            flash(f"Welcome! Your account is ready. We have emailed {user.email} a "
                  "link: please confirm your address before you book.", "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return _land(current_user)
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = services.authenticate(
                db, form.email.data, form.password.data, client_ip(), login_policy()
            )
        except services.AccountInactive as exc:
            commit(db)  # keep the record of the attempt
            form.form_errors.append(exc.advice(settings().clinic_phone))
        except services.AccountError as exc:
            commit(db)  # keep the record of the failed attempt
            form.form_errors.append(str(exc))
        else:
            commit(db)
            login_user(user)
            target = safe_next(request.args.get("next"))
            return redirect(target or url_for("home.index"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, current_user.id)
        assert user is not None
        services.end_all_sessions(user)
        commit(db)
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Response | str:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        db = get_session()
        user = services.find_user_by_email(db, form.email.data)
        if user is not None and user.active:
            token = services.issue_reset_token(
                db, user, current_app.config["PASSWORD_RESET_MAX_AGE"]
            )
            _queue_reset_mail(user, token)
        elif user is not None:
            _queue_inactive_mail(user)
        commit(db)
        # The same answer whether or not the address has an account.
        flash(
            "If that address has an account, we have emailed a link to reset "
            "the password. The link works once, within one hour.",
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


def _queue_reset_mail(user: User, token: str) -> None:
    link = url_for("accounts.reset_password", token=token, _external=True)
    body = render_mail("accounts/email/reset_password.txt", user=user, link=link,
                       clinic_name=settings().clinic_name)
    queue_mail(
        get_session(), to=user.email, subject="Reset your clinic password", body=body
    )


def _queue_inactive_mail(user: User) -> None:
    """A closed or switched-off account has no password to reset: its owner
    learns why, and whom to ask, by email (the page says the same to all)."""
    queue_account_notice(get_session(), settings(), user, "reset_inactive.txt",
                         "About resetting your clinic password")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    db = get_session()
    try:
        services.user_for_reset_token(db, token)
    except services.InvalidResetToken as exc:
        flash(str(exc), "error")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(db, token, form.password.data, _profile())
        record(db, actor(), "password_reset", "account", user.id)
        commit(db)
        logout_user()
        flash("Your password has been changed. Please log in.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, token=token)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, current_user.id)
        assert user is not None
        if password_confirmed(db, user, form.current_password):
            services.change_password(user, form.password.data, _profile())
            record(db, actor(), "password_change", "account", user.id)
            commit(db)
            # Other devices are logged out; this one logs in again with the
            # new session version.
            login_user(user)
            flash(
                "Your password has been changed. Other devices are logged out.",
                "success",
            )
            return redirect(url_for("home.index"))
    return render_template("accounts/change_password.html", form=form)
