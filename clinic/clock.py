"""The current instant, in one place so tests can fix it.

Views read ``clock.now()`` (through the module, so a monkeypatched function is
seen) and pass the value to services, which never read the clock themselves.
"""

from __future__ import annotations

from datetime import datetime

from clinic.db import utcnow


def now() -> datetime:
    """The current instant, aware and in UTC."""
    return utcnow()
