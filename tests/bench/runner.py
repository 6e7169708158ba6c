"""One database's run: seed, time free slots, load the real app and the floor."""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests.bench import clinic_client, free_slots, plan, seed, server
from tests.bench.load import (
    CONFLICT,
    ERROR,
    FORM,
    OK,
    Classifier,
    Level,
    Request,
    run_level,
)

LEVELS = (1, 8, 32)
CLINIC_APP = "tests.bench.clinic_app:make_app()"
FLOOR_APP = "tests.bench.floor_app:make_app()"


@dataclass(frozen=True)
class Sizes:
    repeat: int  # free-slot samples per measurement
    warmup_calls: int
    per_level: int  # booking requests per concurrency level
    warmup_requests: int  # sent at concurrency 8 before the levels, not reported
    rounds: int  # each level is sent in this many rounds, app and floor taking turns
    time_limit: float  # seconds per round at most
    profiled: int  # in-process bookings for --profile

    @property
    def requests(self) -> int:
        return self.warmup_requests + self.per_level * len(LEVELS)


QUICK = Sizes(repeat=30, warmup_calls=3, per_level=60, warmup_requests=8,
              rounds=2, time_limit=15.0, profiled=10)
FULL = Sizes(repeat=200, warmup_calls=10, per_level=300, warmup_requests=16,
             rounds=3, time_limit=30.0, profiled=20)


@dataclass
class DatabaseRun:
    name: str
    seeded: seed.Seeded
    free: free_slots.FreeSlotFigures
    clinic: dict[int, Level] = field(default_factory=dict)
    floor: dict[int, Level] = field(default_factory=dict)
    profile: str = ""
    seconds: float = 0.0


def say(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def server_env(url: str) -> dict[str, str]:
    return {
        "CLINIC_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "MAIL_BACKEND": "console",
        "MAIL_SEND_ON_COMMIT": "false",
    }


def run_database(name: str, url: str, engine: Engine, sizes: Sizes, *,
                 profile: bool) -> DatabaseRun:
    """``engine`` is the app's (``clinic.db.make_engine``) on a migrated database."""
    began = time.perf_counter()
    clients = sizes.requests + (2 * sizes.profiled if profile else 0)
    seeded = seed.seed(engine, load_clients=clients, now=datetime.now(UTC))
    say(f"{name}: seeded {seeded.bookings} bookings ({seeded.occupancy:.0%} of "
        f"working hours), {clients} clients with fresh screenings")
    figures = free_slots.measure(engine, seeded, repeat=sizes.repeat,
                                 warmup=sizes.warmup_calls)
    run = DatabaseRun(name, seeded, figures)
    say(f"{name}: free slots timed")
    real = plan.real_slots(engine, seeded, clients)
    env = server_env(url)
    _load_both(run, env, sizes, real[:sizes.requests], _db_marker(url))
    if profile:
        from tests.bench.profile_booking import profile_bookings

        say(f"{name}: profiling {sizes.profiled} bookings in process")
        try:
            run.profile = profile_bookings(
                url, seeded, seeded.clients[sizes.requests:], real[sizes.requests:],
                env["SECRET_KEY"])
        except Exception as exc:  # keep the figures already measured
            run.profile = f"Profiling failed: {exc!r}"
    run.seconds = time.perf_counter() - began
    return run


def _db_marker(url: str) -> str:
    """What the PostgreSQL backends serving the bench database show in ps."""
    parsed = make_url(url)
    return f" {parsed.database} " if parsed.get_backend_name() == "postgresql" else ""


def _measured(served: server.Served, db_marker: str, path: str,
              requests: Sequence[Request], concurrency: int, classify: Classifier,
              sizes: Sizes) -> Level:
    """One level, with the CPU the app's workers (and PostgreSQL) spent on it."""
    server_before = served.cpu_seconds()
    db_before = server.cpu_seconds(command_has=db_marker) if db_marker else 0.0
    level = run_level(served.port, path, requests, concurrency, classify,
                      time_limit=sizes.time_limit)
    level.server_cpu = served.cpu_seconds() - server_before
    if db_marker:
        level.db_cpu = server.cpu_seconds(command_has=db_marker) - db_before
    return level


def _load_both(run: DatabaseRun, env: dict[str, str], sizes: Sizes,
               slots: Sequence[plan.Slot], db_marker: str) -> None:
    """Serve both apps and send each the same levels of load, alternating.

    Both servers run at once (the idle one costs nothing) and each level is
    sent in rounds, app and floor taking turns, so bursts of other work on
    the machine affect both alike. Rounds of one level are added together.
    """
    seeded = run.seeded
    floor = _floor_requests(seeded, plan.floor_slots(seeded, len(slots),
                                                      after_days=70))
    with (server.gunicorn(CLINIC_APP, env, ready_path="/login") as app,
          server.gunicorn(FLOOR_APP, env, ready_path="/ping") as floor_app):
        clients = seeded.clients[:len(slots)]
        say(f"{run.name}: logging {len(clients)} clients in")
        sessions = clinic_client.log_in_all(app.port, clients)
        apps = (
            ("app", app, "/booking/confirm", clinic_client.classify,
             clinic_client.confirm_requests(seeded, sessions, slots), run.clinic),
            ("floor", floor_app, "/book", _floor_classify, floor, run.floor),
        )
        for _, served, path, classify, requests, _ in apps:
            run_level(served.port, path, requests[:sizes.warmup_requests], 8,
                      classify, time_limit=sizes.time_limit)
        size = sizes.per_level // sizes.rounds
        for n, concurrency in enumerate(LEVELS):
            first = sizes.warmup_requests + n * sizes.per_level
            for _, _, _, _, _, results in apps:
                results[concurrency] = Level(concurrency)
            for r in range(sizes.rounds):
                start = first + r * size
                for _, served, path, classify, requests, results in apps:
                    results[concurrency].add(_measured(
                        served, db_marker, path, requests[start:start + size],
                        concurrency, classify, sizes))
            for label, _, _, _, _, results in apps:
                _progress(f"{run.name} {label}", results[concurrency])


def _progress(label: str, level: Level) -> None:
    say(f"{label} c={level.concurrency}: {level.per_second:.0f} req/s, "
        f"p50 {level.timing.median_ms:.1f} ms, p99 {level.timing.p99_ms:.1f} ms, "
        f"workers' CPU {level.cpu_ms(level.server_cpu) or 0:.1f} ms/request, "
        f"{level.outcomes}")


def _floor_requests(seeded: seed.Seeded, slots: Sequence[plan.Slot]) -> list[Request]:
    _, minutes, buffer, price = seed.SERVICES[seed.LOAD_SERVICE]
    return [
        Request(urlencode({
            "therapist_id": slot.therapist_id, "client_id": client.user_id,
            "service_id": seeded.service_ids[seed.LOAD_SERVICE],
            "technique": seeded.technique, "start": slot.start.isoformat(),
            "minutes": minutes, "buffer": buffer, "price": price,
        }).encode(), dict(FORM))
        for client, slot in zip(seeded.clients, slots, strict=False)
    ]


def _floor_classify(status: int, _location: str, _body: bytes) -> str:
    return {201: OK, 409: CONFLICT}.get(status, ERROR)
