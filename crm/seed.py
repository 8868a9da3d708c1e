"""Demo data: a realistic, deterministic CRM whose churn depends on service experience.

`seed_demo(engine, customers=N)` writes the catalog (crm/catalog.py) and N customers
with subscriptions, orders, shipments, refunds, invoices, payments, tickets,
conversations, messages and feedback. The generative model lives in crm/seed_gen.py
and crm/seed_chat.py; docs/demo-data.md describes it. Rows are generated per chunk of
customers (memory stays flat) and bulk-written: executemany on SQLite, COPY on
PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select, text

from crm.catalog import PLANS, PRODUCTS
from crm.db import DatabaseError, check_schema, describe
from crm.models import Base, Customer, Plan, Product
from crm.seed_gen import COLUMNS, TABLES, Chunk, Context, Ids, Rows

logger = logging.getLogger(__name__)

CHUNK = 5_000
"""Customers per chunk: part of the seed's identity (same seed, same rows)."""
MAX_CUSTOMERS = 2_000_000
"""Order numbers are "A" + seven digits; two million customers stay well inside."""
KEEP = frozenset({"staff_users", "login_attempts", "ingest_cursor"})
"""Tables that `replace=True` leaves alone; it empties every other CRM table."""


class SeedError(DatabaseError, ValueError):
    """The seed cannot run as asked; the message says what to do instead.

    A `DatabaseError` (one line for the CLI) and a `ValueError` (bad arguments).
    """


def seed_demo(
    engine: Engine,
    *,
    customers: int,
    seed: int = 7,
    as_of: date = date(2026, 11, 1),
    progress: bool = True,
    replace: bool = False,
) -> dict[str, int]:
    """Seed `customers` demo customers as of noon on `as_of`; rows written per table.

    Refuses a database that already has customers unless `replace=True`, which
    first empties every CRM table except staff users, login attempts and the ingest
    cursor.
    """
    _check_args(customers, seed, as_of)
    check_schema(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        _refuse_or_wipe(connection, replace)
        product_ids, plan_ids = _ensure_catalog(connection)
        ids = Ids(_next_ids(connection))
    now = datetime.combine(as_of, clock_time(12))
    ctx = Context(now=now, product_ids=product_ids, plan_ids=plan_ids)
    counts = dict.fromkeys(TABLES, 0)
    with _indexes_after_load(engine), _progress(progress, customers) as advance:
        for size, rows in _chunks(ctx, ids, seed, customers):
            _write_chunk(engine, rows, counts)
            advance(size)
    _finish(engine)
    seconds = time.perf_counter() - started
    logger.info(
        "seeded %d customers into %s in %.1f s: %s",
        customers,
        describe(engine),
        seconds,
        counts,
    )
    return counts


def _chunks(
    ctx: Context, ids: Ids, seed: int, customers: int
) -> Iterator[tuple[int, dict[str, Rows]]]:
    """Chunks of rows, the next one generated in a thread while this one is written.

    Generation is sequential in that one thread (ids carry over from chunk to chunk),
    so the rows do not depend on timing; the overlap only uses the time the database
    driver spends outside the GIL.
    """

    def make(index: int) -> tuple[int, dict[str, Rows]]:
        size = min(CHUNK, customers - index * CHUNK)
        rng = np.random.default_rng([seed, index])
        return size, Chunk(ctx, ids, rng, size, showcase=index == 0).rows()

    total = -(-customers // CHUNK)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed") as pool:
        pending = pool.submit(make, 0)
        for index in range(total):
            ready = pending.result()
            if index + 1 < total:
                pending = pool.submit(make, index + 1)
            yield ready


def _check_args(customers: int, seed: int, as_of: date) -> None:
    if isinstance(customers, bool) or not isinstance(customers, int):
        raise SeedError(f"customers must be a whole number, not {customers!r}")
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise SeedError(
            f"customers must be between 1 and {MAX_CUSTOMERS:,}, not {customers:,}"
        )
    if not isinstance(seed, int) or seed < 0:
        raise SeedError(f"seed must be a non-negative whole number, not {seed!r}")
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        raise SeedError(f"as_of must be a date (YYYY-MM-DD), not {as_of!r}")
    if not date(2000, 1, 1) <= as_of <= date(2100, 1, 1):
        raise SeedError(f"as_of {as_of} is out of range (2000-01-01 .. 2100-01-01)")


# --- preparing the database ------------------------------------------------------


def _refuse_or_wipe(connection: Connection, replace: bool) -> None:
    has = connection.scalar(select(Customer.id).limit(1)) is not None
    if has and not replace:
        raise SeedError(
            "the database already has customers; seeding would mix demo data into "
            "it. Use replace (crm seed --replace) to empty the CRM tables first, "
            "or point DATABASE_URL at an empty, migrated database"
        )
    if not has and not replace:
        return
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP]
    if connection.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            connection.execute(table.delete())
    logger.info("replace: emptied %d CRM tables", len(tables))


def _ensure_catalog(connection: Connection) -> tuple[np.ndarray, np.ndarray]:
    """Insert missing catalog products and plans; their ids in catalog order."""
    have = dict(connection.execute(select(Product.sku, Product.id)).all())
    missing = [p._asdict() for p in PRODUCTS if p.sku not in have]
    if missing:
        connection.execute(insert(Product), missing)
    have_plans = dict(connection.execute(select(Plan.code, Plan.id)).all())
    missing_plans = [p._asdict() for p in PLANS if p.code not in have_plans]
    if missing_plans:
        connection.execute(insert(Plan), missing_plans)
    products = dict(connection.execute(select(Product.sku, Product.id)).all())
    plans = dict(connection.execute(select(Plan.code, Plan.id)).all())
    return (
        np.array([products[p.sku] for p in PRODUCTS]),
        np.array([plans[p.code] for p in PLANS]),
    )


def _next_ids(connection: Connection) -> dict[str, int]:
    tables = Base.metadata.tables
    return {
        name: int(connection.scalar(select(func.max(tables[name].c.id))) or 0) + 1
        for name in TABLES
    }


@contextmanager
def _indexes_after_load(engine: Engine) -> Iterator[None]:
    """On SQLite, build the secondary indexes once after loading, not row by row.

    The seed only runs on a database without customers, so the tables it fills are
    (nearly) empty. Whatever happens, the indexes are rebuilt: the ones dropped, and
    every index the models declare (so an interrupted earlier run heals too).
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    names = ", ".join(f"'{name}'" for name in TABLES)
    with engine.begin() as connection:
        dropped = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND sql IS NOT NULL AND tbl_name IN ({names})"
        ).all()
        for name, _ in dropped:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.begin() as connection:
            for _, sql in dropped:
                connection.exec_driver_sql(sql)
            for name in TABLES:
                for index in Base.metadata.tables[name].indexes:
                    index.create(connection, checkfirst=True)


# --- writing -----------------------------------------------------------------------


def _write_chunk(engine: Engine, rows: dict[str, Rows], counts: dict[str, int]) -> None:
    """One transaction per chunk, tables in foreign-key order."""
    with engine.begin() as connection:
        for name in TABLES:
            data = rows[name]
            if data:
                _write(connection, name, COLUMNS[name], data)
            counts[name] += len(data)


def _write(
    connection: Connection, name: str, columns: Sequence[str], rows: Rows
) -> None:
    if connection.dialect.name == "postgresql":
        _copy(connection, name, columns, rows)
        return
    statement = insert(Base.metadata.tables[name])
    sql = str(statement.compile(dialect=connection.dialect, column_keys=list(columns)))
    for start in range(0, len(rows), 50_000):
        connection.exec_driver_sql(sql, rows[start : start + 50_000])


def _copy(
    connection: Connection, name: str, columns: Sequence[str], rows: Rows
) -> None:
    """PostgreSQL COPY FROM STDIN through psycopg, row by row in its C encoder."""
    raw: Any = connection.connection.driver_connection
    statement = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _finish(engine: Engine) -> None:
    """Move PostgreSQL's id sequences past the ids we chose; refresh statistics."""
    with engine.begin() as connection:
        if connection.dialect.name != "postgresql":
            connection.exec_driver_sql("PRAGMA optimize")
            return
        for name in ("products", "plans", *TABLES):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"coalesce((SELECT max(id) FROM {name}), 0) + 1, false)"
                )
            )
        for name in TABLES:
            connection.exec_driver_sql(f"ANALYZE {name}")


@contextmanager
def _progress(show: bool, total: int) -> Iterator[Any]:
    """A rich progress bar over customers, or a no-op when `show` is false."""
    if not show:
        yield lambda _n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("seeding customers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("seed", total=total)
        yield lambda n: bar.advance(task, n)
