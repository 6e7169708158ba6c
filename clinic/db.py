"""Database wiring: declarative base, engine, one session per request.

Whoever opens a session commits it (a view once, or a CLI command); services
only ``flush``. The teardown handler closes the session, discarding anything
left uncommitted, so a failed request never half-writes.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC on every database.

    SQLite drops offsets silently (pitfalls.md), so values are converted to UTC
    before they are written and marked UTC again when read. Naive values are
    refused: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# The largest id an INTEGER primary key holds (PostgreSQL's is 4 bytes): a
# larger number names no row on either database, and sent as a parameter it
# is an error (SQLite overflows above 2**63, PostgreSQL compares it as numeric
# at best), so ids from outside are checked against it first.
MAX_ID = 2**31 - 1

# Execution option marking a session that will write (see _configure_sqlite).
WRITE_OPTION = "clinic_write"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine, database: str | None) -> None:
    """Make SQLite transactional in the way the booking guarantee needs.

    pysqlite sends BEGIN lazily (only before the first write), so a
    check-then-insert would read outside the transaction. We take over BEGIN:
    a session that writes (``WRITE_OPTION``) starts with BEGIN IMMEDIATE, which
    takes the write lock before its first read, so concurrent writers queue
    instead of racing (pitfalls.md, "Double booking"); read-only sessions use
    a plain BEGIN and never block anyone in WAL mode.
    """
    queue = _WriterQueue(database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "synchronous=FULL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        queue.open(record.info)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        # Sent on the driver's connection: SQLAlchemy's statement machinery
        # (events, an execution context) costs ten times the statement here.
        driver = conn.connection.driver_connection
        if options.get(WRITE_OPTION):
            queue.wait_turn(conn.connection.info)
            driver.execute("BEGIN IMMEDIATE")
        else:
            driver.execute("BEGIN")

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        # Commit here, before SQLAlchemy's own (then empty) commit, so the
        # next writer is woken only once this one's COMMIT is on disk.
        info = conn.connection.info
        if queue.holds(info):
            try:
                conn.connection.driver_connection.execute("COMMIT")
            finally:
                queue.done(info)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        queue.done(conn.connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        queue.done(record.info)  # whatever path ended the transaction

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_conn: Any, record: Any) -> None:
        queue.close(record.info)


_TURNS = threading.local()


def _held_here() -> set[str | None]:
    """The lock files whose turn this thread holds, whichever engine took it
    (two engines may open the same database file)."""
    if not hasattr(_TURNS, "paths"):
        _TURNS.paths = set()
    return _TURNS.paths  # type: ignore[no-any-return]


class _WriterQueue:
    """Writers of one SQLite file wait their turn on an OS file lock.

    SQLite's own busy handler polls with growing sleeps (1, 2, 5, 10 ms ...),
    so a writer waiting behind another's short transaction often sleeps on
    after the lock is free. ``flock`` on a file beside the database wakes the
    next writer as soon as the previous one commits, in every process and
    thread (each connection has its own open file). BEGIN IMMEDIATE still
    takes SQLite's lock: this only orders the clinic's own writers, and a
    crashed process's lock is released with its files. A thread that already
    has a turn (a second writing session) is left to SQLite's busy handler,
    which times out instead of waiting for itself forever. In-memory
    databases and systems without ``fcntl`` keep the busy handler alone.
    """

    _FD, _HELD = "clinic_writer_fd", "clinic_writer_held"

    def __init__(self, database: str | None) -> None:
        usable = fcntl is not None and database and database != ":memory:"
        self.path = (f"{os.path.abspath(database)}-writers.lock"  # type: ignore[arg-type]
                     if usable else None)

    def open(self, info: dict[str, Any]) -> None:
        if self.path is not None:
            info[self._FD] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def close(self, info: dict[str, Any]) -> None:
        self.done(info)
        fd = info.pop(self._FD, None)
        if fd is not None:
            os.close(fd)

    def wait_turn(self, info: dict[str, Any]) -> None:
        fd = info.get(self._FD)
        if fd is None or info.get(self._HELD) or self.path in _held_here():
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        info[self._HELD] = True
        _held_here().add(self.path)

    def holds(self, info: dict[str, Any]) -> bool:
        return bool(info.get(self._HELD))

    def done(self, info: dict[str, Any]) -> None:
        if info.pop(self._HELD, False):
            fcntl.flock(info[self._FD], fcntl.LOCK_UN)
            _held_here().discard(self.path)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine, parsed.database)
        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["clinic.engine"] = engine
    app.extensions["clinic.read_sessionmaker"] = sessionmaker(
        engine, expire_on_commit=False
    )
    app.extensions["clinic.sessionmaker"] = sessionmaker(
        engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
    )
    app.teardown_appcontext(_close_session)


def new_session(app: Flask | None = None, *, write: bool = True) -> Session:
    """A session outside a request (CLI commands, mail sender, tests)."""
    app = app or current_app
    key = "clinic.sessionmaker" if write else "clinic.read_sessionmaker"
    factory: sessionmaker[Session] = app.extensions[key]
    return factory()


def get_session() -> Session:
    """The request's session, opened lazily like flaskr's ``get_db``.

    Requests that may change data get a writing session; GET pages never
    write (style.md) and get a read session that blocks nobody.
    """
    if "db_session" not in g:
        write = not has_request_context() or request.method not in READ_ONLY_METHODS
        g.db_session = new_session(write=write)
    return g.db_session


def get_read_session() -> Session:
    """A session for reads around the work of a request (the logged-in user,
    the clinic settings).

    On SQLite a POST's writing session holds the database's only write lock
    from its first statement, so these reads go through a separate read
    session and the lock starts only when the work itself starts. Elsewhere
    (PostgreSQL locks rows, not the database) they share the request's
    session: a second connection would cost a checkout and round trips.
    """
    if (not has_request_context() or request.method in READ_ONLY_METHODS
            or not _locks_whole_database()):
        return get_session()
    if "db_read_session" not in g:
        g.db_read_session = new_session(write=False)
    return g.db_read_session


def _locks_whole_database() -> bool:
    engine: Engine = current_app.extensions["clinic.engine"]
    return engine.dialect.name == "sqlite"


def _close_session(_exc: BaseException | None) -> None:
    for key in ("db_session", "db_read_session"):
        session: Session | None = g.pop(key, None)
        if session is not None:
            session.close()
