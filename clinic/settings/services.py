"""Reading the clinic's settings: the stored row over configuration defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from clinic.booking.slots import BookingPolicy
from clinic.settings.models import ClinicSettings


@dataclass(frozen=True)
class Settings:
    clinic_name: str
    clinic_phone: str
    emergency_number: str
    urgent_care: str
    timezone: str
    clearance_valid_days: int
    notes_visible_to_all_therapists: bool
    min_notice_minutes: int
    horizon_days: int
    cancel_cutoff_hours: int
    slot_step_minutes: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def policy(self) -> BookingPolicy:
        return BookingPolicy(
            min_notice=timedelta(minutes=self.min_notice_minutes),
            horizon=timedelta(days=self.horizon_days),
            slot_step=timedelta(minutes=self.slot_step_minutes),
            cancel_cutoff=timedelta(hours=self.cancel_cutoff_hours),
        )


def load_settings(db: Session, config: dict[str, Any]) -> Settings:
    return settings_from(db.get(ClinicSettings, 1), config)


def settings_from(row: ClinicSettings | None, config: dict[str, Any]) -> Settings:
    """The settings from the stored row (None: none stored yet) over config."""

    def pick(column: str, key: str) -> Any:
        value = getattr(row, column, None) if row is not None else None
        return config[key] if value is None else value

    return Settings(
        clinic_name=pick("clinic_name", "CLINIC_NAME"),
        clinic_phone=pick("clinic_phone", "CLINIC_PHONE"),
        emergency_number=pick("emergency_number", "EMERGENCY_NUMBER"),
        urgent_care=pick("urgent_care", "URGENT_CARE"),
        timezone=config["CLINIC_TIMEZONE"],
        clearance_valid_days=pick("clearance_valid_days", "CLEARANCE_VALID_DAYS"),
        notes_visible_to_all_therapists=bool(
            row.notes_visible_to_all_therapists if row is not None else False
        ),
        min_notice_minutes=pick("min_notice_minutes", "MIN_NOTICE_MINUTES"),
        horizon_days=pick("horizon_days", "HORIZON_DAYS"),
        cancel_cutoff_hours=pick("cancel_cutoff_hours", "CANCEL_CUTOFF_HOURS"),
        slot_step_minutes=pick("slot_step_minutes", "SLOT_STEP_MINUTES"),
    )


def save_settings(db: Session, **values: Any) -> ClinicSettings:
    """Create or update the single settings row; the caller commits."""
    row = db.get(ClinicSettings, 1) or ClinicSettings(id=1)
    for name, value in values.items():
        setattr(row, name, value)
    db.add(row)
    db.flush()
    return row
