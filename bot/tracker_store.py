"""Rasa's SQL tracker store with less work per message.

Rasa reads a conversation's events before each message and writes the new ones
after it, with the event loop waiting on both. On a loaded Rasa server
(docs/benchmarks.md#latency) these costs of Rasa's SQLTrackerStore stood out, and
this subclass removes them:

* **fsync per commit on SQLite.** Rasa's connections use `synchronous=FULL`; the
  CRM's engine runs SQLite with `synchronous=NORMAL` in WAL mode (crm/db.py), where
  a commit is atomic and survives a crash of the process (only a power cut can
  lose the last commits). Rasa's connections get the same journal and sync
  settings (not the CRM's longer lock wait). Other databases are untouched.
* **A new SQLite connection per read and per save.** SQLAlchemy 1.4 gives SQLite
  files a NullPool, so every session connected and ran the pragmas (8% of a loaded
  server's time); this store keeps its connections in a pool, each used only
  while the database path still names the file it opened.
* **Counting stored events before every save.** Rasa counts the events of the
  latest session in the database to know which of the tracker's events are new.
  A tracker this store read or saved already says how many of its events are
  stored, so only trackers from elsewhere are counted.
* **One INSERT per event.** Rasa adds each new event as an ORM object, which on
  PostgreSQL is one round trip each (`INSERT ... RETURNING id`); this store inserts
  a message's events with one multi-row statement.
* **Whole ORM rows on read, a query built per read.** Only the `data` column is
  read, with a statement built once (the sender is a bound parameter).
* **A search for each event's class.** Rasa looks through every subclass of
  `Event` for each event it reads back; this store looks the class up by name.

Configure it in endpoints.yml (`crm rasa-endpoints` writes this)::

    tracker_store:
      type: bot.tracker_store.SQLTrackerStore
      dialect: sqlite
      db: var/crm.sqlite3
"""

from __future__ import annotations

import itertools
import json
import os
import weakref
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from rasa.core import tracker_store
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The events table row of one event, as Rasa's SQLTrackerStore writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


@lru_cache(maxsize=1)
def _event_classes() -> dict[str, type[Event]]:
    """Event classes by type name; the first of a name wins, as in Rasa's search."""
    classes: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def _event(data: dict[str, Any]) -> Event | None:
    """The event a row's data describes (Rasa's `Event.from_parameters`)."""
    cls = _event_classes().get(data.get("event", ""))
    return cls._from_parameters(data) if cls else Event.from_parameters(data)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL with an fsync at checkpoints only.

    The wait for a locked database stays pysqlite's 5 s, after which the customer
    gets an apology (docs/reliability.md, "Slow database").
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


IN_MEMORY = (None, "", ":memory:")
"""SQLite database names without a file (each connection has a database of its
own, so these are not pooled)."""


def file_identity(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at `path`, or None when there is none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def sqlite_file_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """An engine that keeps its connections to a SQLite file in a pool, with the
    CRM's pragmas. A pooled connection is used only while the path still names the
    file it opened: if the file was moved, deleted or replaced, the connection is
    dropped and a new one opened (or the error raised), so nothing is written
    where no one will read it."""
    engine = sa.create_engine(
        url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
    )
    path = str(url.database)

    @sa.event.listens_for(engine, "connect")
    def opened(dbapi_connection: Any, record: Any) -> None:
        sqlite_pragmas(dbapi_connection, record)
        record.info["file"] = file_identity(path)

    @sa.event.listens_for(engine, "checkout")
    def still_there(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("file") != file_identity(path):
            raise sa.exc.DisconnectionError(f"{path} was moved or replaced")

    return engine


class SQLTrackerStore(tracker_store.SQLTrackerStore):
    """Rasa's SQLTrackerStore that remembers how much of each tracker it stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Creates Rasa's store; SQLite connections get the CRM's settings."""
        super().__init__(*args, **kwargs)
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in IN_MEMORY:
            self.engine.dispose()
            self.engine = sqlite_file_engine(url)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        self._latest_session, self._all_sessions = self._event_statements()
        # id(tracker) -> (weak reference, events stored); trackers are unhashable
        self._stored: dict[int, tuple[weakref.ref, int]] = {}

    def _event_statements(self) -> tuple[sa.sql.Select, sa.sql.Select]:
        """The `data` of a sender's events in order: of the latest session (the
        events from its last `session_started` on, or all when there is none, as
        Rasa's `_event_query`) and of all sessions; built once, sender bound later."""
        events = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(
                events.c.sender_id == sender,
                events.c.type_name == SessionStarted.type_name,
            )
            .scalar_subquery()
        )
        all_sessions = (
            sa.select(events.c.data)
            .where(events.c.sender_id == sender)
            .order_by(events.c.id)
        )
        latest = all_sessions.where(
            sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        )
        return latest, all_sessions

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """The conversation's tracker (latest session or all), or None."""
        statement = (
            self._all_sessions
            if fetch_events_from_all_sessions
            else self._latest_session
        )
        with self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).scalars()
            events = [_event(json.loads(data)) for data in rows]
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_events(
            sender_id, [event for event in events if event], self.domain.slots
        )
        self._remember(tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the tracker's new events, the same columns as Rasa's store."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [
                _row(tracker.sender_id, event)
                for event in self._additional_events(session, tracker)
            ]
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()
        self._remember(tracker)

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator:
        """The tracker's events that are not stored yet."""
        stored = self._stored.get(id(tracker))
        if stored is None or stored[0]() is not tracker:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored[1], len(tracker.events))

    def _remember(self, tracker: DialogueStateTracker) -> None:
        """Notes that all of the tracker's events are stored, until it is freed."""
        key = id(tracker)
        forget = lambda _: self._stored.pop(key, None)  # noqa: E731
        self._stored[key] = (weakref.ref(tracker, forget), len(tracker.events))
