"""Technique suggestion (screening-rules.md §5, ruleset 1.0.0).

Steps S-BASE, S-KNOTS, S-ACUTE and S-EXCLUDE run in that order (§5.1);
`suggestion_rules` follows §1.4.7. The result is a heuristic for the therapist
(§5.2 honesty note, §9.15), so the reason sentence never promises an effect.
Pure standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from clinic.intake.vocabulary import TECHNIQUE_NAMES

S_BASE = "S-BASE"
S_KNOTS = "S-KNOTS"
S_ACUTE = "S-ACUTE"
S_EXCLUDE = "S-EXCLUDE"
S_BLOCKED = "S-BLOCKED"
SUGGESTION_RULE_IDS: tuple[str, ...] = (S_BASE, S_KNOTS, S_ACUTE, S_EXCLUDE, S_BLOCKED)

# Spine-level compression, or no known cause: gentlest and least specific first.
_GENTLE_FIRST = ("swedish", "neuromuscular", "trigger_point", "deep_tissue")

# S-BASE table (§5.1). An unlisted cause falls back to the gentle ranking,
# which is what normalisation does for an invalid cause anyway (§2.3).
BASE_RANKING: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "tight_muscles": ("deep_tissue", "trigger_point", "neuromuscular", "swedish"),
        "piriformis_syndrome": (
            "neuromuscular",
            "trigger_point",
            "swedish",
            "deep_tissue",
        ),
        "disc_herniation_or_bulge": _GENTLE_FIRST,
        "spinal_stenosis": _GENTLE_FIRST,
        "spondylolisthesis": _GENTLE_FIRST,
        "other": _GENTLE_FIRST,
        "unknown": _GENTLE_FIRST,
    }
)
KNOTS_RANKING: tuple[str, ...] = (
    "trigger_point",
    "deep_tissue",
    "neuromuscular",
    "swedish",
)

# Why the unexcluded first choice was picked, by the step that decided it.
# Worded as suggestions, never as treatment claims (§9.15).
_REASONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "tight_muscles": (
            "Deep tissue massage is suggested as a starting point because it is "
            "aimed at long-standing muscle tension and tightness."
        ),
        "piriformis_syndrome": (
            "Neuromuscular therapy is suggested as a starting point because it is "
            "aimed at a tight buttock muscle that can press on the sciatic nerve."
        ),
        "spine": (
            "Swedish massage is suggested as a starting point because massage cannot "
            "change a problem in the spine itself, and gentle work is least likely "
            "to flare the pain."
        ),
        "unknown": (
            "Swedish massage is suggested as a starting point because, without a "
            "known cause, the gentlest option is the safest choice."
        ),
        S_KNOTS: (
            "Trigger point therapy is suggested as a starting point because it is "
            "aimed at the tender knots you described."
        ),
        S_ACUTE: (
            "Swedish massage is suggested as a starting point because the pain began "
            "less than 6 weeks ago, and gentle work is less likely to flare an "
            "irritated nerve."
        ),
        S_EXCLUDE: (
            "Swedish massage is suggested as a starting point because the firmer "
            "techniques are not suitable right now."
        ),
    }
)
_SPINE_CAUSES = frozenset(
    {"disc_herniation_or_bulge", "spinal_stenosis", "spondylolisthesis"}
)
_BLOCKED_REASON = "No technique is suggested because booking is on hold."


@dataclass(frozen=True)
class Suggestion:
    ranking: tuple[str, ...]
    top: str | None
    suggestion_rules: tuple[str, ...]
    reason: str


def suggest(
    suspected_cause: str,
    muscle_knots: str,
    acute: bool,
    excluded: frozenset[str],
) -> Suggestion:
    """Rank the techniques for a bookable client (§5.1).

    `excluded` is the union of the fired caution rules' exclusions.
    :raise ValueError: if `swedish` is excluded; a bookable outcome never
        excludes it (§1.1 invariant), so this is a caller bug.
    """
    if "swedish" in excluded:
        raise ValueError("swedish cannot be excluded for a bookable outcome")
    knots = suspected_cause == "tight_muscles" and muscle_knots == "yes"
    rules = [S_BASE]
    ranking = BASE_RANKING.get(suspected_cause, _GENTLE_FIRST)
    if knots:
        rules.append(S_KNOTS)
        ranking = KNOTS_RANKING
    if acute:
        rules.append(S_ACUTE)
        ranking = _acute_order(ranking)
    kept = tuple(key for key in ranking if key not in excluded)
    if len(kept) < len(ranking):
        # §1.4.7: S-EXCLUDE is listed only when a technique was actually removed.
        rules.append(S_EXCLUDE)
    reason = _reason(suspected_cause, knots, acute, ranking[0], kept[0])
    return Suggestion(kept, kept[0], tuple(rules), reason)


def blocked() -> Suggestion:
    """The S-BLOCKED result for urgent and refer outcomes (§5.1, §1.4.7)."""
    return Suggestion((), None, (S_BLOCKED,), _BLOCKED_REASON)


def _acute_order(ranking: tuple[str, ...]) -> tuple[str, ...]:
    """S-ACUTE: swedish first, deep_tissue last, the other two keep their order."""
    middle = tuple(key for key in ranking if key not in ("swedish", "deep_tissue"))
    return ("swedish", *middle, "deep_tissue")


def _reason(cause: str, knots: bool, acute: bool, first: str, top: str) -> str:
    """One plain sentence explaining the top pick."""
    if top != first:
        # An exclusion, not the ranking, decided the pick.
        if top == "swedish":
            return _REASONS[S_EXCLUDE]
        return (
            f"{TECHNIQUE_NAMES[top]} is suggested as a starting point because "
            f"{_lower_first(TECHNIQUE_NAMES[first])} is not suitable right now."
        )
    if acute:
        return _REASONS[S_ACUTE]
    if knots:
        return _REASONS[S_KNOTS]
    if cause in _SPINE_CAUSES:
        return _REASONS["spine"]
    return _REASONS.get(cause, _REASONS["unknown"])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
