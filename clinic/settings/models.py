"""Clinic-wide settings that admins change at run time.

One row (id 1). Where a column is NULL the deployment's configuration
default applies, so a fresh clinic works before anyone edits a setting.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base


class ClinicSettings(Base):
    __tablename__ = "clinic_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    clinic_name: Mapped[str | None] = mapped_column(String(120))
    clinic_phone: Mapped[str | None] = mapped_column(String(40))
    emergency_number: Mapped[str | None] = mapped_column(String(20))
    urgent_care: Mapped[str | None] = mapped_column(String(200))
    clearance_valid_days: Mapped[int | None]
    notes_visible_to_all_therapists: Mapped[bool] = mapped_column(
        Boolean, default=False
    )
    # Booking policy (issue: online booking).
    min_notice_minutes: Mapped[int | None]
    horizon_days: Mapped[int | None]
    cancel_cutoff_hours: Mapped[int | None]
    slot_step_minutes: Mapped[int | None]
