"""Progress signals over a client's sessions (screening-rules.md §7.2).

- Clinically meaningful pain change: a fall of at least 2 NPRS points or at
  least 30% from the first session [OSTELO08]. A rise of the same size is
  reported as meaningful worsening.
- Centralising: the extent level is lower than at the previous session
  (improving). Peripheralising: higher (the next intake will fire
  R-WORSENING, so staff prompt a re-screen before the next booking).
- Post-session flare: at the next contact the client says the session left
  them worse, or their pain score is 2 or more points higher, or the extent
  level increased. The session after a flare defaults to one pressure class
  lighter; two consecutive flares suggest a clinician review (advisory only).

Pain is compared on the score taken *before* each session: like the intake's
``pain_score`` it describes the last 24 hours, whereas the score after a
session is the immediate response to it.

Pure standard library: callers pass plain values, results are frozen.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

MEANINGFUL_FALL_POINTS = 2
MEANINGFUL_FALL_PERCENT = 30
FLARE_RISE_POINTS = 2
CONSECUTIVE_FLARES_FOR_REVIEW = 2

# Pressure classes, lightest first (§7.1 pressure_used).
PRESSURES: tuple[str, ...] = ("light", "moderate", "firm")

# §2.2: how far down the leg symptoms reach.
EXTENT_LABELS: tuple[str, ...] = (
    "lower back only", "buttock", "thigh", "knee", "calf", "foot",
)


@dataclass(frozen=True)
class SessionPoint:
    """What one signed session note recorded, as plain values."""

    on: date
    nprs_before: int | None
    nprs_after: int | None
    extent_level: int | None
    pressure: str | None = None
    # Recorded at this visit about the previous session: better/same/worse.
    response_to_previous: str | None = None


@dataclass(frozen=True)
class PainChange:
    first: int
    latest: int

    @property
    def fall(self) -> int:
        return self.first - self.latest

    @property
    def improved(self) -> bool:
        return meaningful_fall(self.first, self.latest)

    @property
    def worsened(self) -> bool:
        return meaningful_fall(self.latest, self.first)


@dataclass(frozen=True)
class Flare:
    """A flare after the session on ``after`` (learnt at ``seen_on``)."""

    after: date
    seen_on: date
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Signals:
    pain: PainChange | None
    extent_change: int | None  # latest minus previous level; None if unknown
    flares: tuple[Flare, ...]
    latest_flare: Flare | None  # a flare after the session before the latest
    review_suggested: bool
    suggested_pressure: str | None  # for the next session, after a flare

    @property
    def centralising(self) -> bool:
        return self.extent_change is not None and self.extent_change < 0

    @property
    def peripheralising(self) -> bool:
        return self.extent_change is not None and self.extent_change > 0


def meaningful_fall(first: int, latest: int) -> bool:
    """A fall of >= 2 points or >= 30% of the first score."""
    fall = first - latest
    if fall <= 0:
        return False
    return (fall >= MEANINGFUL_FALL_POINTS
            or fall * 100 >= first * MEANINGFUL_FALL_PERCENT)


def pain_change(sessions: Sequence[SessionPoint]) -> PainChange | None:
    """First against latest pain score before a session (needs two sessions)."""
    scored = [s.nprs_before for s in sessions if s.nprs_before is not None]
    if len(scored) < 2:
        return None
    return PainChange(first=scored[0], latest=scored[-1])


def extent_change(sessions: Sequence[SessionPoint]) -> int | None:
    """The latest session's extent level minus the previous session's."""
    if len(sessions) < 2:
        return None
    previous, latest = sessions[-2].extent_level, sessions[-1].extent_level
    if previous is None or latest is None:
        return None
    return latest - previous


def flare_after(previous: SessionPoint, following: SessionPoint) -> Flare | None:
    """Whether ``following`` shows a flare after ``previous`` (§7.1)."""
    reasons = []
    if following.response_to_previous == "worse":
        reasons.append("the client said the session left them worse")
    if (
        previous.nprs_before is not None
        and following.nprs_before is not None
        and following.nprs_before - previous.nprs_before >= FLARE_RISE_POINTS
    ):
        rise = following.nprs_before - previous.nprs_before
        reasons.append(f"the pain score rose by {rise} points")
    if (
        previous.extent_level is not None
        and following.extent_level is not None
        and following.extent_level > previous.extent_level
    ):
        reasons.append("the symptoms spread further down the leg")
    if not reasons:
        return None
    return Flare(after=previous.on, seen_on=following.on, reasons=tuple(reasons))


def lighter(pressure: str | None) -> str | None:
    """One pressure class lighter (light stays light)."""
    if pressure not in PRESSURES:
        return None
    return PRESSURES[max(0, PRESSURES.index(pressure) - 1)]


def signals(sessions: Sequence[SessionPoint]) -> Signals:
    """Every §7.2 signal for sessions in date order."""
    pairs = list(itertools.pairwise(sessions))
    per_gap = [flare_after(prev, nxt) for prev, nxt in pairs]
    latest_flare = per_gap[-1] if per_gap else None
    run = 0
    for found in reversed(per_gap):
        if found is None:
            break
        run += 1
    suggested = None
    if latest_flare is not None:
        suggested = lighter(sessions[-2].pressure)
    return Signals(
        pain=pain_change(sessions),
        extent_change=extent_change(sessions),
        flares=tuple(f for f in per_gap if f is not None),
        latest_flare=latest_flare,
        review_suggested=run >= CONSECUTIVE_FLARES_FOR_REVIEW,
        suggested_pressure=suggested,
    )


def extent_label(level: int | None) -> str:
    if level is None or not 0 <= level < len(EXTENT_LABELS):
        return "not recorded"
    return EXTENT_LABELS[level]


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def sentences(found: Signals, session_count: int) -> list[str]:
    """The signals as plain sentences for staff, most important first."""
    if session_count == 0:
        return ["No signed session notes yet."]
    lines: list[str] = []
    if found.review_suggested:
        lines.append(
            "Two sessions in a row were followed by a flare: suggest a review by "
            "a clinician (doctor or physiotherapist) before continuing."
        )
    if found.peripheralising:
        lines.append(
            "Peripheralising: symptoms reach further down the leg than at the "
            "previous session. The next intake will flag worsening; prompt a "
            "re-screen before the next booking."
        )
    elif found.centralising:
        lines.append(
            "Centralising: symptoms reach less far down the leg than at the "
            "previous session, a sign of improvement."
        )
    elif found.extent_change == 0:
        lines.append("Symptoms reach as far down the leg as at the previous session.")
    if found.latest_flare is not None:
        lines.append(_flare_sentence(found.latest_flare, found.suggested_pressure))
    lines.append(_pain_sentence(found.pain))
    return lines


def _flare_sentence(flare: Flare, suggested: str | None) -> str:
    because = " and ".join(flare.reasons)
    sentence = f"The session on {_day(flare.after)} was followed by a flare: {because}."
    if suggested is not None:
        sentence += (
            " The session after a flare defaults to one pressure class lighter: "
            f"{suggested}."
        )
    return sentence


def _pain_sentence(pain: PainChange | None) -> str:
    if pain is None:
        return "Pain change needs pain scores from at least two sessions."
    if pain.improved:
        return (
            f"Clinically meaningful improvement: pain fell from {pain.first} to "
            f"{pain.latest} out of 10 since the first session."
        )
    if pain.worsened:
        return (
            f"Pain is meaningfully worse: it rose from {pain.first} to "
            f"{pain.latest} out of 10 since the first session."
        )
    return (
        f"No clinically meaningful pain change yet: {pain.first} at the first "
        f"session, {pain.latest} out of 10 now (a fall of 2 points or 30% counts)."
    )
