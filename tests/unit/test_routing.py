"""The id converter's pattern: exactly the ids a row can have."""

from __future__ import annotations

import random
import re

import pytest

from clinic.db import MAX_ID
from clinic.routing import numbers_up_to


@pytest.mark.parametrize("limit", [1, 7, 9, 10, 20, 99, 100, 101, 305, 1000, 2024,
                                   MAX_ID])
def test_the_pattern_matches_one_to_the_limit_and_nothing_else(limit: int) -> None:
    pattern = re.compile(numbers_up_to(limit))
    near = {0, 1, limit - 1, limit, limit + 1, limit * 10, 10 ** len(str(limit))}
    randoms = {random.Random(limit).randrange(0, limit * 3) for _ in range(2000)}
    for number in sorted(near | randoms | set(range(min(limit * 2, 3000)))):
        assert bool(pattern.fullmatch(str(number))) == (1 <= number <= limit), number


def test_leading_zeros_signs_and_spaces_are_not_ids() -> None:
    pattern = re.compile(numbers_up_to(MAX_ID))
    for text in ("01", "007", "-1", "+1", " 1", "1 ", "", "1e3", "٣", "1٣"):
        assert pattern.fullmatch(text) is None, text
