"""iCalendar (RFC 5545) files for bookings: one session, or a whole feed.

Times are written in UTC (``...Z``): unambiguous across DST changes and
understood by every calendar app, which shows them in its own zone. Nothing
clinical goes into a calendar: calendar apps sync to third parties.

``booking_ics`` makes the file mailed to the client (iTIP ``REQUEST`` or
``CANCEL``, RFC 5546, so the calendar app updates the same event) or a
``PUBLISH`` file; ``feed_ics`` makes a therapist's subscription feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from functools import cache
from zoneinfo import ZoneInfo

from clinic.accounts.models import User
from clinic.booking.models import Booking, BookingStatus
from clinic.db import utcnow
from clinic.intake.vocabulary import TECHNIQUE_NAMES

PRODID = "-//Clinic//Clinic booking 1.0//EN"
LINE_OCTETS = 75
METHODS = frozenset({"PUBLISH", "REQUEST", "CANCEL"})
_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
}


@dataclass(frozen=True)
class Clinic:
    """Who is sending the calendar: shown as the location and organiser."""

    name: str = "Clinic"
    host: str = "clinic"  # the domain part of every UID
    organizer_email: str | None = None


# ---------------------------------------------------------------- format


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): escape \\ ; , and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\n", "\\n")


def quote_param(value: str) -> str:
    """A parameter value (§3.2): DQUOTE is not allowed inside, so drop it."""
    value = value.replace('"', "").replace("\r", " ").replace("\n", " ")
    return f'"{value}"' if any(c in value for c in ":;,") else value


def fold(line: str) -> str:
    """Fold one content line at 75 octets (§3.1), never inside a UTF-8
    character; continuation lines start with one space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= LINE_OCTETS:
        return line
    parts: list[str] = []
    start, limit = 0, LINE_OCTETS
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:
            end -= 1  # back off to the start of a multi-byte character
        parts.append(encoded[start:end].decode("utf-8"))
        start, limit = end, LINE_OCTETS - 1  # room for the leading space
    return "\r\n ".join(parts)


def utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the calendar")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _join(lines: Iterable[str]) -> str:
    return "".join(fold(line) + "\r\n" for line in lines)


# ---------------------------------------------------------------- content


def booking_uid(booking: Booking, host: str = "clinic") -> str:
    return f"booking-{booking.id}@{host}"


def sequence_at(booking: Booking, now: datetime) -> int:
    """SEQUENCE for an event generated at ``now``: seconds since the booking
    was made. Every update (a move, then a cancellation) is generated later
    than the one before, so the number grows as RFC 5546 asks, without a
    revision column; it fits the 31-bit INTEGER for 68 years."""
    seconds = int((now - booking.created_at).total_seconds())
    return min(max(seconds, 0), 2**31 - 1)


def client_short_name(full_name: str) -> str:
    """First name and last initial ("Chris C."): enough for a therapist's
    phone calendar, little for a third party that syncs it."""
    parts = full_name.split()
    if len(parts) < 2:
        return parts[0] if parts else ""
    return f"{parts[0]} {parts[-1][0]}."


def technique_label(key: str) -> str:
    return TECHNIQUE_NAMES.get(key, key.replace("_", " ").capitalize())


def _local(moment: datetime, zone: ZoneInfo) -> str:
    at = moment.astimezone(zone)
    return f"{at:%a %d %b %Y, %H:%M} {at.tzname()}"


def _event(
    booking: Booking,
    *,
    summary: str,
    description: str,
    clinic: Clinic,
    now: datetime,
    status: str,
    sequence: int,
    extra: Sequence[str] = (),
) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{booking_uid(booking, clinic.host)}",
        f"DTSTAMP:{utc_stamp(now)}",
        f"SEQUENCE:{sequence}",
        f"DTSTART:{utc_stamp(booking.starts_at)}",
        f"DTEND:{utc_stamp(booking.ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(clinic.name)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"STATUS:{status}",
        "TRANSP:OPAQUE",
        *extra,
        "END:VEVENT",
    ]


def _calendar(method: str, events: Iterable[str], header: Sequence[str] = ()) -> str:
    return _join([
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        *header,
        *events,
        "END:VCALENDAR",
    ])


def _participants(booking: Booking, clinic: Clinic, client: User | None) -> list[str]:
    """ORGANIZER and ATTENDEE, which iTIP REQUEST/CANCEL require (RFC 5546)."""
    organizer = clinic.organizer_email or f"no-reply@{clinic.host}"
    client = client or booking.client
    return [
        f"ORGANIZER;CN={quote_param(clinic.name)}:mailto:{organizer}",
        f"ATTENDEE;CN={quote_param(client.full_name)};ROLE=REQ-PARTICIPANT;"
        f"PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{client.email}",
    ]


def booking_ics(
    booking: Booking,
    *,
    zone: ZoneInfo,
    method: str = "PUBLISH",
    clinic: Clinic | None = None,
    sequence: int | None = None,
    now: datetime | None = None,
    client: User | None = None,
) -> str:
    """One session as a calendar file for the client (``client``: the
    booking's client, when the caller has it loaded already).

    ``method="CANCEL"`` marks the event cancelled (the client's calendar
    removes it). ``sequence`` must grow with every change the client is sent
    (RFC 5546 §2.1.4); by default it is ``sequence_at(booking, now)``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    clinic = clinic or Clinic()
    now = now or utcnow()
    if sequence is None:
        sequence = sequence_at(booking, now)
    therapist = booking.therapist.user.full_name
    summary = f"{booking.service.name} with {therapist}"
    description = (
        f"{booking.service.name} ({technique_label(booking.technique)}) with "
        f"{therapist} at {clinic.name}, {_local(booking.starts_at, zone)}."
    )
    cancelled = method == "CANCEL" or booking.status is BookingStatus.CANCELLED
    status = "CANCELLED" if cancelled else _STATUS[booking.status]
    extra = _participants(booking, clinic, client) if method != "PUBLISH" else []
    event = _event(booking, summary=summary, description=description, clinic=clinic,
                   now=now, status=status, sequence=sequence,
                   extra=extra)
    return _calendar(method, event)


def feed_ics(
    bookings: Iterable[Booking],
    *,
    zone: ZoneInfo,
    name: str,
    clinic: Clinic | None = None,
    now: datetime | None = None,
) -> str:
    """A subscription feed of sessions for their therapist.

    Each event names the client by first name and last initial only, with the
    service and technique: no contact details and no health data.
    """
    clinic = clinic or Clinic()
    stamp = now or utcnow()
    events: list[str] = []
    for booking in bookings:
        client = client_short_name(booking.client.full_name)
        technique = technique_label(booking.technique)
        room = f", {booking.room.name}" if booking.room is not None else ""
        events.extend(_event(
            booking,
            summary=f"{client}: {booking.service.name}",
            description=f"{booking.service.name}, {technique}{room}. "
                        f"{_local(booking.starts_at, zone)}.",
            clinic=clinic, now=stamp, status=_STATUS[booking.status],
            sequence=sequence_at(booking, stamp),
        ))
    header = [f"X-WR-CALNAME:{escape_text(name)}", f"X-WR-TIMEZONE:{zone.key}"]
    return _calendar("PUBLISH", events, header)


@cache  # the setting rarely changes, and every booking mail asks
def organizer_address(mail_sender: str) -> str | None:
    """The address part of ``MAIL_SENDER`` ("Clinic <a@b>" gives "a@b")."""
    address = parseaddr(mail_sender)[1]
    return address or None
