"""Our SQL tracker store on real SQLite and PostgreSQL (when it answers) databases."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import SQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  language:
    type: text
    mappings: [{type: custom}]
"""
)


POSTGRES = ("127.0.0.1", 5432)


def _postgres_answers() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(POSTGRES) == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store(request, tmp_path: Path) -> Iterator[Callable[[], SQLTrackerStore]]:
    """Makes stores on one fresh database (SQLite file or PostgreSQL database)."""
    if request.param == "sqlite":
        db = str(tmp_path / "crm.sqlite3")
        yield lambda: SQLTrackerStore(DOMAIN, dialect="sqlite", db=db)
        return
    if not _postgres_answers():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"kefu_tracker_test_{uuid.uuid4().hex[:8]}"
    host, port = POSTGRES
    stores: list[SQLTrackerStore] = []

    def make() -> SQLTrackerStore:
        stores.append(
            SQLTrackerStore(
                DOMAIN,
                dialect="postgresql",
                host=host,
                port=port,
                db=name,
                username="root",
                login_db="test",
            )
        )
        return stores[-1]

    yield make
    for store in stores:
        store.engine.dispose()
    admin = sa.create_engine(f"postgresql://root@{host}:{port}/test")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def _settings(store: RasaSQLTrackerStore) -> tuple[str, int]:
    with store.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    return journal, synchronous


def test_sqlite_connections_use_the_crm_settings(tmp_path: Path) -> None:
    ours = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "a.sqlite3"))
    rasas = RasaSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "b.db"))
    assert _settings(ours) == ("wal", 1)  # 1 = NORMAL
    assert _settings(rasas)[1] == 2  # Rasa's default: FULL, an fsync per commit


def test_sqlite_connections_are_reused(tmp_path: Path) -> None:
    """SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool): on a
    loaded server the connect and its pragmas were 8% of Rasa's time."""
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "a.sqlite3"))
    opened = []
    sa.event.listen(store.engine, "connect", lambda *_: opened.append(1))
    for text in ["one", "two", "three"]:
        tracker = asyncio.run(store.get_or_create_tracker("c6"))
        tracker.update(UserUttered(text, {"name": "greet"}))
        asyncio.run(store.save(tracker))
    assert len(opened) == 1
    assert _settings(store) == ("wal", 1)


def test_a_moved_database_file_is_an_error_not_a_silent_write(tmp_path: Path) -> None:
    """A pooled connection keeps the file it opened; once the path names another
    file (here a folder, so nothing can be created there) it is not used."""
    path = tmp_path / "crm.sqlite3"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
    tracker = asyncio.run(store.get_or_create_tracker("c7"))
    tracker.update(UserUttered("one", {"name": "greet"}))
    asyncio.run(store.save(tracker))

    path.rename(tmp_path / "away.sqlite3")
    path.mkdir()
    tracker.update(UserUttered("two", {"name": "greet"}))
    with pytest.raises(sa.exc.OperationalError):
        asyncio.run(store.save(tracker))
    path.rmdir()
    (tmp_path / "away.sqlite3").rename(path)

    assert _stored_texts(store, "c7") == ["one"]
    asyncio.run(store.save(tracker))
    assert _stored_texts(store, "c7") == ["one", "two"]


def test_saved_conversation_comes_back(new_store) -> None:
    store = new_store()
    tracker = asyncio.run(store.get_or_create_tracker("c1"))
    tracker.update(UserUttered("你好 😀 '; DROP TABLE events; --", {"name": "greet"}))
    tracker.update(SlotSet("language", "zh"))
    asyncio.run(store.save(tracker))

    again = asyncio.run(new_store().retrieve("c1"))
    assert again is not None
    assert again.latest_message.text == "你好 😀 '; DROP TABLE events; --"
    assert again.get_slot("language") == "zh"
    assert len(again.events) == len(tracker.events)


def test_read_back_as_rasa_reads_it(new_store) -> None:
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        UserUttered(
            "order A1000448",
            {"name": "order_status", "confidence": 0.97},
            [{"entity": "order_number", "value": "A1000448", "start": 6, "end": 14}],
        ),
        SlotSet("language", "en"),
        ActiveLoop("verification_form"),
        BotUttered("Your email?", {"buttons": []}, {"utter_action": "utter_ask"}),
        FollowupAction("action_listen"),
    ]
    store = new_store()
    tracker = DialogueStateTracker.from_events("c5", events, DOMAIN.slots)
    asyncio.run(store.save(tracker))
    rasas = RasaSQLTrackerStore(DOMAIN, dialect="sqlite", db=":memory:")
    rasas.engine, rasas.sessionmaker = store.engine, store.sessionmaker

    ours = asyncio.run(store.retrieve("c5"))
    theirs = asyncio.run(rasas.retrieve("c5"))
    assert ours.events == theirs.events
    assert ours.current_state() == theirs.current_state()
    assert [type(e) for e in ours.events][-6:] == [type(e) for e in events][-6:]


def _stored_texts(store: SQLTrackerStore, sender: str) -> list[str]:
    full = asyncio.run(store.retrieve_full_tracker(sender))
    return [e.text for e in full.events if isinstance(e, UserUttered)]


def test_repeated_saves_store_each_event_once(new_store) -> None:
    store = new_store()
    tracker = asyncio.run(store.get_or_create_tracker("c2"))
    for text in ["one", "two"]:
        tracker.update(UserUttered(text, {"name": "greet"}))
        asyncio.run(store.save(tracker))
    tracker.update(SessionStarted())  # a new session begins in the same request
    tracker.update(UserUttered("three", {"name": "greet"}))
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))

    assert _stored_texts(store, "c2") == ["one", "two", "three"]
    latest = asyncio.run(store.retrieve("c2"))
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["three"]


def test_tracker_from_elsewhere_is_counted_in_the_database(new_store) -> None:
    store = new_store()
    first = asyncio.run(store.get_or_create_tracker("c3"))
    first.update(UserUttered("one", {"name": "greet"}))
    asyncio.run(store.save(first))

    rebuilt = DialogueStateTracker.from_events("c3", list(first.events), DOMAIN.slots)
    rebuilt.update(UserUttered("two", {"name": "greet"}))
    asyncio.run(store.save(rebuilt))
    assert _stored_texts(store, "c3") == ["one", "two"]


def _rows(store: RasaSQLTrackerStore) -> list[tuple]:
    columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
    with store.engine.connect() as connection:
        query = f"SELECT {columns} FROM events ORDER BY id"
        return [tuple(row) for row in connection.exec_driver_sql(query)]


def test_rows_are_the_ones_rasa_writes(tmp_path: Path) -> None:
    ours = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "a.sqlite3"))
    rasas = RasaSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "b.db"))
    tracker = DialogueStateTracker.from_events(
        "c4",
        [
            UserUttered("hi", {"name": "greet", "confidence": 0.9}),
            ActionExecuted("utter_greet"),
            SlotSet("language", "en"),
        ],
        DOMAIN.slots,
    )
    for store in (ours, rasas):
        asyncio.run(store.save(tracker))
    assert _rows(ours) == _rows(rasas)
    assert [row[3:5] for row in _rows(ours)] == [
        ("greet", None),
        (None, "utter_greet"),
        (None, "language"),  # Rasa files a slot's name under action_name
    ]
