"""Console benchmark: the inbox's queries on a million messages, before and after
migration 0003 (the pg_trgm index behind the free-text search).

    .venv-app/bin/python -m benchmarks.console --customers 115000
    .venv-app/bin/python -m benchmarks.console --customers 115000 \
        --database-url postgresql+psycopg://root@127.0.0.1:5432/test

Seeds a fresh database with benchmarks/seed.py (`crm.seed`; 115,000 customers make
about a million messages), then times every inbox query the console runs (a page of
25 with counts, previews and names; median of --repeat) with the schema at migration
0002 ("before") and again at head ("after", which on PostgreSQL builds the trigram
index; on SQLite 0003 changes nothing). Prints one JSON line per stage and query, and
a summary line. `--keep` keeps the seeded database; `--no-seed` reuses a kept one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from benchmarks import seed as seed_bench
from crm.db import build_engine, migrate
from crm.models import Conversation, Customer, Message
from web.inbox import InboxFilters, conversation_page, encode_cursor, feedback_page

BEFORE = "0002"
ORDER_NUMBER = re.compile(r"A\d{7}")


def alembic(engine: Engine, action: str, revision: str) -> float:
    """Run `alembic upgrade|downgrade revision` on `engine`; seconds taken."""
    started = time.perf_counter()
    migrate(engine, revision, action)
    return time.perf_counter() - started


def analyze(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median milliseconds of `repeat` calls (after one warm-up), and the result."""
    result = call()
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), result


def cases(session: Session) -> dict[str, tuple[InboxFilters, str | None]]:
    """The filters to time, with values taken from the seeded data."""
    total = session.scalar(select(func.count()).select_from(Conversation)) or 1
    middle = session.scalars(
        select(Conversation)
        .order_by(Conversation.last_message_at.desc())
        .offset(total // 2)
        .limit(1)
    ).one()
    cursor = encode_cursor(middle.needs_attention, middle.last_message_at, middle.id)
    day = middle.last_message_at.date()
    mention = session.scalars(
        select(Message.text)
        .where(Message.conversation_id >= middle.id, Message.text.like("%A1%"))
        .limit(50)
    ).all()
    number = next(m.group(0) for t in mention if (m := ORDER_NUMBER.search(t)))
    email = session.scalar(
        select(Customer.email)
        .join(Conversation, Conversation.customer_id == Customer.id)
        .where(Conversation.id >= middle.id)
        .limit(1)
    )
    return {
        "first page": (InboxFilters(), None),
        "deep page (keyset)": (InboxFilters(), cursor),
        "negative": (InboxFilters(negative=True), None),
        "low confidence": (InboxFilters(low_confidence=True), None),
        "language zh": (InboxFilters(language="zh"), None),
        "open handoffs": (InboxFilters(status="handoff"), None),
        "date range (one day)": (InboxFilters(date_from=day, date_to=day), None),
        "text: an order number": (InboxFilters(text=number), None),
        "text: a word in no message": (InboxFilters(text="zebra"), None),
        "text: an uncommon word": (InboxFilters(text="declined"), None),
        "text: a common word": (InboxFilters(text="refund"), None),
        "text: Chinese, 4 characters": (InboxFilters(text="真人客服"), None),
        "text: Chinese, 2 characters": (InboxFilters(text="闪退"), None),
        "text: a customer's email": (InboxFilters(text=email), None),
        "negative + zh + 退款": (
            InboxFilters(negative=True, language="zh", text="退款"),
            None,
        ),
    }


def measure(engine: Engine, stage: str, repeat: int) -> list[dict[str, Any]]:
    """Time every case, and the feedback inbox's first page."""
    results = []
    with Session(engine) as session:
        for name, (filters, after) in cases(session).items():

            def one_page(f: InboxFilters = filters, a: str | None = after) -> Any:
                return conversation_page(session=session, filters=f, after=a, limit=25)

            ms, page = timed(one_page, repeat)
            results.append(
                {
                    "stage": stage,
                    "query": name,
                    "ms": round(ms, 1),
                    "rows": len(page.rows),
                }
            )
        ms, page = timed(
            lambda: feedback_page(session=session, filters=InboxFilters(), after=None),
            repeat,
        )
        results.append(
            {
                "stage": stage,
                "query": "feedback first page",
                "ms": round(ms, 1),
                "rows": len(page.rows),
            }
        )
    for result in results:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return results


def seeded_engine(args: argparse.Namespace) -> tuple[Engine, dict[str, Any]]:
    """An engine on the benchmark database, seeded now unless --no-seed."""
    figures: dict[str, Any] = {}
    if not args.no_seed:
        figures = seed_bench.run(
            argparse.Namespace(
                customers=args.customers,
                seed=args.seed,
                as_of="2026-11-01",
                database_url=args.database_url,
                sqlite=args.sqlite,
                keep=True,
                progress=False,
            )
        )
    if args.database_url:
        sep = "&" if "?" in args.database_url else "?"
        url = f"{args.database_url}{sep}options=-csearch_path%3D{seed_bench.SCHEMA}"
    else:
        url = f"sqlite:///{args.sqlite}"
    return build_engine(url), figures


def drop(args: argparse.Namespace) -> None:
    """Remove the benchmark database (schema or file)."""
    if args.database_url:
        seed_bench.postgres_execute(
            args.database_url, f"DROP SCHEMA IF EXISTS {seed_bench.SCHEMA} CASCADE"
        )
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=115_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--sqlite", help="SQLite file (default: a temporary one)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-seed", action="store_true", help="reuse a kept one")
    args = parser.parse_args(argv)
    if not args.database_url and not args.sqlite:
        args.sqlite = str(Path(tempfile.mkdtemp(prefix="kefu-console-")) / "crm.db")
    load = os.getloadavg()
    engine, seeded = seeded_engine(args)
    with Session(engine) as session:
        messages = session.scalar(select(func.count()).select_from(Message))
    downgrade_s = alembic(engine, "downgrade", BEFORE)
    analyze(engine)
    before = measure(engine, "before", args.repeat)
    upgrade_s = alembic(engine, "upgrade", "head")
    analyze(engine)
    after = measure(engine, "after", args.repeat)
    engine.dispose()
    if not args.keep:
        drop(args)
    summary = {
        "backend": engine.dialect.name,
        "messages": messages,
        "seed_seconds": seeded.get("seconds"),
        "downgrade_seconds": round(downgrade_s, 1),
        "upgrade_seconds": round(upgrade_s, 1),
        "before_ms": {r["query"]: r["ms"] for r in before},
        "after_ms": {r["query"]: r["ms"] for r in after},
        "load_average_before": [round(x, 2) for x in load],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
