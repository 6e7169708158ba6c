"""Session notes, progress and the client's own record."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notes", __name__, url_prefix="/notes")
