"""``flask clinic send-reminders`` (for cron) and ``flask clinic mail-worker``
(a long-running alternative). Both queue due reminders, then deliver due
mail; reminders are queued once only however many of them run."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from clinic.booking.reminders import queue_due_reminders
from clinic.db import new_session, utcnow
from clinic.mail.sender import backend_for, deliver_due
from clinic.settings.services import load_settings


@dataclass(frozen=True)
class MailRun:
    queued: int
    sent: int
    failed: int

    def __str__(self) -> str:
        return (f"reminders queued: {self.queued}; "
                f"mail sent: {self.sent}, failed: {self.failed}")


def run_mail_once(app: Flask, hours_before: int | None = None) -> MailRun:
    """Queue due reminders (committed), then deliver every due message."""
    config = app.config
    hours = hours_before or config["REMINDER_HOURS_BEFORE"]
    # Reminder mail is rendered from templates: that needs an app context.
    with app.app_context(), new_session(app) as db:
        queued = queue_due_reminders(
            db, now=utcnow(), hours_before=hours,
            settings=load_settings(db, config),
        )
        db.commit()
    sent, failed = deliver_due(
        app.extensions["clinic.sessionmaker"], backend_for(config), config
    )
    return MailRun(queued, sent, failed)


_HOURS = click.IntRange(1, 24 * 14)


@click.command("send-reminders")
@with_appcontext
@click.option("--hours-before", type=_HOURS, default=None,
              help="Remind this many hours ahead (default REMINDER_HOURS_BEFORE).")
def send_reminders_command(hours_before: int | None) -> None:
    """Queue due appointment reminders and deliver due mail (cron: every
    5-15 minutes)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(str(run_mail_once(app, hours_before)))


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGTERM or Ctrl-C (SIGINT) instead of dying mid-send."""
    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler)
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(
    app: Flask,
    *,
    interval: int,
    stop: threading.Event,
    echo: Callable[[str], None],
    hours_before: int | None = None,
) -> int:
    """Run ``run_mail_once`` every ``interval`` seconds until ``stop`` is set.
    Returns the number of cycles run. A failed cycle (database or network
    down) is logged and retried at the next tick rather than ending the
    worker."""
    cycles = 0
    while True:
        cycles += 1
        try:
            result = run_mail_once(app, hours_before)
        except (SQLAlchemyError, OSError):
            app.logger.exception("mail worker cycle failed; retrying next tick")
        else:
            if result.queued or result.sent or result.failed:
                echo(f"{utcnow():%Y-%m-%d %H:%M:%S}Z {result}")
        # Event.wait returns at once when a signal sets the event.
        if stop.wait(interval):
            return cycles


@click.command("mail-worker")
@with_appcontext
@click.option("--interval", type=click.IntRange(5, 3600), default=60,
              show_default=True, help="Seconds between runs.")
@click.option("--hours-before", type=_HOURS, default=None,
              help="Remind this many hours ahead (default REMINDER_HOURS_BEFORE).")
def mail_worker_command(interval: int, hours_before: int | None) -> None:
    """Queue reminders and deliver mail every INTERVAL seconds until stopped
    (SIGTERM or Ctrl-C)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    click.echo(f"Mail worker: every {interval} s; stop with Ctrl-C or SIGTERM.")
    with stop_on_signals(stop):
        cycles = run_worker(app, interval=interval, stop=stop, echo=click.echo,
                            hours_before=hours_before)
    click.echo(f"Mail worker stopped after {cycles} run{'' if cycles == 1 else 's'}.")


commands: list[click.Command] = [send_reminders_command, mail_worker_command]
