"""The summary table: figures for each database, then the targets, PASS/FAIL."""

from __future__ import annotations

from collections.abc import Sequence

from tests.bench.load import CONFLICT, ERROR, OK, Level
from tests.bench.runner import LEVELS, DatabaseRun
from tests.bench.stats import Timing

WEEK_TARGET_MS = 25.0
THROUGHPUT_SHARE = 0.5  # the app's req/s at c=8 over the floor's, at least
P99_FACTOR = 3.0  # the app's p99 at c=8 over the floor's, less than
TARGET_LEVEL = 8


def _triple(t: Timing) -> str:
    return f"{t.median_ms:8.2f} {t.p99_ms:8.2f} {t.cpu_median_ms:8.2f}"


def free_slot_table(runs: Sequence[DatabaseRun]) -> list[str]:
    rows = (
        ("slots.free_slots (pure), 1 therapist-day", "pure_day"),
        ("slots.free_slots (pure), 10 therapists x 7 days", "pure_week"),
        ("available_slots (+DB), 1 therapist-day", "service_day"),
        ("available_slots (+DB), all 10 therapists, 7 days", "service_week"),
        ("  the same over an unbooked week (week 6)", "empty_week"),
    )
    n = runs[0].free.pure_day.n
    head = "".join(f"  {r.name:>26}" for r in runs)
    lines = [f"Free slots in process, ms (n={n} each after warm-up; cpu: median "
             "CPU time of the benchmark process)",
             f"{'':50}{head}",
             f"{'':50}" + "".join(f"  {'median':>8} {'p99':>8} {'cpu':>8}"
                                  for _ in runs)]
    for label, attr in rows:
        lines.append(f"{label:50}" + "".join(
            f"  {_triple(getattr(r.free, attr))}" for r in runs))
    found = ", ".join(f"{r.name}: {r.free.day_slots} that day, "
                      f"{r.free.week_slots} that week, {r.free.empty_week_slots} "
                      "in week 6" for r in runs)
    lines.append(f"  (free 60-minute starts found: {found})")
    return lines


def _cpu(value: float | None) -> str:
    return f"{value:>8.1f}" if value is not None else f"{'-':>8}"


def _level_row(db: str, app: str, level: Level) -> str:
    t, o = level.timing, level.outcomes
    return (f"{db:12}{app:7}{level.concurrency:>5}{level.per_second:>8.1f}"
            f"{t.median_ms:>8.1f}{t.p99_ms:>8.1f}{_cpu(level.cpu_ms(level.server_cpu))}"
            f"{_cpu(level.cpu_ms(level.db_cpu))}{level.answered:>6}"
            f"  {o[OK]}/{o[CONFLICT]}/{o[ERROR]}")


def booking_table(runs: Sequence[DatabaseRun]) -> list[str]:
    lines = ["Booking POST through gunicorn, 2 sync workers, loopback "
             "(CPU: ms per request, gunicorn workers / PostgreSQL backends)",
             f"{'database':12}{'app':7}{'conc':>5}{'req/s':>8}{'p50 ms':>8}"
             f"{'p99 ms':>8}{'app CPU':>8}{'DB CPU':>8}{'n':>6}  ok/conflict/error"]
    for run in runs:
        for app, levels in (("app", run.clinic), ("floor", run.floor)):
            lines += [_level_row(run.name, app, levels[c]) for c in LEVELS
                      if c in levels]
    errors = [f"{run.name} {app} c={c}: {level.first_error}"
              for run in runs for app, levels in (("app", run.clinic),
                                                  ("floor", run.floor))
              for c, level in levels.items() if level.first_error]
    return lines + [f"  first error, {e}" for e in errors]


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def targets(runs: Sequence[DatabaseRun]) -> tuple[list[str], bool]:
    lines, all_ok = ["Targets (issue #4)"], True
    for run in runs:
        week = run.free.service_week
        ok = week.median_ms < WEEK_TARGET_MS
        lines.append(f"  {_mark(ok)}  {run.name}: free slots, all 10 therapists x 7 "
                     f"days, median {week.median_ms:.1f} ms < {WEEK_TARGET_MS:.0f} ms"
                     f" (CPU {week.cpu_median_ms:.1f} ms)")
        all_ok &= ok
        app, floor = run.clinic.get(TARGET_LEVEL), run.floor.get(TARGET_LEVEL)
        if app is None or floor is None:
            continue
        clean = app.outcomes[ERROR] == 0 and floor.outcomes[ERROR] == 0
        share = app.per_second / floor.per_second if floor.per_second else 0.0
        ok = share >= THROUGHPUT_SHARE and clean
        lines.append(f"  {_mark(ok)}  {run.name}: booking req/s at c=8 "
                     f"{app.per_second:.1f} >= {THROUGHPUT_SHARE:g} x floor "
                     f"{floor.per_second:.1f} (ratio {share:.2f})"
                     + ("" if clean else " [errors]"))
        all_ok &= ok
        lines.append("        " + _round_note(app, floor))
        factor = app.timing.p99_ms / floor.timing.p99_ms
        ok = factor < P99_FACTOR and clean
        lines.append(f"  {_mark(ok)}  {run.name}: booking p99 at c=8 "
                     f"{app.timing.p99_ms:.1f} ms < {P99_FACTOR:g} x floor "
                     f"{floor.timing.p99_ms:.1f} ms (ratio {factor:.2f})"
                     + ("" if clean else " [errors]"))
        all_ok &= ok
        lines.append("        " + _cpu_note(app, floor))
    return lines, all_ok


def _round_note(app: Level, floor: Level) -> str:
    """The ratio round by round (app and floor take turns): how much of the
    pooled ratio is the machine's other work rather than the apps."""
    ratios = [a / f for a, f in zip(app.round_rates, floor.round_rates, strict=True)
              if f]
    return ("(ratio in each round: " + ", ".join(f"{r:.2f}" for r in ratios) + ")"
            if ratios else "")


def _cpu_note(app: Level, floor: Level) -> str:
    """CPU per request varies less with other load on the machine than
    req/s: on a CPU-bound box the floor's share is what the app can reach."""
    app_cpu = (app.cpu_ms(app.server_cpu) or 0) + (app.cpu_ms(app.db_cpu) or 0)
    floor_cpu = (floor.cpu_ms(floor.server_cpu) or 0) + (floor.cpu_ms(floor.db_cpu)
                                                         or 0)
    share = floor_cpu / app_cpu if app_cpu else 0.0
    return (f"(CPU per booking at c=8, workers + database: app {app_cpu:.1f} ms, "
            f"floor {floor_cpu:.1f} ms; floor/app {share:.2f})")


def summary(header: Sequence[str], runs: Sequence[DatabaseRun]) -> tuple[str, bool]:
    target_lines, all_ok = targets(runs)
    lines = [*header, "", *free_slot_table(runs), "", *booking_table(runs), "",
             *target_lines]
    for run in runs:
        if run.profile:
            lines += ["", f"Profile of the booking POST, {run.name}", run.profile]
    return "\n".join(lines), all_ok
