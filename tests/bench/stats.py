"""Summaries of timing samples: median and 99th percentile, in milliseconds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (with 30 samples, p99 is the largest one)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Timing:
    """``n`` samples; median and p99 in milliseconds (wall clock), and the
    median CPU time of this process when it was measured too."""

    n: int
    median_ms: float
    p99_ms: float
    cpu_median_ms: float = math.nan

    @classmethod
    def of(cls, seconds: Sequence[float], cpu: Sequence[float] = ()) -> Timing:
        if not seconds:
            return cls(0, math.nan, math.nan)
        return cls(len(seconds), statistics.median(seconds) * 1000,
                   percentile(seconds, 0.99) * 1000,
                   statistics.median(cpu) * 1000 if cpu else math.nan)
