"""Slot arithmetic: working hours, buffers, policy, rooms and both DST transitions."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.booking.slots import (
    BookingPolicy,
    Interval,
    Slot,
    Unfit,
    WeeklyHours,
    can_cancel,
    check_fits,
    free_rooms,
    free_slots,
    local_day_bounds,
    local_instants,
    merge,
    overlaps,
    working_intervals,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2027, 6, 7)  # British Summer Time, UTC+1
TUESDAY = date(2027, 6, 8)
WEDNESDAY = date(2027, 6, 9)
# All four are Sundays, so daily hours apply.
DAYS = {
    "normal": (LONDON, MONDAY),
    "london-spring": (LONDON, date(2027, 3, 28)),  # 01:00 GMT -> 02:00 BST
    "london-fall": (LONDON, date(2027, 10, 31)),  # 02:00 BST -> 01:00 GMT
    "ny-spring": (NEW_YORK, date(2027, 3, 14)),  # 02:00 EST -> 03:00 EDT
    "ny-fall": (NEW_YORK, date(2027, 11, 7)),  # 02:00 EDT -> 01:00 EST
}
TRANSITIONS = [name for name in DAYS if name != "normal"]
LONDON_SPRING = DAYS["london-spring"][1]
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ZERO = timedelta(0)
POLICY = BookingPolicy(ZERO, timedelta(days=400), 15 * MINUTE, 24 * HOUR)
LONG_AGO = datetime(2027, 1, 1, tzinfo=UTC)


def z(text: str) -> datetime:
    """A UTC instant in 2027 from "MM-DD HH:MM"."""
    return datetime.fromisoformat(f"2027-{text}").replace(tzinfo=UTC)


def at(day: date, hhmm: str, tz: ZoneInfo = LONDON, fold: int = 0) -> datetime:
    """The UTC instant at which clocks in ``tz`` show ``hhmm`` on ``day``."""
    local = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=tz)
    return local.replace(fold=fold).astimezone(UTC)


def span(day: date, start: str, end: str) -> Interval:
    return Interval(at(day, start), at(day, end))


def on(weekday: int, start: str, end: str) -> WeeklyHours:
    return WeeklyHours(weekday, time.fromisoformat(start), time.fromisoformat(end))


def daily(start: str = "09:00", end: str = "17:00") -> list[WeeklyHours]:
    return [on(weekday, start, end) for weekday in range(7)]


def policy(**changes: timedelta) -> BookingPolicy:
    return dataclasses.replace(POLICY, **changes)


def inputs(**overrides: Any) -> dict[str, Any]:
    return {
        "tz": LONDON, "hours": daily(), "busy": (), "duration": HOUR,
        "buffer_after": ZERO, "policy": POLICY, "now": LONG_AGO,
    } | overrides  # fmt: skip


def find(day: date = MONDAY, days: int = 1, **overrides: Any) -> list[Slot]:
    return free_slots(start_day=day, days=days, **inputs(**overrides))


def fits(start: datetime, **overrides: Any) -> Unfit | None:
    return check_fits(start=start, **inputs(**overrides))


def labels(slots: list[Slot]) -> list[str]:
    return [slot.label for slot in slots]


def grid(first: str, last: str, step: int = 15) -> list[str]:
    """Labels from ``first`` to ``last`` inclusive, ``step`` minutes apart."""
    moment = datetime.combine(MONDAY, time.fromisoformat(first))
    end = datetime.combine(MONDAY, time.fromisoformat(last))
    out = []
    while moment <= end:
        out.append(f"{moment:%H:%M}")
        moment += step * MINUTE
    return out


# --- values and helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("10:00", "11:00"), ("11:00", "12:00"), False),  # back to back
        (("11:00", "12:00"), ("10:00", "11:00"), False),
        (("10:00", "11:00"), ("10:59", "12:00"), True),
        (("10:00", "12:00"), ("10:30", "11:00"), True),  # contains
        (("10:00", "11:00"), ("10:00", "11:00"), True),
        (("10:00", "11:00"), ("12:00", "13:00"), False),
    ],
)
def test_overlaps_is_half_open(a: tuple[str, str], b: tuple[str, str], expected: bool):
    first, second = span(MONDAY, *a), span(MONDAY, *b)
    assert overlaps(first.start, first.end, second.start, second.end) is expected
    assert first.overlaps(second) is expected
    assert second.overlaps(first) is expected


def test_interval_stores_utc() -> None:
    local = datetime(2027, 6, 7, 10, tzinfo=LONDON)
    interval = Interval(local, local + HOUR)
    assert (interval.start, interval.end) == (z("06-07 09:00"), z("06-07 10:00"))
    assert interval.start.tzinfo is UTC and interval.end.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2027, 6, 7, 9), z("06-07 10:00")),  # naive
        (z("06-07 09:00"), datetime(2027, 6, 7, 10)),
        (z("06-07 09:00"), z("06-07 09:00")),  # empty
        (z("06-07 10:00"), z("06-07 09:00")),  # reversed
    ],
)
def test_interval_rejects(start: datetime, end: datetime) -> None:
    with pytest.raises(ValueError):
        Interval(start, end)


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [(7, "09:00", "17:00"), (-1, "09:00", "17:00"), (0, "17:00", "09:00"),
     (0, "09:00", "09:00")],
)  # fmt: skip
def test_weekly_hours_rejects(weekday: int, start: str, end: str) -> None:
    with pytest.raises(ValueError):
        on(weekday, start, end)


@pytest.mark.parametrize(
    "changes",
    [{"slot_step": ZERO}, {"min_notice": -MINUTE}, {"horizon": -MINUTE},
     {"cancel_cutoff": -MINUTE}],
)  # fmt: skip
def test_policy_rejects(changes: dict[str, timedelta]) -> None:
    with pytest.raises(ValueError):
        policy(**changes)


def test_merge_joins_overlapping_and_touching() -> None:
    parts = [("13:00", "14:00"), ("10:00", "11:00"), ("11:00", "12:00"),
             ("10:30", "10:45"), ("09:00", "09:30")]  # fmt: skip
    merged = merge([span(MONDAY, *part) for part in parts])
    assert merged == [
        span(MONDAY, "09:00", "09:30"),
        span(MONDAY, "10:00", "12:00"),
        span(MONDAY, "13:00", "14:00"),
    ]
    assert merge([]) == []


@pytest.mark.parametrize(
    ("name", "start", "end", "hours"),
    [
        ("normal", "06-06 23:00", "06-07 23:00", 24),
        ("london-spring", "03-28 00:00", "03-28 23:00", 23),
        ("london-fall", "10-30 23:00", "11-01 00:00", 25),
        ("ny-spring", "03-14 05:00", "03-15 04:00", 23),
        ("ny-fall", "11-07 04:00", "11-08 05:00", 25),
    ],
)
def test_local_day_bounds(name: str, start: str, end: str, hours: int) -> None:
    tz, day = DAYS[name]
    bounds = local_day_bounds(day, tz)
    assert (bounds.start, bounds.end) == (z(start), z(end))
    assert bounds.end - bounds.start == hours * HOUR


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("03-28 01:30", ()),  # skipped
        ("10-31 01:30", (z("10-31 00:30"), z("10-31 01:30"))),  # BST, then GMT
        ("06-07 09:30", (z("06-07 08:30"),)),
    ],
)
def test_local_instants(wall: str, expected: tuple[datetime, ...]) -> None:
    naive = datetime.fromisoformat(f"2027-{wall}")
    assert local_instants(naive, LONDON) == expected


def test_can_cancel_until_the_cutoff() -> None:
    start = at(MONDAY, "10:00")
    assert can_cancel(start, now=start - 24 * HOUR, policy=POLICY)
    assert not can_cancel(start, now=start - 24 * HOUR + MINUTE, policy=POLICY)


def test_naive_or_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError):
        find(now=datetime(2027, 6, 7, 9))
    with pytest.raises(ValueError):
        fits(datetime(2027, 6, 7, 9))
    with pytest.raises(ValueError):
        find(duration=ZERO)
    with pytest.raises(ValueError):
        find(buffer_after=-MINUTE)


# --- working intervals -------------------------------------------------------------


def test_working_intervals_several_per_day() -> None:
    hours = [on(0, "13:00", "17:00"), on(0, "09:00", "12:00"), on(1, "10:00", "11:00")]
    assert working_intervals(MONDAY, hours, LONDON) == [
        Interval(z("06-07 08:00"), z("06-07 11:00")),
        Interval(z("06-07 12:00"), z("06-07 16:00")),
    ]


def test_working_intervals_none_on_a_day_off() -> None:
    assert working_intervals(TUESDAY, [on(0, "09:00", "17:00")], LONDON) == []


def test_working_intervals_merge_touching_hours() -> None:
    hours = [on(0, "09:00", "12:00"), on(0, "12:00", "14:00"), on(0, "13:00", "17:00")]
    assert working_intervals(MONDAY, hours, LONDON) == [
        Interval(z("06-07 08:00"), z("06-07 16:00"))
    ]


@pytest.mark.parametrize(
    ("name", "hours", "start", "end"),
    [
        # Spring forward: a bound in the gap moves to the moment the clocks jump.
        ("london-spring", ("00:00", "04:00"), "03-28 00:00", "03-28 03:00"),
        ("london-spring", ("01:30", "05:00"), "03-28 01:00", "03-28 04:00"),
        ("london-spring", ("00:00", "01:30"), "03-28 00:00", "03-28 01:00"),
        ("ny-spring", ("00:00", "04:00"), "03-14 05:00", "03-14 08:00"),
        ("ny-spring", ("02:30", "05:00"), "03-14 07:00", "03-14 09:00"),
        # Fall back: an ambiguous start is its first occurrence, an end its last.
        ("london-fall", ("00:00", "04:00"), "10-30 23:00", "10-31 04:00"),
        ("london-fall", ("01:30", "03:00"), "10-31 00:30", "10-31 03:00"),
        ("london-fall", ("00:00", "01:30"), "10-30 23:00", "10-31 01:30"),
        ("ny-fall", ("00:00", "04:00"), "11-07 04:00", "11-07 09:00"),
    ],
)
def test_working_intervals_across_dst(
    name: str, hours: tuple[str, str], start: str, end: str
) -> None:
    tz, day = DAYS[name]
    assert working_intervals(day, [on(6, *hours)], tz) == [Interval(z(start), z(end))]


def test_working_hours_inside_the_gap_vanish() -> None:
    hours = [on(6, "01:15", "01:45")]
    assert working_intervals(LONDON_SPRING, hours, LONDON) == []
    assert find(LONDON_SPRING, hours=hours, duration=15 * MINUTE) == []


# --- free slots: hours, step, buffers, time off, client ----------------------------


def test_slot_fields() -> None:
    slots = find(hours=[on(0, "09:00", "12:00")])
    assert labels(slots) == grid("09:00", "11:00")
    first = slots[0]
    assert (first.start, first.end) == (z("06-07 08:00"), z("06-07 09:00"))
    assert first.local_start == datetime(2027, 6, 7, 9, tzinfo=LONDON)
    assert first.local_end == datetime(2027, 6, 7, 10, tzinfo=LONDON)
    assert first.local_start.tzinfo is LONDON
    assert first.room_id is None


def test_several_intervals_a_day_and_a_day_off() -> None:
    hours = [on(0, "09:00", "11:00"), on(0, "14:00", "15:30"), on(2, "10:00", "11:00")]
    slots = find(days=3, hours=hours, policy=policy(slot_step=30 * MINUTE))
    assert [(s.local_start.date(), s.label) for s in slots] == [
        (MONDAY, "09:00"), (MONDAY, "09:30"), (MONDAY, "10:00"),
        (MONDAY, "14:00"), (MONDAY, "14:30"), (WEDNESDAY, "10:00"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (15, grid("09:00", "10:00")),
        (20, ["09:00", "09:20", "09:40", "10:00"]),
        (30, ["09:00", "09:30", "10:00"]),
        (60, ["09:00", "10:00"]),
    ],
)
def test_slot_step(step: int, expected: list[str]) -> None:
    rules = policy(slot_step=step * MINUTE)
    assert labels(find(hours=[on(0, "09:00", "11:00")], policy=rules)) == expected


def test_step_is_aligned_to_each_interval_start() -> None:
    hours = [on(0, "09:10", "11:00"), on(0, "13:05", "14:30")]
    slots = find(hours=hours, policy=policy(slot_step=30 * MINUTE))
    assert labels(slots) == ["09:10", "09:40", "13:05"]


def test_touching_hours_allow_a_session_across_the_seam() -> None:
    hours = [on(0, "09:00", "12:00"), on(0, "12:00", "14:00")]
    slots = find(hours=hours, policy=policy(slot_step=30 * MINUTE))
    assert labels(slots) == grid("09:00", "13:00", 30)


@pytest.mark.parametrize(
    ("busy", "buffer", "expected"),
    [
        # The booking 10:00-11:00 was stored with its 15-minute buffer.
        (("10:00", "11:15"), 15, grid("11:15", "12:00")),
        (("10:00", "11:15"), 0, ["09:00", *grid("11:15", "12:00")]),
        # No buffers: back to back on both sides.
        (("10:00", "11:00"), 0, ["09:00", *grid("11:00", "12:00")]),
        # The new session's own buffer may not run into the booking.
        (("10:00", "11:00"), 15, grid("11:00", "12:00")),
    ],
)
def test_buffers(busy: tuple[str, str], buffer: int, expected: list[str]) -> None:
    slots = find(
        hours=[on(0, "09:00", "13:00")],
        busy=[span(MONDAY, *busy)],
        buffer_after=buffer * MINUTE,
    )
    assert labels(slots) == expected


def test_buffer_may_run_past_closing_but_not_into_time_off() -> None:
    rules = {"hours": [on(0, "09:00", "12:00")], "buffer_after": 30 * MINUTE}
    assert labels(find(**rules)) == grid("09:00", "11:00")
    off = [span(MONDAY, "12:00", "13:00")]
    assert labels(find(busy=off, **rules)) == grid("09:00", "10:30")
    assert fits(at(MONDAY, "10:45"), busy=off, **rules) is Unfit.THERAPIST_BUSY


def test_time_off() -> None:
    slots = find(busy=[span(MONDAY, "12:00", "14:00")])
    assert labels(slots) == grid("09:00", "11:00") + grid("14:00", "16:00")


def test_closures_block_whole_days() -> None:
    closure = Interval(local_day_bounds(MONDAY, LONDON).start, at(TUESDAY, "23:59"))
    slots = find(days=3, busy=[closure])
    assert {s.local_start.date() for s in slots} == {WEDNESDAY}
    assert labels(slots) == grid("09:00", "16:00")


def test_client_busy_ignores_buffers() -> None:
    client = [span(MONDAY, "10:00", "11:00")]
    slots = find(
        hours=[on(0, "09:00", "13:00")], client_busy=client, buffer_after=15 * MINUTE
    )
    assert labels(slots) == ["09:00", *grid("11:00", "12:00")]
    assert fits(at(MONDAY, "09:30"), client_busy=client) is Unfit.CLIENT_BUSY


# --- rooms -------------------------------------------------------------------------


@pytest.mark.parametrize("rooms", [None, {}])
def test_no_rooms_configured(rooms: dict[int, list[Interval]] | None) -> None:
    slots = find(hours=[on(0, "09:00", "11:00")], rooms=rooms)
    assert labels(slots) == grid("09:00", "10:00")
    assert {s.room_id for s in slots} == {None}


def test_one_free_room_suffices() -> None:
    rooms = {1: [span(MONDAY, "09:00", "11:00")], 2: [span(MONDAY, "11:00", "13:00")]}
    slots = find(hours=[on(0, "09:00", "13:00")], rooms=rooms)
    assert [(s.label, s.room_id) for s in slots] == [
        ("09:00", 2), ("09:15", 2), ("09:30", 2), ("09:45", 2), ("10:00", 2),
        ("11:00", 1), ("11:15", 1), ("11:30", 1), ("11:45", 1), ("12:00", 1),
    ]  # fmt: skip


def test_first_free_room_follows_mapping_order() -> None:
    slots = find(hours=[on(0, "09:00", "10:00")], rooms={7: [], 3: []})
    assert [s.room_id for s in slots] == [7]


def test_all_rooms_busy_blocks() -> None:
    taken = [span(MONDAY, "10:00", "11:00")]
    rooms = {1: taken, 2: taken}
    slots = find(hours=[on(0, "09:00", "13:00")], rooms=rooms)
    assert labels(slots) == ["09:00", *grid("11:00", "12:00")]
    assert fits(at(MONDAY, "10:30"), rooms=rooms) is Unfit.NO_ROOM


def test_room_is_held_for_the_buffer() -> None:
    rooms = {1: [span(MONDAY, "10:00", "11:00")]}
    hours = [on(0, "09:00", "12:00")]
    assert labels(find(hours=hours, rooms=rooms)) == ["09:00", "11:00"]
    buffered = {"rooms": rooms, "buffer_after": 15 * MINUTE}
    assert labels(find(hours=hours, **buffered)) == ["11:00"]
    assert fits(at(MONDAY, "09:00"), **buffered) is Unfit.NO_ROOM


def test_free_rooms() -> None:
    rooms = {
        2: [span(MONDAY, "10:00", "11:00")],
        1: [],
        3: [span(MONDAY, "09:00", "10:00")],
    }
    assert free_rooms(rooms, span(MONDAY, "09:00", "10:00")) == [2, 1]
    assert free_rooms(rooms, span(MONDAY, "09:30", "10:30")) == [1]


# --- policy ------------------------------------------------------------------------


def test_minimum_notice_boundary_is_bookable() -> None:
    rules = {"now": at(MONDAY, "08:00"), "policy": policy(min_notice=2 * HOUR)}
    assert labels(find(**rules)) == grid("10:00", "16:00")
    assert fits(at(MONDAY, "09:45"), **rules) is Unfit.TOO_SOON


def test_horizon_boundary_is_bookable() -> None:
    rules = {"now": at(MONDAY, "09:00"), "policy": policy(horizon=3 * HOUR)}
    assert labels(find(days=5, **rules)) == grid("09:00", "12:00")
    assert fits(at(MONDAY, "12:15"), **rules) is Unfit.BEYOND_HORIZON


def test_horizon_ending_at_opening_time_leaves_one_slot() -> None:
    rules = {"now": at(MONDAY, "06:00"), "policy": policy(horizon=3 * HOUR)}
    assert labels(find(**rules)) == ["09:00"]


def test_past_times_are_never_offered() -> None:
    now = at(MONDAY, "10:20")
    assert labels(find(now=now)) == grid("10:30", "16:00")
    assert fits(at(MONDAY, "10:15"), now=now) is Unfit.PAST
    assert fits(at(MONDAY, "11:00") - timedelta(days=1), now=now) is Unfit.PAST


SCENARIO = {
    "busy": [span(MONDAY, "12:00", "13:00")],
    "client_busy": [span(MONDAY, "14:00", "15:00")],
    "rooms": {1: [span(MONDAY, "15:00", "16:00")]},
    "now": at(MONDAY, "07:00"),
    "policy": policy(min_notice=HOUR, horizon=timedelta(days=7)),
}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(MONDAY, "09:00"), None),
        (at(MONDAY, "13:00"), None),  # right after the booking
        (at(MONDAY, "16:00"), None),  # ends at closing time, room free from 16:00
        (datetime(2027, 6, 7, 10, tzinfo=LONDON), None),  # local input is fine
        (at(MONDAY, "06:00"), Unfit.PAST),
        (at(MONDAY, "07:30"), Unfit.TOO_SOON),
        (at(date(2027, 6, 15), "09:00"), Unfit.BEYOND_HORIZON),
        (at(MONDAY, "08:30"), Unfit.OUTSIDE_HOURS),
        (at(MONDAY, "16:15"), Unfit.OUTSIDE_HOURS),  # would end after closing
        (at(MONDAY, "17:00"), Unfit.OUTSIDE_HOURS),
        (at(MONDAY, "09:05"), Unfit.OFF_STEP),
        (at(MONDAY, "09:00") + timedelta(seconds=1), Unfit.OFF_STEP),
        (at(MONDAY, "11:30"), Unfit.THERAPIST_BUSY),
        (at(MONDAY, "13:30"), Unfit.CLIENT_BUSY),
        (at(MONDAY, "15:00"), Unfit.NO_ROOM),
    ],
)
def test_check_fits_reasons(start: datetime, expected: Unfit | None) -> None:
    assert fits(start, **SCENARIO) is expected
    offered = {slot.start for slot in find(**SCENARIO)}
    assert (start in offered) is (expected is None)


# --- daylight saving time ----------------------------------------------------------


def repeated(first: str, second: str) -> list[str]:
    """Labels of the repeated hour 01:00-01:45: first occurrences, then second."""
    walls = grid("01:00", "01:45")
    return [f"{w} (GMT{first})" for w in walls] + [f"{w} (GMT{second})" for w in walls]


# Hours 00:00-04:00, 60-minute sessions: (first start, last start, labels).
NIGHTS = {
    "london-spring": ("03-28 00:00", "03-28 02:00", grid("00:00", "00:45")
                      + grid("02:00", "03:00")),
    "london-fall": ("10-30 23:00", "10-31 03:00", grid("00:00", "00:45")
                    + repeated("+01:00", "+00:00") + grid("02:00", "03:00")),
    "ny-spring": ("03-14 05:00", "03-14 07:00", [*grid("00:00", "01:45"), "03:00"]),
    "ny-fall": ("11-07 04:00", "11-07 08:00", grid("00:00", "00:45")
                + repeated("-04:00", "-05:00") + grid("02:00", "03:00")),
}  # fmt: skip


@pytest.mark.parametrize("name", TRANSITIONS)
def test_night_shift_across_transition(name: str) -> None:
    tz, day = DAYS[name]
    first, last, expected = NIGHTS[name]
    slots = find(day, tz=tz, hours=daily("00:00", "04:00"))
    assert labels(slots) == expected
    # Real time runs on without gaps or repeats: one start every 15 minutes.
    count = (z(last) - z(first)) // (15 * MINUTE) + 1
    assert [s.start for s in slots] == [
        z(first) + i * 15 * MINUTE for i in range(count)
    ]
    for slot in slots:
        assert (slot.end - slot.start).total_seconds() == 3600
        # PEP 495: ambiguous local times never compare equal across zones.
        assert slot.local_start.astimezone(UTC) == slot.start
        assert slot.local_end.astimezone(UTC) == slot.end
        assert slot.local_start.tzinfo is tz
        wall = slot.local_start.replace(tzinfo=None)
        assert slot.start in local_instants(wall, tz)  # so never in the gap


@pytest.mark.parametrize("name", ["london-fall", "ny-fall"])
def test_ambiguous_times_appear_twice_with_distinct_offsets(name: str) -> None:
    tz, day = DAYS[name]
    slots = find(day, tz=tz, hours=daily("00:00", "04:00"))
    walls = Counter(s.label[:5] for s in slots)
    assert {w for w, n in walls.items() if n == 2} == set(grid("01:00", "01:45"))
    for wall in grid("01:00", "01:45"):
        early, late = [s for s in slots if s.label[:5] == wall]
        assert late.start - early.start == HOUR
        assert early.label != late.label
        assert (early.local_start.fold, late.local_start.fold) == (0, 1)


def test_session_across_the_gap_lasts_real_minutes() -> None:
    slot = find(LONDON_SPRING, hours=daily("00:00", "04:00"))[3]
    assert (slot.label, f"{slot.local_end:%H:%M %Z}") == ("00:45", "02:45 BST")
    assert slot.end - slot.start == HOUR
    # Same-zone aware subtraction uses wall clocks, which is why ends are UTC.
    assert slot.local_end - slot.local_start == 2 * HOUR


@pytest.mark.parametrize("name", TRANSITIONS)
def test_day_shift_unaffected_on_transition_days(name: str) -> None:
    tz, day = DAYS[name]
    slots = find(day, tz=tz)
    assert labels(slots) == grid("09:00", "16:00")
    assert slots[0].start == at(day, "09:00", tz)
    assert all(s.end - s.start == HOUR for s in slots)


@pytest.mark.parametrize(
    ("step", "expected"),
    [(15, grid("02:00", "04:00")), (45, ["02:15", "03:00", "03:45"])],
)
def test_grid_keeps_wall_clock_alignment_after_a_start_in_the_gap(
    step: int, expected: list[str]
) -> None:
    rules = policy(slot_step=step * MINUTE)
    assert (
        labels(find(LONDON_SPRING, hours=daily("01:30", "05:00"), policy=rules))
        == expected
    )


@pytest.mark.parametrize(
    ("tz", "wall", "fold", "expected"),
    [
        (LONDON, "03-28 01:30", 0, Unfit.NONEXISTENT_TIME),
        (LONDON, "03-28 01:30", 1, Unfit.NONEXISTENT_TIME),
        (LONDON, "03-28 02:30", 0, None),
        (LONDON, "10-31 01:30", 0, None),
        (LONDON, "10-31 01:30", 1, None),
        (NEW_YORK, "03-14 02:30", 0, Unfit.NONEXISTENT_TIME),
        (NEW_YORK, "11-07 01:30", 1, None),
        (UTC, "03-28 01:30", 0, None),  # 02:30 BST
    ],
)
def test_check_fits_local_inputs(tz: Any, wall: str, fold: int, expected: Unfit | None):
    start = datetime.fromisoformat(f"2027-{wall}").replace(tzinfo=tz, fold=fold)
    clinic = NEW_YORK if tz is NEW_YORK else LONDON
    assert fits(start, tz=clinic, hours=daily("00:00", "04:00")) is expected


# --- free_slots and check_fits never disagree --------------------------------------


def assert_agreement(day: date, **overrides: Any) -> list[Slot]:
    """Every 5-minute instant of the local day is offered iff check_fits accepts it."""
    slots = find(day, **overrides)
    bounds = local_day_bounds(day, overrides.get("tz", LONDON))
    instant, accepted = bounds.start, set()
    while instant < bounds.end:
        if fits(instant, **overrides) is None:
            accepted.add(instant)
        instant += 5 * MINUTE
    assert accepted == {slot.start for slot in slots}
    return slots


@pytest.mark.parametrize("name", list(DAYS))
def test_agreement_on_transition_days(name: str) -> None:
    tz, day = DAYS[name]
    origin = local_day_bounds(day, tz).start

    def hours_in(first: int, last: int) -> list[Interval]:
        return [Interval(origin + first * HOUR, origin + last * HOUR)]

    slots = assert_agreement(
        day,
        tz=tz,
        hours=[on(6, "00:00", "04:00"), on(0, "00:00", "04:00"), *daily()],
        busy=hours_in(2, 3),
        client_busy=hours_in(10, 11),
        rooms={1: hours_in(13, 15)},
        buffer_after=10 * MINUTE,
    )
    assert len(slots) >= 10


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[date, dict[str, Any]]:
    tz, day = DAYS[draw(st.sampled_from(list(DAYS)))]
    origin = local_day_bounds(day, tz).start
    quarter = st.integers(0, 95).map(lambda q: time(q // 4, q % 4 * 15))
    pairs = draw(st.lists(st.tuples(quarter, quarter), max_size=3))
    hours = [WeeklyHours(day.weekday(), *sorted(p)) for p in pairs if p[0] != p[1]]

    def periods(most: int) -> st.SearchStrategy[list[Interval]]:
        start = st.integers(-24, 312).map(lambda n: origin + n * 5 * MINUTE)
        length = st.integers(1, 36).map(lambda n: n * 5 * MINUTE)
        found = st.lists(st.tuples(start, length), max_size=most)
        return found.map(lambda ps: [Interval(s, s + n) for s, n in ps])

    def pick(*options: int) -> int:
        return draw(st.sampled_from(options))

    return day, {
        "tz": tz,
        "hours": hours,
        "busy": draw(periods(6)),
        "client_busy": draw(periods(3)),
        "rooms": draw(st.none() | st.dictionaries(st.integers(1, 5), periods(3))),
        "duration": pick(30, 45, 60, 90) * MINUTE,
        "buffer_after": pick(0, 10, 15) * MINUTE,
        "now": origin + draw(st.integers(-288, 360)) * 5 * MINUTE,
        "policy": policy(
            slot_step=pick(10, 15, 20, 30, 45) * MINUTE,
            min_notice=pick(0, 1, 2) * HOUR,
            horizon=pick(3, 24, 720) * HOUR,
        ),
    }


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_free_slots_and_check_fits_agree(scenario: tuple[date, dict[str, Any]]):
    day, overrides = scenario
    assert_agreement(day, **overrides)


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_free_slots_invariants(scenario: tuple[date, dict[str, Any]]) -> None:
    day, kw = scenario
    slots = find(day, **kw)
    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    windows = working_intervals(day, kw["hours"], kw["tz"])
    for slot in slots:
        held = Interval(slot.start, slot.end + kw["buffer_after"])
        assert slot.end - slot.start == kw["duration"]
        assert slot.local_start.astimezone(UTC) == slot.start
        assert slot.label[:5] == f"{slot.local_start:%H:%M}"
        assert any(w.start <= slot.start and slot.end <= w.end for w in windows)
        assert not any(held.overlaps(b) for b in kw["busy"])
        assert not any(
            slot.start < b.end and b.start < slot.end for b in kw["client_busy"]
        )
        assert kw["now"] + kw["policy"].min_notice <= slot.start
        assert slot.start <= kw["now"] + kw["policy"].horizon
        first_room = free_rooms(kw["rooms"], held)[:1] if kw["rooms"] else [None]
        assert [slot.room_id] == first_room


# Zones whose clocks change in unusual ways: by 30 minutes (Lord Howe), at
# midnight (Havana, Santiago), by two hours (Troll), twice more a year around
# Ramadan (Casablanca), at 02:45 (Chatham), or never (Kolkata).
ODD_ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe",
             "America/Havana", "America/Santiago", "Antarctica/Troll",
             "Africa/Casablanca", "Pacific/Chatham", "Asia/Kolkata")
# A whole day, and the early morning when most clocks change, every day.
SHIFTS = [(time(0), time(23, 45)), (time(1), time(3, 30))]


@pytest.mark.parametrize("zone", ODD_ZONES)
def test_the_quick_grid_matches_reading_each_wall_time(zone: str) -> None:
    """``_candidates`` takes a shortcut when the offset stays put all shift
    long; over two years of days it gives exactly what reading every wall
    time on its own gives."""
    from clinic.booking.slots import (
        _candidates,
        _clocks_change_during,
        _shifts,
        _wall_grid,
    )

    tz, step, shortcuts, days = ZoneInfo(zone), timedelta(minutes=15), 0, 2 * 365
    for start, end in SHIFTS:
        hours = [WeeklyHours(weekday, start, end) for weekday in range(7)]
        for offset in range(days):
            for shift in _shifts(date(2027, 1, 1) + timedelta(days=offset), hours, tz):
                assert _candidates(shift, tz, step) == _wall_grid(shift, tz, step)
                shortcuts += not _clocks_change_during(shift, tz)
    assert shortcuts > len(SHIFTS) * (days - 30)  # the shortcut is the usual path
