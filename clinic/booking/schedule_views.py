"""Staff schedules: a therapist's day and week, the whole clinic, feeds."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("schedule", __name__, url_prefix="/schedule")
