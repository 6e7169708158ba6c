"""Reading the clinic's settings: the stored row over configuration defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

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


def load_settings(db: Session, config: dict[str, Any]) -> Settings:
    row = db.get(ClinicSettings, 1)

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
    )


def save_settings(db: Session, **values: Any) -> ClinicSettings:
    """Create or update the single settings row; the caller commits."""
    row = db.get(ClinicSettings, 1) or ClinicSettings(id=1)
    for name, value in values.items():
        setattr(row, name, value)
    db.add(row)
    db.flush()
    return row
