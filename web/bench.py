"""How fast the inbox stays on a big conversation log.

    python -m web.bench --messages 1000000 --url sqlite:///var/bench/web.sqlite3

Fills a fresh database (migrated with Alembic) with synthetic conversations of ten
messages each, then times the inbox queries the console runs: the first page, a page
deep in the keyset order, and each filter. Prints one JSON object per query and a
summary line; the figures in docs/web.md come from here.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import typer
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from crm.db import build_engine
from crm.models import Conversation, Feedback, Message
from web.inbox import InboxFilters, conversation_page, encode_cursor, feedback_page

START = datetime(2026, 1, 1)
WORDS = (
    "order",
    "refund",
    "late",
    "parcel",
    "invoice",
    "cancel",
    "help",
    "where",
    "订单",
    "退款",
    "发票",
    "快递",
    "取消",
)


def fill(engine: Engine, messages: int, *, seed: int = 7, batch: int = 20_000) -> int:
    """Insert messages/10 conversations of 10 messages; returns conversations made."""
    rng = random.Random(seed)
    conversations = max(1, messages // 10)
    with engine.begin() as connection:
        for first in range(1, conversations + 1, batch):
            rows, texts = [], []
            for cid in range(first, min(first + batch, conversations + 1)):
                when = START + timedelta(minutes=cid * 3 + rng.randint(0, 2))
                zh = rng.random() < 0.4
                rows.append(
                    {
                        "id": cid,
                        "sender_id": f"bench-{cid}",
                        "language": "zh" if zh else "en",
                        "started_at": when,
                        "last_message_at": when + timedelta(minutes=9),
                        "outcome": rng.choice(
                            ("open", "resolved", "resolved", "escalated")
                        ),
                        "handoff": "requested" if rng.random() < 0.002 else "none",
                        "needs_attention": rng.random() < 0.1,
                    }
                )
                for n in range(10):
                    user = n % 2 == 0
                    texts.append(
                        {
                            "conversation_id": cid,
                            "event_key": f"b{n}",
                            "sender": "user" if user else "bot",
                            "text": " ".join(rng.choice(WORDS) for _ in range(6))
                            + (" zebra" if rng.random() < 0.0005 else ""),
                            "language": "zh" if zh else "en",
                            "intent": "order_status" if user else None,
                            "confidence": rng.random() if user else None,
                            "sentiment": rng.choice(
                                ("negative", "neutral", "neutral", "positive")
                            )
                            if user
                            else None,
                            "created_at": when + timedelta(minutes=n),
                        }
                    )
            connection.execute(insert(Conversation), rows)
            connection.execute(insert(Message), texts)
        connection.execute(
            insert(Feedback),
            [
                {
                    "rating": rng.randint(1, 5),
                    "text": "fine",
                    "language": "en",
                    "sentiment": "neutral",
                    "confidence": 0.9,
                    "created_at": START + timedelta(minutes=n),
                }
                for n in range(conversations // 10)
            ],
        )
    return conversations


def timed(call: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median milliseconds of `repeat` calls, and the last result."""
    spent, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), result


def run(engine: Engine, conversations: int) -> list[dict[str, Any]]:
    deep = conversations // 2
    with Session(engine) as session:
        row = session.get(Conversation, deep)
        assert row is not None
        cursor = encode_cursor(False, row.last_message_at, row.id)
        middle = row.last_message_at.date()
        cases = {
            "first page": (InboxFilters(), None),
            "deep page (keyset)": (InboxFilters(), cursor),
            "negative": (InboxFilters(negative=True), None),
            "low confidence": (InboxFilters(low_confidence=True), None),
            "language zh": (InboxFilters(language="zh"), None),
            "open handoffs": (InboxFilters(status="handoff"), None),
            "date range (one day)": (
                InboxFilters(date_from=middle, date_to=middle),
                None,
            ),
            "text (rare word)": (InboxFilters(text="zebra"), None),
            "negative + zh + text": (
                InboxFilters(negative=True, language="zh", text="退款"),
                None,
            ),
        }
        results = []
        for name, (filters, after) in cases.items():

            def one_page(f: InboxFilters = filters, a: str | None = after) -> Any:
                return conversation_page(session=session, filters=f, after=a, limit=25)

            ms, page = timed(one_page)
            results.append({"query": name, "ms": round(ms, 1), "rows": len(page.rows)})
        ms, page = timed(
            lambda: feedback_page(session=session, filters=InboxFilters(), after=None)
        )
        results.append(
            {"query": "feedback first page", "ms": round(ms, 1), "rows": len(page.rows)}
        )
    return results


def main(
    messages: int = typer.Option(1_000_000, help="Messages to create."),
    url: str = typer.Option("sqlite:///var/bench/web.sqlite3", help="Database URL."),
    schema: str = typer.Option("", help="PostgreSQL schema to (re)create and use."),
) -> None:
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    from crm.settings import ROOT

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    if schema:
        admin = build_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = f"{url}?options=-csearch_path%3D{schema}"
    engine = build_engine(url, must_exist=False)
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["engine"] = engine
    command.upgrade(config, "head")
    started = time.perf_counter()
    conversations = fill(engine, messages)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Message))
    print(
        json.dumps(
            {
                "messages": stored,
                "conversations": conversations,
                "fill_seconds": round(time.perf_counter() - started, 1),
                "backend": engine.dialect.name,
            }
        )
    )
    for result in run(engine, conversations):
        print(json.dumps(result, ensure_ascii=False))
    engine.dispose()


if __name__ == "__main__":
    typer.run(main)
