"""A closed-loop load generator: N threads, one http.client connection each.

Each thread sends its next prepared request as soon as the previous answer
has been read, so N is the number of requests in flight. The requests are
shared, so each is sent exactly once; a level stops when they run out or its
time is up. Loopback only. gunicorn's sync workers close the connection after
each answer, so http.client reconnects (the connect is part of the latency,
for both apps alike).
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tests.bench.stats import Timing

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OK, CONFLICT, ERROR = "ok", "conflict", "error"

# (status, Location header, body) -> OK, CONFLICT or ERROR.
Classifier = Callable[[int, str, bytes], str]


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]


@dataclass
class Level:
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # every answer, seconds
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (OK, CONFLICT, ERROR), 0))
    elapsed: float = 0.0
    first_error: str = ""
    server_cpu: float = 0.0  # seconds used by the gunicorn workers meanwhile
    db_cpu: float | None = None  # by the PostgreSQL backends (None: SQLite)
    round_rates: list[float] = field(default_factory=list)  # req/s of each round

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.answered / self.elapsed if self.elapsed else 0.0

    def add(self, part: Level) -> None:
        """Fold in another round of the same level."""
        self.latencies += part.latencies
        for outcome, count in part.outcomes.items():
            self.outcomes[outcome] += count
        self.elapsed += part.elapsed
        self.round_rates.append(part.per_second)
        self.first_error = self.first_error or part.first_error
        self.server_cpu += part.server_cpu
        if part.db_cpu is not None:
            self.db_cpu = (self.db_cpu or 0.0) + part.db_cpu

    def cpu_ms(self, seconds: float | None) -> float | None:
        """CPU per answered request, in milliseconds."""
        if seconds is None or not self.answered:
            return None
        return seconds / self.answered * 1000

    @property
    def timing(self) -> Timing:
        return Timing.of(self.latencies)


def text_of(body: bytes, limit: int = 300) -> str:
    """A response body without its markup, shortened: for error reports."""
    plain = re.sub(r"<[^>]+>", " ", body.decode("utf-8", "replace"))
    return " ".join(plain.split())[:limit]


def run_level(port: int, path: str, requests: Sequence[Request], concurrency: int,
              classify: Classifier, *, time_limit: float) -> Level:
    """POST each request once to ``path`` with ``concurrency`` in flight."""
    level = Level(concurrency)
    pending = iter(requests)
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def next_request() -> Request | None:
        with lock:
            if time.perf_counter() > deadline[0]:
                return None
            return next(pending, None)

    def record(seconds: float, outcome: str, detail: str) -> None:
        with lock:
            level.latencies.append(seconds)
            level.outcomes[outcome] += 1
            if outcome == ERROR and not level.first_error:
                level.first_error = detail

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()
        while (request := next_request()) is not None:
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=request.body, headers=request.headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                record(time.perf_counter() - began, ERROR, repr(exc))
                continue
            seconds = time.perf_counter() - began
            location = response.getheader("Location", "")
            outcome = classify(response.status, location, body)
            record(seconds, outcome, f"{response.status} {location} {text_of(body)}")
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + time_limit
    start.wait()
    for thread in threads:
        thread.join()
    level.elapsed = time.perf_counter() - began
    return level
