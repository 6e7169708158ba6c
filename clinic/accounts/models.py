"""People who use the clinic: clients, therapists and admins."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime, utcnow

EMAIL_MAX = 254
NAME_MAX = 120
PHONE_MAX = 40
IP_MAX = 45


class Role(enum.StrEnum):
    CLIENT = "client"
    THERAPIST = "therapist"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class User(UserMixin, Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=20,
            name="role",
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    full_name: Mapped[str] = mapped_column(String(NAME_MAX))
    phone: Mapped[str | None] = mapped_column(String(PHONE_MAX))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout, password change and deactivation: every cookie that
    # carries an older version stops working (pitfalls.md, "Logout").
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Clients confirm their address (the emailed link) before booking online.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.THERAPIST, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class LoginAttempt(Base):
    """One login attempt, kept in the database so throttling holds across
    every server process (an in-memory limiter counts per worker)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    ip: Mapped[str] = mapped_column(String(IP_MAX))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordResetToken(Base):
    """A single-use, time-limited reset link. Only a hash of it is stored."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
