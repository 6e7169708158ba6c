"""SQLite writers take turns on a file lock beside the database
(``clinic.db._WriterQueue``): held from BEGIN IMMEDIATE to the end of the
transaction, however it ends, and never by readers. These run on a file of
their own, whichever database the suite uses."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from clinic.db import WRITE_OPTION, make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def writer(engine: Engine) -> Session:
    return Session(engine.execution_options(**{WRITE_OPTION: True}))


def turn_taken(engine: Engine) -> bool:
    """Whether some writer holds the turn (tried from a file of our own)."""
    fd = os.open(f"{engine.url.database}-writers.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def test_a_writer_holds_the_turn_until_it_commits(engine: Engine) -> None:
    with writer(engine) as db:
        assert not turn_taken(engine)
        db.execute(text("INSERT INTO t VALUES (1)"))
        assert turn_taken(engine)
        db.commit()
        assert not turn_taken(engine)
        db.execute(text("INSERT INTO t VALUES (2)"))  # a second transaction
        assert turn_taken(engine)
        db.rollback()
        assert not turn_taken(engine)
    with Session(engine) as db:
        assert db.scalars(text("SELECT n FROM t")).all() == [1]


def test_closing_without_committing_gives_the_turn_back(engine: Engine) -> None:
    db = writer(engine)
    db.execute(text("INSERT INTO t VALUES (1)"))
    assert turn_taken(engine)
    db.close()
    assert not turn_taken(engine)


def test_readers_never_take_a_turn(engine: Engine) -> None:
    with Session(engine) as db:
        db.execute(text("SELECT count(*) FROM t"))
        assert not turn_taken(engine)


def test_writers_in_other_threads_wait_for_the_commit(engine: Engine) -> None:
    order: list[str] = []
    first = writer(engine)
    first.execute(text("INSERT INTO t VALUES (1)"))

    def second() -> None:
        with writer(engine) as db:
            db.execute(text("INSERT INTO t VALUES (2)"))
            order.append("second wrote")
            db.commit()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=0.3)
    assert thread.is_alive() and order == []  # waiting for its turn
    order.append("first committed")
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert order == ["first committed", "second wrote"]


def test_in_memory_databases_have_no_queue() -> None:
    engine = make_engine("sqlite://")
    with writer(engine) as db:
        db.execute(text("SELECT 1"))
        db.commit()
    engine.dispose()
