"""Engine and session factory: the one place that connects to the CRM database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from crm.settings import ROOT, get_settings

logger = logging.getLogger(__name__)

SUPPORTED_DIALECTS = ("sqlite", "postgresql")


class DatabaseError(RuntimeError):
    """A database problem explained in one line that says what to do."""


def migrate(engine: Engine, revision: str = "head", action: str = "upgrade") -> None:
    """Alembic `upgrade` (or `downgrade`) of `engine`'s database to `revision`."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["engine"] = engine
    getattr(command, action)(config, revision)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for concurrent readers, foreign keys on, and wait instead of failing.

    pysqlite's own transaction handling is switched off so that SQLAlchemy emits
    BEGIN itself (`_sqlite_begin`): SAVEPOINTs then work, as SQLAlchemy documents.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def build_engine(url: str, *, must_exist: bool = True) -> Engine:
    """An engine for `url`; unsupported or malformed URLs get a clear error."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"DATABASE_URL {url!r} is not a database URL; use for example "
            "sqlite:///var/crm.sqlite3 or postgresql+psycopg://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise DatabaseError(
            f"DATABASE_URL uses {backend!r}; supported: {', '.join(SUPPORTED_DIALECTS)}"
        )
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database, must_exist=must_exist)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def _sqlite_engine(url: str, database: str | None, *, must_exist: bool) -> Engine:
    if database and database != ":memory:":
        path = Path(database)
        if not path.parent.is_dir():
            raise DatabaseError(
                f"the folder of the SQLite database {path} does not exist; "
                "run `make migrate` (or create it) first"
            )
        if must_exist and not path.exists():
            raise DatabaseError(
                f"no database at {path}; run `make migrate` to create it"
            )
    engine = create_engine(url, hide_parameters=True, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock at BEGIN: a read that later writes cannot deadlock."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for `DATABASE_URL`."""
    return build_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """The process-wide session factory."""
    return sessionmaker(get_engine(), expire_on_commit=False)


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with get_sessionmaker().begin() as session:
        yield session


def check_schema(engine: Engine) -> None:
    """Raise a one-line `DatabaseError` unless the database is up and migrated."""
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except DBAPIError as error:
        raise DatabaseError(
            f"cannot open the database ({describe(engine)}): "
            f"{_first_line(error)}; check DATABASE_URL and that the server is running"
        ) from None
    if "alembic_version" not in tables or "customers" not in tables:
        raise DatabaseError(
            f"the database ({describe(engine)}) has no CRM schema; run `make migrate`"
        )


def describe(engine: Engine) -> str:
    """The engine's URL without its password, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
