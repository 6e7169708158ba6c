"""The floor: the least a booking request can do on the same database.

``POST /book`` runs one conflict query (half-open overlap on the therapist's
active bookings, buffers included) and one insert, then commits: no login,
no CSRF, no templates, no screening gate, no audit, no mail. Everything the
insert needs comes in the form, so nothing else is read. Served by gunicorn
like the real app (``tests.bench.floor_app:make_app()``), on the same tables.

It uses the app's engine set-up (``clinic.db.make_engine`` with the writing
option), so both apps pay the same durability costs and get the same
locking: on SQLite WAL with ``synchronous=FULL``, ``BEGIN IMMEDIATE`` (without
it two workers' check and insert would race or fail with "database is
locked") and the writers' file-lock queue; on PostgreSQL READ COMMITTED, where
the exclusion constraint refuses a lost race (409).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from flask import Flask, request
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def make_app() -> Flask:
    """Gunicorn calls this factory; importing the module builds nothing."""
    from clinic.booking.models import Booking
    from clinic.db import WRITE_OPTION, make_engine

    engine = make_engine(os.environ["DATABASE_URL"]).execution_options(
        **{WRITE_OPTION: True}
    )
    booking = Booking.__table__
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> str:
        return "ok"

    @app.post("/book")
    def book() -> tuple[str, int]:
        form = request.form
        therapist_id = int(form["therapist_id"])
        starts_at = datetime.fromisoformat(form["start"])
        ends_at = starts_at + timedelta(minutes=int(form["minutes"]))
        blocks_until = ends_at + timedelta(minutes=int(form["buffer"]))
        client_id = int(form["client_id"])
        with Session(engine) as db:
            clash = db.scalar(
                select(booking.c.id).where(
                    booking.c.therapist_id == therapist_id,
                    booking.c.status.in_(("pending", "confirmed")),
                    booking.c.starts_at < blocks_until,
                    booking.c.blocks_until > starts_at,
                ).limit(1)
            )
            if clash is not None:
                return "taken", 409
            try:
                db.execute(insert(booking).values(
                    client_id=client_id, therapist_id=therapist_id,
                    service_id=int(form["service_id"]), technique=form["technique"],
                    starts_at=starts_at, ends_at=ends_at, blocks_until=blocks_until,
                    status="confirmed", price_pence=int(form["price"]),
                    created_by_id=client_id, created_at=datetime.now(UTC),
                ))
                db.commit()
            except IntegrityError:
                return "taken", 409
        return "booked", 201

    return app
