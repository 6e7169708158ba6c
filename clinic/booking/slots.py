"""Slot arithmetic for therapists' calendars: pure functions over plain values.

Only the standard library is imported, so the rules can be read and tested without
the app. The booking service calls ``check_fits`` inside its transaction; the views
call ``free_slots`` to offer times.

Conventions:

* Instants are aware ``datetime`` objects, normalised to UTC; naive ones raise
  ``ValueError``. Intervals are half-open ``[start, end)``: ``overlaps`` is
  ``a_start < b_end and b_start < a_end``, the pure twin of the SQL overlap query
  (and of ``tstzrange(start, end, '[)')``), so back-to-back sessions never conflict.
* Working hours are wall-clock times in the clinic's zone. A working interval is the
  smallest UTC interval holding every instant whose local time lies in the hours'
  ``[start, end)``. Hence a bound in the spring-forward gap moves to the moment the
  clocks jump, an ambiguous start takes its first occurrence and an ambiguous end
  its last.
* Candidate starts are wall-clock times stepped from the start of each working
  interval (touching or overlapping hours are merged first). A candidate maps to
  every instant at which the clock shows it: none in a gap (never offered), two in
  the fall-back overlap (both offered, their label shows the UTC offset, e.g.
  ``01:30 (GMT+01:00)`` then ``01:30 (GMT+00:00)``), otherwise one.
* Durations are real time: ``end = start + duration`` in UTC, so a 60-minute
  session across a transition lasts 3600 s even if its local end reads 03:00.
* A booking occupies its therapist and room for ``[start, end + buffer_after)`` and
  its client for ``[start, end)``. The session must end within its working interval;
  its buffer may run past that end but never into anything busy (bookings, time
  off, closures, the room's bookings). Buffers exist to separate consecutive
  clients: after the last session of a shift there is none, so demanding that the
  buffer fit would silently drop the last slot of every shift. The buffer is still
  real occupancy, so a booking or time off that starts right after the shift keeps
  its protection.
* ``free_slots`` and ``check_fits`` share one candidate generator and one predicate,
  so an offered slot always passes the re-check and a refused time is never offered.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum
from operator import attrgetter
from zoneinfo import ZoneInfo

_ZERO = timedelta(0)
_TICK = timedelta(microseconds=1)


def overlaps(
    a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime
) -> bool:
    """Whether half-open ``[a_start, a_end)`` and ``[b_start, b_end)`` intersect."""
    return a_start < b_end and b_start < a_end


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    # One shared tzinfo object keeps datetime comparisons on CPython's fast path.
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span of real time; both ends are stored in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = _utc(self.start, "start"), _utc(self.end, "end")
        if not start < end:
            raise ValueError(f"interval must start before it ends: {start} >= {end}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def overlaps(self, other: Interval) -> bool:
        return overlaps(self.start, self.end, other.start, other.end)


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working hours on one weekday (0 = Monday), as naive local wall-clock times."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are naive wall-clock times")
        if not self.start < self.end:
            raise ValueError(f"hours must start before they end: {self.start}")


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    min_notice: timedelta
    horizon: timedelta
    slot_step: timedelta
    cancel_cutoff: timedelta

    def __post_init__(self) -> None:
        if self.slot_step <= _ZERO:
            raise ValueError("slot_step must be positive")
        if min(self.min_notice, self.horizon, self.cancel_cutoff) < _ZERO:
            raise ValueError("policy durations must not be negative")


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time: start/end in UTC, local_* in the clinic's zone.

    Compare and store ``start``/``end``: under PEP 495 a local time in a repeated
    hour never equals a datetime in another zone, so ``local_start == start`` can
    be False, and same-zone subtraction of local_* uses wall clocks.
    """

    start: datetime
    end: datetime
    local_start: datetime
    local_end: datetime
    label: str
    room_id: int | None


class Unfit(Enum):
    """Why a requested start cannot be booked, in the order it is checked."""

    NONEXISTENT_TIME = "nonexistent_time"  # local time skipped by spring-forward
    PAST = "past"
    TOO_SOON = "too_soon"  # within the minimum notice
    BEYOND_HORIZON = "beyond_horizon"
    OUTSIDE_HOURS = "outside_hours"  # not in, or not ending within, working hours
    OFF_STEP = "off_step"  # within hours but not on the slot grid
    THERAPIST_BUSY = "therapist_busy"
    CLIENT_BUSY = "client_busy"
    NO_ROOM = "no_room"


# --- local wall clock -> UTC -------------------------------------------------------


def _fold_offsets(wall: datetime, tz: tzinfo) -> tuple[timedelta, timedelta]:
    """UTC offsets of naive ``wall`` read with fold=0 and fold=1 (PEP 495).

    They are equal for a normal time. For an ambiguous one fold=0 has the larger
    offset (the earlier instant); in a gap fold=0 applies the offset from before
    the jump, the smaller one, so it maps to the later instant.
    """
    first, second = tz.utcoffset(wall), tz.utcoffset(wall.replace(fold=1))
    return first, second  # type: ignore[return-value]  # a ZoneInfo always has one


def _fold_instants(wall: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """UTC instants for ``wall`` with fold=0 and fold=1; decreasing in a gap."""
    tagged = wall.replace(tzinfo=UTC)
    first, second = _fold_offsets(wall, tz)
    return tagged - first, tagged - second


def _jump(before: datetime, after: datetime, tz: tzinfo) -> datetime:
    """The instant the clocks jump, found by bisecting ``[before, after]``."""
    old = before.astimezone(tz).utcoffset()
    while after - before > _TICK:
        middle = before + (after - before) // 2
        if middle.astimezone(tz).utcoffset() == old:
            before = middle
        else:
            after = middle
    return after


def _first_at(wall: datetime, tz: tzinfo) -> datetime:
    """First instant whose local time is at or after ``wall``."""
    first, second = _fold_instants(wall, tz)
    return first if first <= second else _jump(second, first, tz)


def _last_before(wall: datetime, tz: tzinfo) -> datetime:
    """End of the instants whose local time is before ``wall``."""
    first, second = _fold_instants(wall, tz)
    return second if first <= second else _jump(second, first, tz)


def local_instants(wall: datetime, tz: ZoneInfo) -> tuple[datetime, ...]:
    """UTC instants at which clocks in ``tz`` show the naive ``wall`` time.

    Empty in a spring-forward gap, two (earlier first) in a fall-back overlap.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall must be a naive local time")
    first, second = _fold_instants(wall, tz)
    if first == second:
        return (first,)
    return (first, second) if first < second else ()


def local_day_bounds(day: date, tz: ZoneInfo) -> Interval:
    """Local midnight to the next local midnight, in UTC (23 h or 25 h on DST days)."""
    midnight = datetime.combine(day, time())
    return Interval(
        _first_at(midnight, tz), _first_at(midnight + timedelta(days=1), tz)
    )


@dataclass(frozen=True, slots=True)
class _Shift:
    wall_start: datetime  # naive local, the origin of the slot grid
    wall_end: datetime
    span: Interval


def _shifts(day: date, hours: Sequence[WeeklyHours], tz: tzinfo) -> list[_Shift]:
    todays = sorted((h.start, h.end) for h in hours if h.weekday == day.weekday())
    merged: list[tuple[time, time]] = []
    for start, end in todays:
        # Touching hours are one continuous shift: a session may span 12:00.
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    shifts = []
    for start, end in merged:
        wall_start, wall_end = datetime.combine(day, start), datetime.combine(day, end)
        first, last = _first_at(wall_start, tz), _last_before(wall_end, tz)
        if first < last:  # else the whole shift fell into a gap
            shifts.append(_Shift(wall_start, wall_end, Interval(first, last)))
    return shifts


def working_intervals(
    day: date, hours: Sequence[WeeklyHours], tz: ZoneInfo
) -> list[Interval]:
    """UTC working intervals for a local date, sorted by start.

    Touching or overlapping hours are merged. Bounds follow the module's DST rule:
    a bound in a gap moves to the clock jump (hours 01:30-05:00 on a day whose
    clocks skip 01:00-02:00 start at 02:00); an ambiguous start is read at its
    first occurrence and an ambiguous end at its last. Hours lying wholly in a
    gap give nothing.
    """
    return [shift.span for shift in _shifts(day, hours, tz)]


def _candidates(
    shift: _Shift, tz: tzinfo, step: timedelta
) -> list[tuple[datetime, bool]]:
    """(start, is_ambiguous) for each instant on the shift's wall-clock grid."""
    if _clocks_change_during(shift, tz):
        return _wall_grid(shift, tz, step)
    # One offset all shift long: the grid is as regular in UTC as on the wall.
    wall_length = shift.wall_end - shift.wall_start
    return [(shift.span.start + k * step, False)
            for k in range(-(wall_length // -step))]  # ceil: starts before the end


def _wall_grid(
    shift: _Shift, tz: tzinfo, step: timedelta
) -> list[tuple[datetime, bool]]:
    """``_candidates`` the long way: each wall time read on its own."""
    found: list[tuple[datetime, bool]] = []
    wall = shift.wall_start
    # The same grid tagged as UTC turns each instant into one subtraction (hot loop).
    tagged = wall.replace(tzinfo=UTC)
    while wall < shift.wall_end:
        first, second = _fold_offsets(wall, tz)
        if first == second:
            found.append((tagged - first, False))
        elif first > second:
            found += [(tagged - first, True), (tagged - second, True)]
        # else the time is in a spring-forward gap: it never happens
        wall += step
        tagged += step
    return found


def _clocks_change_during(shift: _Shift, tz: tzinfo) -> bool:
    """Whether the UTC offset is not the same all shift long.

    A shift that lasts as long in real time as on the wall clock has the
    same offset at its first and last instants (a start or end in a gap or
    an overlap always makes the lengths differ). A change inside would then
    need a second one undoing it within the same day's hours, which no zone
    in the tz database has on the dates a clinic books (the unit tests
    compare with ``_wall_grid`` over whole years in zones with unusual
    changes).
    """
    real = shift.span.end - shift.span.start
    return real != shift.wall_end - shift.wall_start


# --- busy timelines and the shared predicate ---------------------------------------


def _merged(intervals: Iterable[Interval]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted((i.start, i.end) for i in intervals):
        if out and start <= out[-1][1]:  # touching too: [a, b) + [b, c) = [a, c)
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union of ``intervals``; touching ones are joined."""
    return [Interval(start, end) for start, end in _merged(intervals)]


class _Timeline:
    """Merged busy periods, sorted once so each probe is one bisect."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        pairs = _merged(intervals)
        self.starts = [start for start, _ in pairs]
        self.ends = [end for _, end in pairs]

    def is_free(self, start: datetime, end: datetime) -> bool:
        # Periods are disjoint, so only the first one ending after `start` can clash.
        i = bisect_right(self.ends, start)
        return i == len(self.ends) or end <= self.starts[i]


@dataclass(frozen=True, slots=True)
class _Rules:
    tz: tzinfo
    duration: timedelta
    buffer_after: timedelta
    step: timedelta
    now: datetime
    earliest: datetime
    latest: datetime
    therapist: _Timeline
    client: _Timeline
    rooms: tuple[tuple[int, _Timeline], ...]


def _rules(
    tz: tzinfo,
    busy: Sequence[Interval],
    duration: timedelta,
    buffer_after: timedelta,
    policy: BookingPolicy,
    now: datetime,
    client_busy: Sequence[Interval],
    rooms: Mapping[int, Sequence[Interval]] | None,
) -> _Rules:
    if duration <= _ZERO or buffer_after < _ZERO:
        raise ValueError("duration must be positive and buffer_after not negative")
    now = _utc(now, "now")
    return _Rules(
        tz,
        duration,
        buffer_after,
        policy.slot_step,
        now,
        now + policy.min_notice,
        now + policy.horizon,
        _Timeline(busy),
        _Timeline(client_busy),
        tuple((room_id, _Timeline(b)) for room_id, b in (rooms or {}).items()),
    )


def _policy_reason(rules: _Rules, start: datetime) -> Unfit | None:
    if start < rules.now:
        return Unfit.PAST
    if start < rules.earliest:
        return Unfit.TOO_SOON
    if start > rules.latest:
        return Unfit.BEYOND_HORIZON
    return None


def _place(rules: _Rules, start: datetime, shift_end: datetime) -> Unfit | int | None:
    """Why ``start`` does not fit, else the first free room id (None: no rooms)."""
    end = start + rules.duration
    if end > shift_end:
        return Unfit.OUTSIDE_HOURS
    held = end + rules.buffer_after
    if not rules.therapist.is_free(start, held):
        return Unfit.THERAPIST_BUSY
    if not rules.client.is_free(start, end):
        return Unfit.CLIENT_BUSY
    if not rules.rooms:
        return None
    for room_id, timeline in rules.rooms:
        if timeline.is_free(start, held):
            return room_id
    return Unfit.NO_ROOM


# --- public entry points -----------------------------------------------------------


def _gmt(offset: timedelta) -> str:
    minutes = offset // timedelta(minutes=1)
    hours, minutes = divmod(abs(minutes), 60)
    return f"GMT{'-' if offset < _ZERO else '+'}{hours:02d}:{minutes:02d}"


def _slot(rules: _Rules, start: datetime, ambiguous: bool, room_id: int | None) -> Slot:
    end = start + rules.duration
    local = start.astimezone(rules.tz)
    label = f"{local.hour:02d}:{local.minute:02d}"
    if ambiguous:
        label += f" ({_gmt(local.utcoffset() or _ZERO)})"
    return Slot(start, end, local, end.astimezone(rules.tz), label, room_id)


def free_slots(
    *,
    tz: ZoneInfo,
    start_day: date,
    days: int,
    hours: Sequence[WeeklyHours],
    busy: Sequence[Interval],
    duration: timedelta,
    buffer_after: timedelta,
    policy: BookingPolicy,
    now: datetime,
    client_busy: Sequence[Interval] = (),
    rooms: Mapping[int, Sequence[Interval]] | None = None,
) -> list[Slot]:
    """Bookable slots on ``days`` local dates from ``start_day``, sorted by start.

    ``busy`` holds everything that blocks the therapist: bookings (including held
    and pending ones) stretched by their buffers, time off and clinic closures.
    ``client_busy`` holds the client's own bookings, without buffers. ``rooms``
    maps room id to that room's busy periods (bookings with buffers); ``None`` or
    ``{}`` means the clinic has no rooms, and slots carry ``room_id=None``.
    Otherwise each slot carries the first free room in the mapping's order.
    """
    rules = _rules(tz, busy, duration, buffer_after, policy, now, client_busy, rooms)
    slots: list[Slot] = []
    for offset in range(days):
        for shift in _shifts(start_day + timedelta(days=offset), hours, tz):
            # Pruning only: every start in such a shift fails the policy check.
            if shift.span.end <= rules.earliest or shift.span.start > rules.latest:
                continue
            for start, ambiguous in _candidates(shift, tz, rules.step):
                if _policy_reason(rules, start) is not None:
                    continue
                placed = _place(rules, start, shift.span.end)
                if not isinstance(placed, Unfit):
                    slots.append(_slot(rules, start, ambiguous, placed))
    # A repeated hour yields each wall time's two instants together: put the
    # second occurrences back in real-time order.
    slots.sort(key=attrgetter("start"))
    return slots


def check_fits(
    *,
    tz: ZoneInfo,
    start: datetime,
    hours: Sequence[WeeklyHours],
    busy: Sequence[Interval],
    duration: timedelta,
    buffer_after: timedelta,
    policy: BookingPolicy,
    now: datetime,
    client_busy: Sequence[Interval] = (),
    rooms: Mapping[int, Sequence[Interval]] | None = None,
) -> Unfit | None:
    """``None`` if ``free_slots`` with the same inputs would offer ``start``.

    ``start`` is normally UTC (e.g. ``Slot.start``). A time given in a local zone
    whose wall-clock reading does not exist there gives ``NONEXISTENT_TIME``;
    ``fold`` picks the occurrence of an ambiguous one.
    :raise ValueError: on naive datetimes or invalid durations.
    """
    rules = _rules(tz, busy, duration, buffer_after, policy, now, client_busy, rooms)
    instant = _utc(start, "start")
    if not _exists(start, instant):
        return Unfit.NONEXISTENT_TIME
    reason = _policy_reason(rules, instant)
    if reason is not None:
        return reason
    # Offered starts of a shift all fall on its own local date.
    shifts = _shifts(instant.astimezone(tz).date(), hours, tz)
    for shift in shifts:
        if any(c == instant for c, _ in _candidates(shift, tz, rules.step)):
            placed = _place(rules, instant, shift.span.end)
            return placed if isinstance(placed, Unfit) else None
    inside = any(shift.span.start <= instant < shift.span.end for shift in shifts)
    return Unfit.OFF_STEP if inside else Unfit.OUTSIDE_HOURS


def _exists(given: datetime, instant: datetime) -> bool:
    """Whether ``given``'s wall-clock reading really occurs in its own zone."""
    # PEP 495 maps a skipped reading to an instant anyway; a round trip reveals it.
    back = instant.astimezone(given.tzinfo)
    return back.replace(tzinfo=None) == given.replace(tzinfo=None)


def free_rooms(
    rooms: Mapping[int, Sequence[Interval]], occupied: Interval
) -> list[int]:
    """Ids of rooms free for ``occupied`` (start to end + buffer), in mapping order."""
    return [
        room_id
        for room_id, busy in rooms.items()
        if _Timeline(busy).is_free(occupied.start, occupied.end)
    ]


def can_cancel(start: datetime, *, now: datetime, policy: BookingPolicy) -> bool:
    """Whether a booking starting at ``start`` may still be cancelled at ``now``."""
    return _utc(now, "now") <= _utc(start, "start") - policy.cancel_cutoff
