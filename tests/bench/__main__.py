"""``python -m tests.bench`` (``make bench``): run the issue #4 benchmark.

Options: ``--db sqlite|postgresql|both`` (default both), ``--quick`` (about a
minute), ``--profile`` (where the booking POST spends its time), ``--save``
(also write the summary to tests/bench/results/<time>.txt, not in git),
``--history`` (instead: booking INSERTs against a growing history).
PostgreSQL: ``BENCH_DATABASE_URL``, default
postgresql+psycopg://postgres@127.0.0.1:5432/test_bench (created if missing;
its public schema is dropped, so the name must contain "bench" or "test").
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from tests.bench import history, report, runner, seed
from tests.bench.database import database

RESULTS = Path(__file__).parent / "results"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"),
                        default="both")
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--profile", action="store_true",
                        help="profile the booking POST in process")
    parser.add_argument("--history", action="store_true",
                        help="instead: time booking INSERTs as the history grows")
    parser.add_argument("--save", action="store_true",
                        help="also write the summary under tests/bench/results/")
    return parser.parse_args()


def _header(args: argparse.Namespace, sizes: runner.Sizes,
            runs: list[runner.DatabaseRun], load_before: float) -> list[str]:
    first = runs[0].seeded
    return [
        f"Clinic benchmark, issue #4 ({'quick' if args.quick else 'full'} run, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        f"Machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.2f} "
        f"before, {os.getloadavg()[0]:.2f} after (other work on the machine skews "
        f"figures), "
        f"Python {platform.python_version()}; "
        + ", ".join(f"{r.name} run {r.seconds:.0f} s" for r in runs),
        f"Data: {len(first.therapist_ids)} therapists (Mon-Fri 09:00-17:00), "
        f"{len(first.service_ids)} services, {first.bookings} bookings over "
        f"{seed.WEEKS} weeks from tomorrow ({first.occupancy:.0%} of working "
        f"hours), {len(first.clients)} clients with a fresh re-screen; "
        f"the day and week start {first.first_workday}.",
        "App: tests/bench/clinic_app.py = create_app() in production config "
        "(CSRF on, mail kept in the outbox), Secure cookies off for http, "
        "fast password hash for bench users (login is not timed).",
        f"Load: {sizes.per_level} POSTs per level after {sizes.warmup_requests} "
        "warm-up, each a distinct client and free slot (60-minute service, "
        "named therapist).",
    ]


def main() -> None:
    args = _arguments()
    sizes = runner.QUICK if args.quick else runner.FULL
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    if args.history:
        print(history.run(kinds, names))
        return
    runs = []
    load_before = os.getloadavg()[0]
    from clinic.db import make_engine

    for kind in kinds:
        with database(kind) as url:
            engine = make_engine(url)
            try:
                runs.append(runner.run_database(names[kind], url, engine, sizes,
                                                profile=args.profile))
            finally:
                engine.dispose()
    text, all_ok = report.summary(_header(args, sizes, runs, load_before),
                                  runs)
    text += f"\n\nOverall: {'every target met' if all_ok else 'targets missed'}."
    print(text)
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC):%Y%m%d-%H%M%S}.txt"
        path.write_text(text + "\n")
        runner.say(f"written to {path}")


if __name__ == "__main__":
    main()
