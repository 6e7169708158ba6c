"""Talking to the real app over HTTP as a client does: log in, book.

Logging in is preparation (not timed): GET /login gives the session cookie
and a CSRF token, POST /login gives the logged-in cookie (the token stays
valid: it lives in the session). The timed request is then the booking form's
POST /booking/confirm with that cookie and token, CSRF on, the real path.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from tests.bench.load import CONFLICT, ERROR, FORM, OK, Request, text_of
from tests.bench.plan import Slot
from tests.bench.seed import BENCH_PASSWORD, LOAD_SERVICE, LoadClient, Seeded

COOKIE = "clinic_session"
CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
# What the real app answers a client who lost the time (services.TAKEN and
# the "already taken" refusal).
TAKEN = (b"That time was just taken", b"That time is already taken")


@dataclass(frozen=True)
class LoggedIn:
    client: LoadClient
    cookie: str
    csrf_token: str


def _cookie(response: http.client.HTTPResponse, current: str) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if COOKIE in jar:
            return f"{COOKIE}={jar[COOKIE].value}"
    return current


def log_in(conn: http.client.HTTPConnection, client: LoadClient) -> LoggedIn:
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read()
    cookie = _cookie(response, "")
    found = CSRF.search(page)
    if response.status != 200 or found is None:
        raise RuntimeError(f"GET /login: {response.status} {text_of(page)}")
    token = found.group(1).decode()
    body = urlencode({"csrf_token": token, "email": client.email,
                      "password": BENCH_PASSWORD})
    conn.request("POST", "/login", body=body, headers={**FORM, "Cookie": cookie})
    response = conn.getresponse()
    page = response.read()
    location = response.getheader("Location", "")
    if response.status != 302 or "/login" in location:
        raise RuntimeError(f"POST /login: {response.status} {text_of(page)}")
    return LoggedIn(client, _cookie(response, cookie), token)


def log_in_all(port: int, clients: Sequence[LoadClient], *, threads: int = 8
               ) -> list[LoggedIn]:
    """Log every client in (in parallel), in the order given."""
    done: dict[int, LoggedIn] = {}
    failures: list[BaseException] = []
    pending = iter(enumerate(clients))
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                item = next(pending, None)
            if item is None or failures:
                break
            try:
                done[item[0]] = log_in(conn, item[1])
            except Exception as exc:  # reported below, after the threads stop
                failures.append(exc)
        conn.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    return [done[i] for i in range(len(clients))]


def confirm_requests(seeded: Seeded, sessions: Sequence[LoggedIn],
                     slots: Sequence[Slot]) -> list[Request]:
    """One POST /booking/confirm per (logged-in client, slot)."""
    return [
        Request(
            urlencode({
                "csrf_token": s.csrf_token,
                "service_id": seeded.service_ids[LOAD_SERVICE],
                "technique": seeded.technique,
                "therapist_id": slot.therapist_id,
                "start": slot.start.isoformat(),
                "screening_id": s.client.screening_id,
            }).encode(),
            {**FORM, "Cookie": s.cookie},
        )
        for s, slot in zip(sessions, slots, strict=True)
    ]


def classify(status: int, location: str, body: bytes) -> str:
    """Booked: a redirect to the booking's page. Lost the time: the page
    offering other times. Anything else is an error."""
    if status == 302 and "/booking/" in location:
        return OK
    if status == 200 and any(message in body for message in TAKEN):
        return CONFLICT
    return ERROR
