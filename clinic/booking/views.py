"""Client booking: choose, see free times, confirm, cancel, reschedule."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/booking")
