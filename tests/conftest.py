"""Real database fixtures: every data-layer test runs on SQLite and, when it answers,
on PostgreSQL, each test inside an outer transaction that is rolled back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from crm.db import build_engine, migrate

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
POSTGRES_SCHEMA = f"kefu_test_{os.getpid()}"
"""A schema per test run, so runs side by side never share tables."""


def postgres_engine() -> Engine | None:
    """An engine on a fresh schema of the test PostgreSQL, or None if it is down."""
    admin = build_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))
    except Exception:
        return None
    finally:
        admin.dispose()
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{POSTGRES_SCHEMA}"
    return build_engine(url)


def drop_postgres_schema() -> None:
    admin = build_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
    admin.dispose()


def backends() -> list[str]:
    wanted = os.environ.get("TEST_BACKENDS", "sqlite,postgresql")
    return [name for name in wanted.split(",") if name]


@pytest.fixture(scope="session", params=backends())
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database per backend, shared by the whole test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "crm.sqlite3"
        built = build_engine(f"sqlite:///{path}", must_exist=False)
    else:
        maybe = postgres_engine()
        if maybe is None:
            pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
        built = maybe
    migrate(built)
    yield built
    built.dispose()
    if request.param == "postgresql":
        drop_postgres_schema()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every change is rolled back when the test ends."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint"
        ) as db_session:
            yield db_session
        outer.rollback()
