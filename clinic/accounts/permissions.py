"""Who may do what. Views and templates call the same predicates.

A logged-in user with the wrong role gets 403; a record that is not theirs
gets 404, so record ids do not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from clinic.accounts.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: Role) -> Callable[[F], F]:
    """Require a logged-in user with one of ``roles``. :raise 403:"""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def is_staff(user: User) -> bool:
    return user.role in (Role.THERAPIST, Role.ADMIN)


def can_view_client_record(user: User, client_id: int) -> bool:
    """A client sees only their own records; therapists and admins of the
    clinic see clients' intakes and screenings."""
    return user.id == client_id or is_staff(user)
