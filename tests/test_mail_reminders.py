"""Reminders go out exactly once per booking and start time, however many
senders run, at once or one after the other; and the two commands that
run them."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking import reminders
from clinic.booking.cli import run_worker, stop_on_signals
from clinic.booking.models import Booking, BookingStatus
from clinic.db import new_session, utcnow
from clinic.mail.models import MailStatus, OutboxMessage
from clinic.mail.sender import backend_for, deliver_due
from tests.smtp import SmtpSink
from tests.test_mail_booking import arrange_booking

HOURS = 24


def _queue(app: Flask, **kwargs: object) -> int:
    with app.app_context(), new_session(app) as db:
        count = reminders.queue_due_reminders(
            db, now=kwargs.pop("now", utcnow()), hours_before=HOURS, **kwargs)
        db.commit()
    return count


def _deliver(app: Flask) -> tuple[int, int]:
    return deliver_due(app.extensions["clinic.sessionmaker"],
                       backend_for(app.config), app.config)


def _together(count: int, work: Callable[[], object]) -> list[object]:
    """Run ``work`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _reminders_to(smtp_sink: SmtpSink, client: User) -> list[str]:
    return [m["Subject"] for m in smtp_sink.to(client.email)
            if m["Subject"].startswith("Reminder:")]


@pytest.fixture
def soon(db: Session, make_user: Callable[..., User]) -> list[Booking]:
    """Three sessions inside the reminder window."""
    now = utcnow().replace(second=0, microsecond=0)
    return [arrange_booking(db, make_user, starts_at=now + timedelta(hours=h))
            for h in (1, 5, 23)]


def test_due_sessions_get_one_reminder_each(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink,
    soon: list[Booking],
) -> None:
    now = utcnow()
    arrange_booking(db, make_user, starts_at=now + timedelta(hours=HOURS, minutes=5))
    arrange_booking(db, make_user, starts_at=now - timedelta(minutes=5))
    for status in (BookingStatus.CANCELLED, BookingStatus.PENDING):
        arrange_booking(db, make_user, starts_at=now + timedelta(hours=2),
                        status=status)

    assert _queue(app, now=now) == 3
    assert _queue(app, now=now) == 0
    keys = set(db.scalars(select(OutboxMessage.dedupe_key)))
    assert keys == {f"reminder:{b.id}:{b.starts_at:%Y%m%dT%H%M}" for b in soon}
    assert _deliver(app) == (3, 0)
    for booking in soon:
        client = db.get(User, booking.client_id)
        local = booking.starts_at.astimezone(ZoneInfo("Europe/London"))
        assert _reminders_to(smtp_sink, client) == [
            f"Reminder: your {booking.service.name} on {local:%a %d %b, %H:%M %Z}"
        ]


def test_two_senders_at_once_queue_and_deliver_each_reminder_once(
    app: Flask, db: Session, smtp_sink: SmtpSink, soon: list[Booking]
) -> None:
    queued = _together(2, lambda: _queue(app))
    assert sorted(queued) == [0, 3]
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 3

    sent = _together(2, lambda: _deliver(app))
    assert sum(s for s, _ in sent) == 3  # type: ignore[misc]
    for booking in soon:
        assert len(_reminders_to(smtp_sink, db.get(User, booking.client_id))) == 1
    assert set(db.scalars(select(OutboxMessage.status))) == {MailStatus.SENT}
    assert _deliver(app) == (0, 0)


def test_a_lost_race_on_the_unique_key_is_skipped_not_an_error(
    app: Flask, db: Session, soon: list[Booking], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other sender's row was committed after we looked: the insert hits
    the UNIQUE constraint, its SAVEPOINT rolls back, the rest goes on."""
    assert _queue(app) == 3
    db.execute(update(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"reminder:{soon[1].id}:%")).values(
        dedupe_key="moved-away"))
    monkeypatch.setattr(reminders, "_already_queued", lambda _db, _keys: set())

    assert _queue(app) == 1  # only the one whose key was free
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 4


def test_a_rescheduled_session_gets_a_reminder_for_its_new_time(
    app: Flask, db: Session, soon: list[Booking]
) -> None:
    assert _queue(app) == 3
    moved = soon[0]
    db.execute(update(Booking).where(Booking.id == moved.id).values(
        starts_at=moved.starts_at + timedelta(hours=2),
        ends_at=moved.ends_at + timedelta(hours=2),
        blocks_until=moved.blocks_until + timedelta(hours=2)))
    assert _queue(app) == 1
    assert _queue(app) == 0


def test_reminders_name_no_link_when_no_host_is_known(
    app: Flask, db: Session, smtp_sink: SmtpSink, soon: list[Booking]
) -> None:
    app.config["SERVER_NAME"] = None  # the CLI cannot build links then
    assert _queue(app) == 3
    _deliver(app)
    body = smtp_sink.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "http" not in body
    assert "call us on 020 7946 0000" in body


def test_send_reminders_command_queues_then_delivers(
    app: Flask, db: Session, smtp_sink: SmtpSink, soon: list[Booking]
) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["clinic", "send-reminders"])
    assert first.exit_code == 0, first.output
    assert first.output == "reminders queued: 3; mail sent: 3, failed: 0\n"
    second = runner.invoke(args=["clinic", "send-reminders"])
    assert second.output == "reminders queued: 0; mail sent: 0, failed: 0\n"
    assert len(smtp_sink.messages) == 3


def test_send_reminders_prints_mail_on_the_console_backend(
    app: Flask, soon: list[Booking], smtp_sink: SmtpSink
) -> None:
    app.config["MAIL_BACKEND"] = "console"
    result = app.test_cli_runner().invoke(args=["clinic", "send-reminders",
                                                "--hours-before", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("---- mail to ") == 1
    assert f"Reminder: your {soon[0].service.name}" in result.output
    assert result.output.endswith("reminders queued: 1; mail sent: 1, failed: 0\n")
    assert smtp_sink.messages == []


def test_send_reminders_refuses_a_silly_window(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["clinic", "send-reminders",
                                                "--hours-before", "0"])
    assert result.exit_code == 2
    assert "0 is not in the range" in result.output


def test_the_worker_runs_until_stopped(
    app: Flask, smtp_sink: SmtpSink, soon: list[Booking]
) -> None:
    stop = threading.Event()
    stop.set()  # stop after the first run
    lines: list[str] = []
    assert run_worker(app, interval=60, stop=stop, echo=lines.append) == 1
    assert len(lines) == 1
    assert lines[0].endswith("reminders queued: 3; mail sent: 3, failed: 0")
    assert len(smtp_sink.messages) == 3


def test_the_worker_survives_a_database_outage(
    app: Flask, soon: list[Booking], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*_args: object, **_kwargs: object) -> int:
        raise OperationalError("SELECT", {}, Exception("database is down"))

    monkeypatch.setattr("clinic.booking.cli.queue_due_reminders", down)
    stop = threading.Event()
    stop.set()
    lines: list[str] = []
    assert run_worker(app, interval=60, stop=stop, echo=lines.append) == 1
    assert lines == []


def test_sigterm_and_ctrl_c_stop_the_worker_loop() -> None:
    before = signal.getsignal(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGINT):
        stop = threading.Event()
        with stop_on_signals(stop):
            signal.raise_signal(sig)
            assert stop.is_set()
    assert signal.getsignal(signal.SIGTERM) is before


def test_mail_worker_command_runs_a_cycle_and_stops_on_a_signal(
    app: Flask, smtp_sink: SmtpSink, soon: list[Booking],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = stop_on_signals

    @contextmanager
    def signalled_at_once(stop: threading.Event) -> Iterator[None]:
        with real(stop):
            signal.raise_signal(signal.SIGTERM)  # as if `kill` came right away
            yield

    monkeypatch.setattr("clinic.booking.cli.stop_on_signals", signalled_at_once)
    result = app.test_cli_runner().invoke(
        args=["clinic", "mail-worker", "--interval", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Mail worker: every 5 s; stop with Ctrl-C or SIGTERM."
    assert lines[1].endswith("reminders queued: 3; mail sent: 3, failed: 0")
    assert lines[2] == "Mail worker stopped after 1 run."
    assert len(smtp_sink.messages) == 3
