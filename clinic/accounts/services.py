"""Account use cases. Each takes a session, flushes, and never commits."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.accounts.models import LoginAttempt, PasswordResetToken, Role, User
from clinic.accounts.passwords import (
    burn_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from clinic.db import utcnow


class AccountError(Exception):
    """A refusal whose message is safe to show to the person asking."""


class EmailTaken(AccountError):
    pass


class LoginThrottled(AccountError):
    pass


class InvalidCredentials(AccountError):
    pass


class AccountInactive(AccountError):
    """The password was right but the account is closed (a client's) or
    switched off (staff): saying so tells nothing to someone without the
    password, and tells the owner what to do instead of "wrong password"."""

    def __init__(self, user: User) -> None:
        super().__init__("This account is not open.")
        self.client = user.is_client

    def advice(self, clinic_phone: str) -> str:
        if self.client:
            return ("Your account is closed. To open it again, please call the "
                    f"clinic on {clinic_phone}.")
        return ("Your account is switched off. Please ask the clinic's admin "
                "to switch it on again.")


class InvalidResetToken(AccountError):
    pass


class InvalidEmailLink(AccountError):
    pass


@dataclass(frozen=True)
class LoginPolicy:
    max_failures_per_account: int
    max_failures_per_address: int
    window: timedelta
    hash_profile: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    db: Session,
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role,
    hash_profile: str,
    phone: str | None = None,
    date_of_birth: date | None = None,
    email_verified_at: datetime | None = None,
) -> User:
    """Add a user; ``email_verified_at`` when the address is known to be
    theirs. :raise EmailTaken: the email already has an account."""
    email = normalise_email(email)
    if find_user_by_email(db, email) is not None:
        raise EmailTaken(_EMAIL_TAKEN)
    user = User(
        email=email,
        password_hash=hash_password(password, hash_profile),
        full_name=full_name.strip(),
        role=role,
        phone=(phone or "").strip() or None,
        date_of_birth=date_of_birth,
        email_verified_at=email_verified_at,
    )
    db.add(user)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        # Someone registered the same email between our check and insert.
        raise EmailTaken(_EMAIL_TAKEN) from None
    return user


_EMAIL_TAKEN = (
    "An account with this email already exists. Log in, or reset your password "
    "if you have forgotten it."
)
_BAD_LOGIN = "That email and password do not match an account."


def authenticate(
    db: Session, email: str, password: str, ip: str, policy: LoginPolicy
) -> User:
    """Check a login and record the attempt.

    Unknown email and wrong password give the same answer and take the same
    time. :raise LoginThrottled: too many recent failures for the account or
    the address. :raise AccountInactive: the right password for a closed or
    switched-off account. :raise InvalidCredentials: anything else that is
    not a match.
    """
    email = normalise_email(email)
    now = utcnow()
    if _is_throttled(db, email, ip, now, policy):
        raise LoginThrottled(
            "Too many failed attempts. Please wait 15 minutes and try again, "
            "or reset your password."
        )
    user = find_user_by_email(db, email)
    if user is None:
        burn_time(password, policy.hash_profile)
        matched = False
    else:
        matched = verify_password(user.password_hash, password, policy.hash_profile)
    db.add(LoginAttempt(email=email, ip=ip, succeeded=matched and user.active,
                        at=now))
    db.flush()
    if user is None or not matched:
        raise InvalidCredentials(_BAD_LOGIN)
    if not user.active:
        raise AccountInactive(user)
    if needs_rehash(user.password_hash, policy.hash_profile):
        user.password_hash = hash_password(password, policy.hash_profile)
    user.last_login_at = now
    return user


def check_current_password(
    db: Session, user: User, password: str, ip: str, policy: LoginPolicy
) -> None:
    """Someone logged in proves they know the password before changing it or
    the address. A wrong answer counts as a failed login, so guessing here is
    throttled like guessing at the login page (the caller commits either way).

    :raise LoginThrottled: too many recent failures. :raise InvalidCredentials:
    """
    now = utcnow()
    if _is_throttled(db, user.email, ip, now, policy):
        raise LoginThrottled(
            "Too many wrong passwords. Please wait 15 minutes and try again.")
    if verify_password(user.password_hash, password, policy.hash_profile):
        return
    db.add(LoginAttempt(email=user.email, ip=ip, succeeded=False, at=now))
    db.flush()
    raise InvalidCredentials("That is not your current password.")


def _is_throttled(
    db: Session, email: str, ip: str, now: datetime, policy: LoginPolicy
) -> bool:
    since = now - policy.window
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    account_failures = _count_failures(db, LoginAttempt.email == email, account_since)
    address_failures = _count_failures(db, LoginAttempt.ip == ip, since)
    return (
        account_failures >= policy.max_failures_per_account
        or address_failures >= policy.max_failures_per_address
    )


def _count_failures(db: Session, condition: object, since: datetime) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                condition, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since
            )
        )
        or 0
    )


def end_all_sessions(user: User) -> None:
    """Invalidate every cookie issued to this user (all devices)."""
    user.session_version += 1


def change_password(user: User, new_password: str, hash_profile: str) -> None:
    user.password_hash = hash_password(new_password, hash_profile)
    end_all_sessions(user)


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        end_all_sessions(user)


def lock_account(db: Session, user: User) -> None:
    """Re-read the user's row and lock it (PostgreSQL), in one statement:
    whatever holds it (a booking for them holds it until it commits)
    finishes first, and we see the result."""
    db.refresh(user, with_for_update=True)


def close_login(db: Session, user: User, now: datetime) -> None:
    """Stop ``user`` logging in: every session ends and open password links
    die, so reopening the account later revives none of them."""
    set_active(user, False)
    _spend_reset_tokens(db, user, now)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_token(db: Session, user: User, max_age: timedelta) -> str:
    """Create a reset token and return it; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            expires_at=utcnow() + max_age,
        )
    )
    db.flush()
    return token


def user_for_reset_token(db: Session, token: str) -> User:
    """:raise InvalidResetToken: unknown, used or expired."""
    row = _usable_token(db, token)
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        raise InvalidResetToken(_BAD_TOKEN)
    return user


def reset_password(db: Session, token: str, new_password: str, profile: str) -> User:
    """Set a new password with a reset token and spend every open token."""
    user = user_for_reset_token(db, token)
    now = utcnow()
    _spend_reset_tokens(db, user, now)
    change_password(user, new_password, profile)
    # The link came by email: whoever used it reads that inbox.
    user.email_verified_at = user.email_verified_at or now
    db.flush()
    return user


def _spend_reset_tokens(db: Session, user: User, now: datetime) -> None:
    """Spend every open password link of ``user``: once one is used, and
    once the account moves to another address (a link waiting in the old
    inbox, or an invitation sent to a mistyped one, must not open it)."""
    open_tokens = db.scalars(
        select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at.is_(None),
        )
    )
    for row in open_tokens:
        row.used_at = now


# A message, not a secret.
_BAD_TOKEN = "This password reset link is invalid, has expired or has already been used. Please ask for a new one."  # noqa: E501, S105


def _usable_token(db: Session, token: str) -> PasswordResetToken:
    row = db.scalar(
        select(PasswordResetToken).where(
            PasswordResetToken.token_hash == _token_hash(token)
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise InvalidResetToken(_BAD_TOKEN)
    return row


# ---------------------------------------------------------------- confirming an address

# A signed link, not a stored token: confirming twice changes nothing, so it
# need not be single-use. It names the address, so it stops working if the
# account's address ever changes.
EMAIL_LINK_MAX_AGE = timedelta(days=3)
_EMAIL_LINK_SALT = "clinic.confirm-email"
_BAD_EMAIL_LINK = (
    "This confirmation link is invalid or has expired. Log in and ask for a new one."
)


def _sign(fields: list[object], secret_key: str, salt: str, now: datetime) -> str:
    """A link's token: ``fields`` (a user id first) and when it was issued."""
    return URLSafeSerializer(secret_key, salt=salt).dumps(
        [*fields, int(now.timestamp())])


def _unsign(token: str, secret_key: str, salt: str, now: datetime,
            refusal: str) -> list[Any]:
    """The fields of a token made by ``_sign`` with ``salt``, if genuine and
    younger than ``EMAIL_LINK_MAX_AGE``. :raise InvalidEmailLink: ``refusal``."""
    try:
        *fields, issued = URLSafeSerializer(secret_key, salt=salt).loads(token)
        issued_at = datetime.fromtimestamp(issued, UTC)
    except (BadSignature, ValueError, TypeError, OverflowError, OSError):
        raise InvalidEmailLink(refusal) from None
    expired = now - issued_at > EMAIL_LINK_MAX_AGE
    if expired or not fields or not isinstance(fields[0], int):
        raise InvalidEmailLink(refusal)
    return fields


def email_link_token(user: User, secret_key: str, now: datetime) -> str:
    """The token of a link that confirms ``user``'s address."""
    return _sign([user.id, user.email], secret_key, _EMAIL_LINK_SALT, now)


def confirm_email(db: Session, token: str, secret_key: str, now: datetime) -> User:
    """Mark the address named by the link confirmed (idempotent).

    :raise InvalidEmailLink: forged, expired, or for an address not in use.
    """
    user_id, email = _unsign(token, secret_key, _EMAIL_LINK_SALT, now, _BAD_EMAIL_LINK)
    user = db.get(User, user_id)
    if user is None or not user.active or user.email != email:
        raise InvalidEmailLink(_BAD_EMAIL_LINK)
    if user.email_verified_at is None:
        user.email_verified_at = now
        db.flush()
    return user


# ---------------------------------------------------------------- one's own details

DETAIL_FIELDS = frozenset({"full_name", "phone", "date_of_birth"})


def update_details(user: User, changes: Mapping[str, object]) -> list[str]:
    """Set the given details (full name, phone, date of birth) and return
    the names of those that really changed, for the audit trail."""
    changed = []
    for name, value in changes.items():
        if name not in DETAIL_FIELDS:
            raise ValueError(f"not a detail a person edits: {name}")
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    return changed


# ---------------------------------------------------------------- changing the address

# The new address is confirmed by a link sent to it; until it is opened the
# account keeps the old one. The link names both addresses (it stops working
# once the account's address has changed) and a mark of the password hash, so
# changing the password cancels a change someone else asked for.
_EMAIL_CHANGE_SALT = "clinic.change-email"
_BAD_CHANGE_LINK = (
    "This link is invalid, has expired or was already used. Log in and ask "
    "for the change again on your account page."
)
_EMAIL_IN_USE = "Another account uses that email address. Please choose another."


def check_new_email(db: Session, user: User, new_email: str) -> str:
    """The new address, normalised. :raise AccountError: the same as now,
    or another account's."""
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError("That is already your email address.")
    if find_user_by_email(db, new_email) is not None:
        raise EmailTaken(_EMAIL_IN_USE)
    return new_email


def email_change_token(user: User, new_email: str, secret_key: str,
                       now: datetime) -> str:
    """The token of a link that moves ``user`` to ``new_email``."""
    fields = [user.id, user.email, new_email, _password_mark(user)]
    return _sign(fields, secret_key, _EMAIL_CHANGE_SALT, now)


def _password_mark(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def change_email(
    db: Session, token: str, secret_key: str, now: datetime
) -> tuple[User, str]:
    """Move the account to the address the link was sent to, confirmed.
    Returns the user and the old address.

    :raise InvalidEmailLink: forged, expired, used, or the password changed
        since. :raise EmailTaken: another account took the address meanwhile.
    """
    user_id, old, new, mark = _unsign(token, secret_key, _EMAIL_CHANGE_SALT, now,
                                      _BAD_CHANGE_LINK)
    user = db.get(User, user_id)
    if (user is None or not user.active or user.email != old
            or _password_mark(user) != mark):
        raise InvalidEmailLink(_BAD_CHANGE_LINK)
    _move_to(db, user, new, verified_at=now)  # the link was opened from that inbox
    return user, old


def set_email_by_staff(db: Session, user: User, new_email: str) -> bool:
    """An address staff were given (on the phone, say): used at once and
    unconfirmed until its owner opens the link we send. Returns whether it
    changed. :raise EmailTaken: another account's."""
    new_email = normalise_email(new_email)
    if new_email == user.email:
        return False
    _move_to(db, user, new_email, verified_at=None)
    return True


def _move_to(db: Session, user: User, new_email: str,
             verified_at: datetime | None) -> None:
    if find_user_by_email(db, new_email) is not None:
        raise EmailTaken(_EMAIL_IN_USE)
    user.email = new_email
    user.email_verified_at = verified_at
    _spend_reset_tokens(db, user, utcnow())
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:  # taken between our check and the update
        raise EmailTaken(_EMAIL_IN_USE) from None
