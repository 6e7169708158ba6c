"""Progress signals (screening-rules.md §7.2): pure, exact values."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from clinic.notes import chart, progress
from clinic.notes.progress import SessionPoint

DAY = date(2027, 3, 1)


def sessions(*rows: tuple[int | None, int | None, str | None, str | None]) -> list[
    SessionPoint
]:
    """(nprs_before, extent_level, pressure, response_to_previous) per week."""
    return [
        SessionPoint(on=DAY + timedelta(weeks=i), nprs_before=before, nprs_after=None,
                     extent_level=level, pressure=pressure,
                     response_to_previous=response)
        for i, (before, level, pressure, response) in enumerate(rows)
    ]


@pytest.mark.parametrize(
    ("first", "latest", "improved"),
    [
        (6, 4, True),   # 2 points
        (6, 5, False),  # 1 point, 17%
        (3, 2, True),   # 1 point but 33%
        (4, 3, False),  # 1 point, 25%
        (10, 8, True),  # 2 points, 20%
        (10, 7, True),
        (1, 1, False),
        (0, 0, False),
        (2, 0, True),
        (4, 6, False),  # worse is not improvement
    ],
)
def test_meaningful_fall_at_two_points_or_thirty_percent(
    first: int, latest: int, improved: bool
) -> None:
    assert progress.meaningful_fall(first, latest) is improved


def test_pain_change_compares_first_and_latest_before_scores() -> None:
    change = progress.pain_change(sessions((7, 2, None, None), (6, 2, None, None),
                                           (5, 2, None, None)))
    assert change == progress.PainChange(first=7, latest=5)
    assert (change.fall, change.improved, change.worsened) == (2, True, False)


def test_pain_change_needs_two_scores() -> None:
    assert progress.pain_change(sessions((7, 2, None, None))) is None
    missing = sessions((7, 2, None, None), (None, 2, None, None))
    assert progress.pain_change(missing) is None


def test_meaningful_worsening_is_reported() -> None:
    change = progress.pain_change(sessions((3, 2, None, None), (5, 2, None, None)))
    assert change is not None and change.worsened and not change.improved


@pytest.mark.parametrize(
    ("levels", "change", "centralising", "peripheralising"),
    [
        ((3, 2), -1, True, False),
        ((2, 4), 2, False, True),
        ((2, 2), 0, False, False),
        ((2, None), None, False, False),
        ((5,), None, False, False),
    ],
)
def test_centralising_and_peripheralising_compare_with_previous_session(
    levels: tuple[int | None, ...], change: int | None, centralising: bool,
    peripheralising: bool,
) -> None:
    found = progress.signals(sessions(*[(5, lv, None, None) for lv in levels]))
    assert found.extent_change == change
    assert found.centralising is centralising
    assert found.peripheralising is peripheralising


def test_only_the_latest_two_sessions_decide_the_extent_signal() -> None:
    found = progress.signals(sessions((5, 1, None, None), (5, 4, None, None),
                                      (5, 3, None, None)))
    assert found.centralising and not found.peripheralising


@pytest.mark.parametrize(
    ("previous", "following", "reasons"),
    [
        ((5, 2, "firm", None), (5, 2, None, "worse"),
         ("the client said the session left them worse",)),
        ((5, 2, "firm", None), (7, 2, None, "same"),
         ("the pain score rose by 2 points",)),
        ((5, 2, "firm", None), (6, 2, None, "same"), None),  # +1 is not a flare
        ((5, 2, "firm", None), (5, 3, None, "better"),
         ("the symptoms spread further down the leg",)),
        ((5, 2, "firm", None), (5, 1, None, "better"), None),
        ((5, 2, "firm", None), (8, 4, None, "worse"),
         ("the client said the session left them worse",
          "the pain score rose by 3 points",
          "the symptoms spread further down the leg")),
        ((None, None, "firm", None), (8, 4, None, None), None),  # nothing to compare
    ],
)
def test_flare_rules(
    previous: tuple[int | None, int | None, str | None, str | None],
    following: tuple[int | None, int | None, str | None, str | None],
    reasons: tuple[str, ...] | None,
) -> None:
    first, second = sessions(previous, following)
    flare = progress.flare_after(first, second)
    if reasons is None:
        assert flare is None
    else:
        assert flare == progress.Flare(after=first.on, seen_on=second.on,
                                       reasons=reasons)


@pytest.mark.parametrize(
    ("pressure", "lighter"),
    [("firm", "moderate"), ("moderate", "light"), ("light", "light"), (None, None),
     ("bogus", None)],
)
def test_one_pressure_class_lighter(pressure: str | None, lighter: str | None) -> None:
    assert progress.lighter(pressure) == lighter


def test_after_a_flare_the_next_session_defaults_one_class_lighter() -> None:
    found = progress.signals(
        sessions((5, 2, "firm", None), (5, 2, "moderate", "worse"))
    )
    assert found.latest_flare is not None
    assert found.suggested_pressure == "moderate"
    assert found.review_suggested is False


def test_no_flare_no_suggested_pressure() -> None:
    found = progress.signals(
        sessions((5, 2, "firm", None), (5, 2, "firm", "better"))
    )
    assert found.latest_flare is None
    assert (found.suggested_pressure, found.flares) == (None, ())


def test_two_consecutive_flares_suggest_clinician_review() -> None:
    found = progress.signals(sessions(
        (4, 2, "moderate", None), (4, 2, "moderate", "worse"), (6, 2, "light", "same"),
    ))
    assert len(found.flares) == 2
    assert found.review_suggested is True
    assert found.suggested_pressure == "light"


def test_two_flares_that_are_not_consecutive_do_not() -> None:
    found = progress.signals(sessions(
        (4, 2, "moderate", None), (4, 2, "moderate", "worse"),
        (4, 2, "moderate", "better"), (4, 2, "moderate", "worse"),
    ))
    assert len(found.flares) == 2
    assert found.review_suggested is False
    assert found.latest_flare is not None


def test_sentences_name_each_signal_plainly() -> None:
    found = progress.signals(sessions(
        (6, 2, "firm", None), (6, 2, "moderate", "worse"), (4, 4, "light", "worse"),
    ))
    assert progress.sentences(found, 3) == [
        "Two sessions in a row were followed by a flare: suggest a review by a "
        "clinician (doctor or physiotherapist) before continuing.",
        "Peripheralising: symptoms reach further down the leg than at the previous "
        "session. The next intake will flag worsening; prompt a re-screen before the "
        "next booking.",
        "The session on 8 Mar 2027 was followed by a flare: the client said the "
        "session left them worse and the symptoms spread further down the leg. The "
        "session after a flare defaults to one pressure class lighter: light.",
        "Clinically meaningful improvement: pain fell from 6 to 4 out of 10 since the "
        "first session.",
    ]


def test_sentences_for_centralising_and_no_meaningful_change() -> None:
    found = progress.signals(sessions((5, 3, None, None), (5, 2, None, "same")))
    assert progress.sentences(found, 2) == [
        "Centralising: symptoms reach less far down the leg than at the previous "
        "session, a sign of improvement.",
        "No clinically meaningful pain change yet: 5 at the first session, 5 out of "
        "10 now (a fall of 2 points or 30% counts).",
    ]


def test_sentences_without_sessions() -> None:
    found = progress.signals([])
    assert progress.sentences(found, 0) == ["No signed session notes yet."]


@pytest.mark.parametrize(("level", "label"), [(0, "lower back only"), (1, "buttock"),
                                              (5, "foot"), (None, "not recorded"),
                                              (6, "not recorded")])
def test_extent_labels(level: int | None, label: str) -> None:
    assert progress.extent_label(level) == label


# --- the chart (pure SVG) --------------------------------------------------------


def _three() -> list[SessionPoint]:
    return [
        SessionPoint(on=DAY + timedelta(weeks=i), nprs_before=b, nprs_after=a,
                     extent_level=lv)
        for i, (b, a, lv) in enumerate(((7, 5, 4), (6, 4, 3), (4, 2, 2)))
    ]


def test_pain_chart_has_three_points_per_line_and_labels_at_line_ends() -> None:
    svg = chart.pain_chart(_three())
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg
    title = "Pain score before and after each session"
    assert f'<title id="pain-chart-title">{title}</title>' in svg
    assert svg.count('<circle class="point"') == 6
    for series in ("before", "after"):
        group = svg.split(f'data-series="{series}">')[1].split("</g>")[0]
        assert group.count('<circle class="point"') == 3
    assert '<text class="line-label"' in svg
    assert ">Before session</text>" in svg and ">After session</text>" in svg
    assert ">Session date</text>" in svg and ">Pain score (0 to 10)</text>" in svg
    assert ">1 Mar</text>" in svg and ">15 Mar</text>" in svg
    assert "Before the session: 7, 6, 4. After the session: 5, 4, 2." in svg
    assert "style=" not in svg


def test_extent_chart_names_the_levels_and_draws_lower_back_on_top() -> None:
    svg = chart.extent_chart(_three())
    assert svg.count('<circle class="point"') == 3
    assert ">Lower back only</text>" in svg and ">Foot</text>" in svg
    assert "calf, knee, thigh" in svg
    ys = [float(y) for y in re.findall(r'<circle class="point" cx="[^"]+" cy="([^"]+)"',
                                       svg)]
    assert ys[0] > ys[1] > ys[2]  # level 4, 3, 2: higher up the page as it falls


def test_chart_escapes_text_and_breaks_lines_at_missing_values() -> None:
    svg = chart.render(chart.Chart(
        chart_id="x", title="<b>", description="a & b", x_labels=("1", "2", "3"),
        x_title="t", y_title="y", y_max=10, y_ticks=((0, "0"),),
        series=(chart.Series("s", "S<", (1, None, 3), "#000000"),),
    ))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a &amp; b" in svg
    assert "<polyline" not in svg  # no two consecutive values to join
    assert svg.count('<circle class="point"') == 2
