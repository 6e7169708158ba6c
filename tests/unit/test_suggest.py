"""Technique suggestion, screening-rules.md §5 and §1.4.7."""

from __future__ import annotations

import pytest

from clinic.intake.suggest import (
    BASE_RANKING,
    KNOTS_RANKING,
    Suggestion,
    blocked,
    suggest,
)
from clinic.intake.vocabulary import ALL, NO_DEEP, TECHNIQUE_NAMES

NOTHING: frozenset[str] = frozenset()
DEEP = frozenset({"deep_tissue"})
GENTLE = ("swedish", "neuromuscular", "trigger_point", "deep_tissue")


@pytest.mark.parametrize(
    ("cause", "ranking"),
    [
        ("tight_muscles", ("deep_tissue", "trigger_point", "neuromuscular", "swedish")),
        (
            "piriformis_syndrome",
            ("neuromuscular", "trigger_point", "swedish", "deep_tissue"),
        ),
        ("disc_herniation_or_bulge", GENTLE),
        ("spinal_stenosis", GENTLE),
        ("spondylolisthesis", GENTLE),
        ("other", GENTLE),
        ("unknown", GENTLE),
    ],
)
def test_s_base_ranking(cause, ranking):
    result = suggest(cause, "no", False, NOTHING)
    assert result == Suggestion(ranking, ranking[0], ("S-BASE",), result.reason)
    assert BASE_RANKING[cause] == ranking


def test_s_knots_needs_tight_muscles_and_knots_yes():
    result = suggest("tight_muscles", "yes", False, NOTHING)
    assert result.ranking == (
        "trigger_point",
        "deep_tissue",
        "neuromuscular",
        "swedish",
    )
    assert result.ranking == KNOTS_RANKING
    assert result.suggestion_rules == ("S-BASE", "S-KNOTS")


@pytest.mark.parametrize(
    ("cause", "knots"),
    [
        ("tight_muscles", "no"),
        ("tight_muscles", "not_sure"),
        ("piriformis_syndrome", "yes"),
        ("unknown", "yes"),
        ("disc_herniation_or_bulge", "yes"),
    ],
)
def test_s_knots_does_not_fire(cause, knots):
    result = suggest(cause, knots, False, NOTHING)
    assert result.suggestion_rules == ("S-BASE",)
    assert result.ranking == BASE_RANKING[cause]


@pytest.mark.parametrize(
    ("cause", "knots", "ranking", "rules"),
    [
        (
            "tight_muscles",
            "no",
            ("swedish", "trigger_point", "neuromuscular", "deep_tissue"),
            ("S-BASE", "S-ACUTE"),
        ),
        (
            "tight_muscles",
            "yes",
            ("swedish", "trigger_point", "neuromuscular", "deep_tissue"),
            ("S-BASE", "S-KNOTS", "S-ACUTE"),
        ),
        (
            "piriformis_syndrome",
            "no",
            ("swedish", "neuromuscular", "trigger_point", "deep_tissue"),
            ("S-BASE", "S-ACUTE"),
        ),
        ("unknown", "no", GENTLE, ("S-BASE", "S-ACUTE")),
        ("spinal_stenosis", "yes", GENTLE, ("S-BASE", "S-ACUTE")),
    ],
)
def test_s_acute_moves_swedish_first_and_deep_tissue_last(cause, knots, ranking, rules):
    result = suggest(cause, knots, True, NOTHING)
    assert result.ranking == ranking
    assert result.top == "swedish"
    assert result.suggestion_rules == rules


@pytest.mark.parametrize(
    ("cause", "knots", "acute", "excluded", "ranking", "rules"),
    [
        (
            "tight_muscles",
            "no",
            False,
            DEEP,
            ("trigger_point", "neuromuscular", "swedish"),
            ("S-BASE", "S-EXCLUDE"),
        ),
        (
            "tight_muscles",
            "yes",
            False,
            DEEP,
            ("trigger_point", "neuromuscular", "swedish"),
            ("S-BASE", "S-KNOTS", "S-EXCLUDE"),
        ),
        (
            "tight_muscles",
            "yes",
            False,
            NO_DEEP,
            ("swedish",),
            ("S-BASE", "S-KNOTS", "S-EXCLUDE"),
        ),
        (
            "piriformis_syndrome",
            "no",
            False,
            DEEP,
            ("neuromuscular", "trigger_point", "swedish"),
            ("S-BASE", "S-EXCLUDE"),
        ),
        (
            "piriformis_syndrome",
            "no",
            True,
            NO_DEEP,
            ("swedish",),
            ("S-BASE", "S-ACUTE", "S-EXCLUDE"),
        ),
        (
            "spondylolisthesis",
            "no",
            False,
            DEEP,
            ("swedish", "neuromuscular", "trigger_point"),
            ("S-BASE", "S-EXCLUDE"),
        ),
        (
            "tight_muscles",
            "yes",
            True,
            DEEP,
            ("swedish", "trigger_point", "neuromuscular"),
            ("S-BASE", "S-KNOTS", "S-ACUTE", "S-EXCLUDE"),
        ),
    ],
)
def test_s_exclude(cause, knots, acute, excluded, ranking, rules):
    result = suggest(cause, knots, acute, excluded)
    assert result.ranking == ranking
    assert result.top == ranking[0]
    assert result.suggestion_rules == rules


# §5.2 quick-reference table, one row per case.
@pytest.mark.parametrize(
    ("situation", "cause", "knots", "acute", "excluded", "top"),
    [
        (
            "chronic tight, no knots",
            "tight_muscles",
            "no",
            False,
            NOTHING,
            "deep_tissue",
        ),
        (
            "chronic tight + knots",
            "tight_muscles",
            "yes",
            False,
            NOTHING,
            "trigger_point",
        ),
        (
            "chronic tight, deep excluded",
            "tight_muscles",
            "no",
            False,
            DEEP,
            "trigger_point",
        ),
        (
            "chronic piriformis",
            "piriformis_syndrome",
            "no",
            False,
            NOTHING,
            "neuromuscular",
        ),
        (
            "chronic piriformis, deep excluded",
            "piriformis_syndrome",
            "no",
            False,
            DEEP,
            "neuromuscular",
        ),
        ("acute tight + knots", "tight_muscles", "yes", True, NOTHING, "swedish"),
        ("acute piriformis", "piriformis_syndrome", "no", True, NOTHING, "swedish"),
        ("disc", "disc_herniation_or_bulge", "no", False, NOTHING, "swedish"),
        ("stenosis", "spinal_stenosis", "yes", False, NOTHING, "swedish"),
        ("spondylolisthesis", "spondylolisthesis", "no", False, DEEP, "swedish"),
        ("other", "other", "no", False, NOTHING, "swedish"),
        ("unknown", "unknown", "no", False, NOTHING, "swedish"),
        ("NO_DEEP, tight", "tight_muscles", "yes", False, NO_DEEP, "swedish"),
        ("NO_DEEP, piriformis", "piriformis_syndrome", "no", False, NO_DEEP, "swedish"),
    ],
)
def test_quick_reference_table(situation, cause, knots, acute, excluded, top):
    assert suggest(cause, knots, acute, excluded).top == top, situation


def test_unlisted_cause_falls_back_to_the_gentle_ranking():
    assert suggest("sciatica", "yes", False, NOTHING).ranking == GENTLE


def test_excluding_swedish_is_a_caller_bug():
    with pytest.raises(ValueError, match="swedish"):
        suggest("unknown", "no", False, ALL)


def test_blocked():
    result = blocked()
    assert result.ranking == ()
    assert result.top is None
    assert result.suggestion_rules == ("S-BLOCKED",)
    assert result.reason


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ("tight_muscles", "no", False, NOTHING),
            "Deep tissue massage is suggested as a starting point because it is "
            "aimed at long-standing muscle tension and tightness.",
        ),
        (
            ("tight_muscles", "yes", False, NOTHING),
            "Trigger point therapy is suggested as a starting point because it is "
            "aimed at the tender knots you described.",
        ),
        (
            ("tight_muscles", "no", False, DEEP),
            "Trigger point therapy is suggested as a starting point because deep "
            "tissue massage is not suitable right now.",
        ),
        (
            ("piriformis_syndrome", "no", False, NO_DEEP),
            "Swedish massage is suggested as a starting point because the firmer "
            "techniques are not suitable right now.",
        ),
        (
            ("tight_muscles", "yes", True, NOTHING),
            "Swedish massage is suggested as a starting point because the pain began "
            "less than 6 weeks ago, and gentle work is less likely to flare an "
            "irritated nerve.",
        ),
        (
            ("spinal_stenosis", "no", False, NOTHING),
            "Swedish massage is suggested as a starting point because massage cannot "
            "change a problem in the spine itself, and gentle work is least likely "
            "to flare the pain.",
        ),
        (
            ("unknown", "no", False, DEEP),
            "Swedish massage is suggested as a starting point because, without a "
            "known cause, the gentlest option is the safest choice.",
        ),
    ],
)
def test_reason_explains_the_top_pick(args, reason):
    assert suggest(*args).reason == reason


@pytest.mark.parametrize(
    "cause", [*BASE_RANKING, "sciatica"], ids=lambda cause: f"cause={cause}"
)
@pytest.mark.parametrize("knots", ["yes", "no"])
@pytest.mark.parametrize("acute", [True, False])
@pytest.mark.parametrize(
    "excluded", [NOTHING, DEEP, NO_DEEP], ids=["none", "deep", "no_deep"]
)
def test_every_combination_is_consistent(cause, knots, acute, excluded):
    result = suggest(cause, knots, acute, excluded)
    assert set(result.ranking) == ALL - excluded
    assert result.top == result.ranking[0]
    assert result.suggestion_rules[0] == "S-BASE"
    assert ("S-EXCLUDE" in result.suggestion_rules) == bool(excluded)
    assert ("S-ACUTE" in result.suggestion_rules) is acute
    # One plain sentence naming the suggested technique, with no treatment claim.
    assert result.reason.startswith(TECHNIQUE_NAMES[result.top])
    assert result.reason.endswith(".")
    assert result.reason.count(". ") == 0
    for claim in ("will cure", "will fix", "treats"):
        assert claim not in result.reason
