"""Calendar files: RFC 5545 structure, folding, escaping and UTC times,
checked with a small standard-library parser (``parse_ics``) that the mail
and feed tests use too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.accounts.models import Role, User
from clinic.booking import ics
from clinic.booking.models import Booking, BookingStatus, Room, Service, Therapist

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the parser


@dataclass
class Component:
    name: str
    props: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def get(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, f"{name}: expected once, found {len(values)}"
        return values[0]

    def all(self, name: str) -> list[str]:
        return [value for prop, _, value in self.props if prop == name]

    def params(self, name: str) -> dict[str, str]:
        return next(p for prop, p, _ in self.props if prop == name)

    def text(self, name: str) -> str:
        return unescape(self.get(name))


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char != "\\":
            assert char not in ",;", f"unescaped {char!r} in TEXT {value!r}"
            out.append(char)
            continue
        nxt = next(chars)
        out.append("\n" if nxt in "nN" else nxt)
        assert nxt in "nN\\,;", f"bad escape \\{nxt} in {value!r}"
    return "".join(out)


def _split_line(line: str) -> tuple[str, dict[str, str], str]:
    quoted, index = False, None
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            index = i
            break
    assert index is not None, f"no value in {line!r}"
    head, value = line[:index], line[index + 1:]
    name, *raw_params = head.split(";")
    params = {}
    for raw in raw_params:
        key, _, val = raw.partition("=")
        params[key.upper()] = val.strip('"')
    assert name and name.replace("-", "").isalnum(), f"bad name {name!r}"
    return name.upper(), params, value


def parse_ics(data: str | bytes) -> Component:
    """Parse an iCalendar stream strictly: CRLF only, lines of at most 75
    octets, balanced BEGIN/END, exactly one top-level VCALENDAR."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    assert raw.endswith(b"\r\n"), "must end with CRLF"
    physical = raw[:-2].split(b"\r\n")
    for line in physical:
        assert b"\n" not in line and b"\r" not in line, f"bare newline in {line!r}"
        assert len(line) <= 75, f"{len(line)} octets: {line!r}"
        line.decode("utf-8")  # folding never splits a UTF-8 character
    logical: list[str] = []
    for line in (p.decode("utf-8") for p in physical):
        if line[:1] in (" ", "\t"):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    root = Component("ROOT")
    stack = [root]
    for line in logical:
        name, params, value = _split_line(line)
        if name == "BEGIN":
            child = Component(value)
            stack[-1].children.append(child)
            stack.append(child)
        elif name == "END":
            assert stack[-1].name == value, f"END:{value} closes {stack[-1].name}"
            stack.pop()
        else:
            stack[-1].props.append((name, params, value))
    assert stack == [root], "unbalanced BEGIN/END"
    assert [c.name for c in root.children] == ["VCALENDAR"]
    calendar = root.children[0]
    for required in ("PRODID", "VERSION", "CALSCALE", "METHOD"):
        calendar.get(required)
    assert calendar.get("VERSION") == "2.0"
    for event in calendar.children:
        assert event.name == "VEVENT"
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY",
                         "LOCATION", "DESCRIPTION", "SEQUENCE", "STATUS"):
            event.get(required)
    return calendar


def utc(value: str) -> datetime:
    """A DATE-TIME in UTC form (``...Z``)."""
    assert value.endswith("Z"), f"{value} is not UTC"
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


# ---------------------------------------------------------------- fixtures


def make_booking(
    starts_at: datetime,
    *,
    booking_id: int = 42,
    service: str = "Sciatica relief",
    client: str = "Chris Client",
    status: BookingStatus = BookingStatus.CONFIRMED,
    minutes: int = 60,
    room: str | None = "Room 2",
) -> Booking:
    """A booking held in memory: the calendar needs no database."""
    therapist = Therapist(user=User(full_name="Tara Jones", role=Role.THERAPIST,
                                    email="tara@example.com"))
    return Booking(
        id=booking_id,
        client=User(full_name=client, email="chris@example.com", role=Role.CLIENT,
                    phone="07700 900001"),
        therapist=therapist,
        service=Service(name=service, duration_minutes=minutes, price_pence=5000),
        room=Room(name=room) if room else None,
        technique="trigger_point",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        blocks_until=starts_at + timedelta(minutes=minutes + 15),
        status=status,
        price_pence=5000,
        created_at=NOW - timedelta(days=1),
    )


CLINIC = ics.Clinic(name="Back Care, Leeds", host="clinic.test",
                    organizer_email="no-reply@clinic.test")


# ---------------------------------------------------------------- tests


def test_a_booking_is_one_confirmed_event_in_utc() -> None:
    start = datetime(2027, 5, 4, 9, 30, tzinfo=UTC)
    text = ics.booking_ics(make_booking(start), zone=LONDON, method="REQUEST",
                           clinic=CLINIC, sequence=3, now=NOW)

    calendar = parse_ics(text)
    assert calendar.get("METHOD") == "REQUEST"
    assert calendar.get("CALSCALE") == "GREGORIAN"
    assert calendar.get("PRODID") == ics.PRODID
    [event] = calendar.children
    assert event.get("UID") == "booking-42@clinic.test"
    assert event.get("DTSTAMP") == "20270320T120000Z"
    assert event.get("DTSTART") == "20270504T093000Z"
    assert event.get("DTEND") == "20270504T103000Z"
    assert event.get("SEQUENCE") == "3"
    assert event.get("STATUS") == "CONFIRMED"
    assert event.text("SUMMARY") == "Sciatica relief with Tara Jones"
    assert event.text("LOCATION") == "Back Care, Leeds"
    assert event.text("DESCRIPTION") == (
        "Sciatica relief (Trigger point therapy) with Tara Jones at Back Care, "
        "Leeds, Tue 04 May 2027, 10:30 BST."
    )
    assert event.get("ORGANIZER") == "mailto:no-reply@clinic.test"
    assert event.params("ORGANIZER")["CN"] == "Back Care, Leeds"
    assert event.get("ATTENDEE") == "mailto:chris@example.com"
    assert "07700" not in text  # no phone number


@pytest.mark.parametrize(
    ("local", "fold", "expected_start", "expected_end"),
    [
        # Clocks go forward at 01:00 GMT on 28 March 2027: 10:00 is BST.
        (datetime(2027, 3, 28, 10, 0), 0, "20270328T090000Z", "20270328T100000Z"),
        # A session over the jump lasts 60 real minutes: 00:30 GMT to 02:30 BST.
        (datetime(2027, 3, 28, 0, 30), 0, "20270328T003000Z", "20270328T013000Z"),
        # Clocks go back at 02:00 BST on 31 October 2027: 01:30 happens twice.
        (datetime(2027, 10, 31, 1, 30), 0, "20271031T003000Z", "20271031T013000Z"),
        (datetime(2027, 10, 31, 1, 30), 1, "20271031T013000Z", "20271031T023000Z"),
    ],
)
def test_times_on_dst_days_are_exact_utc_instants(
    local: datetime, fold: int, expected_start: str, expected_end: str
) -> None:
    start = local.replace(tzinfo=LONDON, fold=fold).astimezone(UTC)
    event = parse_ics(ics.booking_ics(make_booking(start), zone=LONDON)).children[0]
    assert event.get("DTSTART") == expected_start
    assert event.get("DTEND") == expected_end
    assert utc(event.get("DTEND")) - utc(event.get("DTSTART")) == timedelta(hours=1)


def test_text_is_escaped_and_survives_a_round_trip() -> None:
    name = 'Back, neck; and \\ "shoulders"\nextended'
    booking = make_booking(datetime(2027, 5, 4, 9, tzinfo=UTC), service=name)
    text = ics.booking_ics(booking, zone=LONDON, clinic=CLINIC, now=NOW)

    event = parse_ics(text).children[0]
    assert event.get("SUMMARY") == (
        'Back\\, neck\\; and \\\\ "shoulders"\\nextended with Tara Jones'
    )
    assert event.text("SUMMARY") == f"{name} with Tara Jones"


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    service = "Massage thérapeutique 🌿 " * 8  # multi-byte characters
    booking = make_booking(datetime(2027, 5, 4, 9, tzinfo=UTC), service=service)
    text = ics.booking_ics(booking, zone=LONDON, clinic=CLINIC, now=NOW)

    lines = text.encode().split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)
    assert parse_ics(text).children[0].text("SUMMARY") == f"{service} with Tara Jones"


def test_sequence_grows_with_every_later_update() -> None:
    booking = make_booking(datetime(2027, 5, 4, 9, tzinfo=UTC))
    sequences = [
        int(parse_ics(ics.booking_ics(booking, zone=LONDON, method=method,
                                      now=NOW + later)).children[0].get("SEQUENCE"))
        for method, later in (("REQUEST", timedelta(0)),
                              ("REQUEST", timedelta(hours=3)),
                              ("CANCEL", timedelta(hours=3, seconds=1)))
    ]
    assert sequences == [86400, 86400 + 3 * 3600, 86400 + 3 * 3600 + 1]
    assert ics.sequence_at(booking, NOW - timedelta(days=2)) == 0  # never negative


@pytest.mark.parametrize(("length", "physical_lines"), [(75, 1), (76, 2), (149, 2),
                                                        (150, 3)])
def test_fold_boundaries(length: int, physical_lines: int) -> None:
    folded = ics.fold("X" * length)
    assert len(folded.split("\r\n")) == physical_lines
    assert folded.replace("\r\n ", "") == "X" * length


def test_cancel_method_marks_the_event_cancelled() -> None:
    booking = make_booking(datetime(2027, 5, 4, 9, tzinfo=UTC),
                           status=BookingStatus.CANCELLED)
    calendar = parse_ics(ics.booking_ics(booking, zone=LONDON, method="CANCEL",
                                         clinic=CLINIC, sequence=1))
    assert calendar.get("METHOD") == "CANCEL"
    assert calendar.children[0].get("STATUS") == "CANCELLED"
    assert calendar.children[0].get("UID") == "booking-42@clinic.test"


def test_publish_has_no_attendee_and_unknown_methods_are_refused() -> None:
    booking = make_booking(datetime(2027, 5, 4, 9, tzinfo=UTC))
    event = parse_ics(ics.booking_ics(booking, zone=LONDON)).children[0]
    assert event.all("ATTENDEE") == []
    assert event.get("UID") == "booking-42@clinic"
    with pytest.raises(ValueError, match="unknown iTIP method"):
        ics.booking_ics(booking, zone=LONDON, method="REPLY")


def test_a_feed_lists_every_session_with_short_client_names() -> None:
    start = datetime(2027, 5, 4, 9, tzinfo=UTC)
    bookings = [
        make_booking(start, booking_id=1, client="Chris van Client"),
        make_booking(start + timedelta(hours=2), booking_id=2, client="Madonna",
                     status=BookingStatus.PENDING, room=None),
    ]
    text = ics.feed_ics(bookings, zone=LONDON, name="Tara, sessions", clinic=CLINIC,
                        now=NOW)

    calendar = parse_ics(text)
    assert calendar.get("METHOD") == "PUBLISH"
    assert calendar.text("X-WR-CALNAME") == "Tara, sessions"
    first, second = calendar.children
    assert first.text("SUMMARY") == "Chris C.: Sciatica relief"
    assert first.text("DESCRIPTION") == (
        "Sciatica relief, Trigger point therapy, Room 2. Tue 04 May 2027, 10:00 BST."
    )
    assert second.text("SUMMARY") == "Madonna: Sciatica relief"
    assert second.get("STATUS") == "TENTATIVE"
    assert [e.get("UID") for e in calendar.children] == [
        "booking-1@clinic.test", "booking-2@clinic.test"]
    assert "chris@example.com" not in text
    assert "van Client" not in text


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    calendar = parse_ics(ics.feed_ics([], zone=LONDON, name="Nothing"))
    assert calendar.children == []


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ics.utc_stamp(datetime(2027, 1, 1, 9, 0))
