"""The demo-data generator on real databases: every backend the `engine` fixture
offers, each test seeding fresh databases of its own (the shared one stays clean)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from crm.db import DatabaseError, build_engine, migrate
from crm.models import (
    ORDER_STATUSES,
    Base,
    Conversation,
    Customer,
    Feedback,
    Message,
    Order,
    Plan,
    Refund,
    Shipment,
    ShipmentEvent,
    Subscription,
)
from crm.seed import SeedError, seed_demo
from crm.seed_gen import TABLES, Chunk, Context, Ids
from crm.seed_text import THEMES
from tests.conftest import POSTGRES_URL

AS_OF = date(2026, 11, 1)
MakeDb = Callable[[], Engine]


@pytest.fixture(scope="module")
def make_db(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MakeDb]:
    """Builds fresh, migrated databases on the backend of `engine`."""
    made: list[tuple[Engine, str | None]] = []

    def make() -> Engine:
        if engine.dialect.name == "sqlite":
            path = tmp_path_factory.mktemp("seed") / "crm.sqlite3"
            fresh, schema = build_engine(f"sqlite:///{path}", must_exist=False), None
        else:
            schema = f"kefu_seed_{os.getpid()}_{len(made)}"
            _admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            fresh = build_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
        migrate(fresh)
        made.append((fresh, schema))
        return fresh

    yield make
    for fresh, schema in made:
        fresh.dispose()
        if schema:
            _admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _admin(sql: str) -> None:
    admin = build_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(sql)
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def seeded(make_db: MakeDb) -> tuple[Engine, dict[str, int]]:
    """One seeded demo CRM per backend, shared by the read-only tests below."""
    db = make_db()
    counts = seed_demo(db, customers=1500, seed=11, as_of=AS_OF, progress=False)
    return db, counts


def _count(db: Engine, model: type[Base]) -> int:
    with Session(db) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_counts_match_the_database(seeded: tuple[Engine, dict[str, int]]) -> None:
    db, counts = seeded
    assert counts["customers"] == 1500
    for name, expected in counts.items():
        assert expected > 0, name
        model = Base.metadata.tables[name]
        with db.connect() as connection:
            assert (
                connection.scalar(select(func.count()).select_from(model)) == expected
            )
    assert _count(db, Plan) == 4


def test_same_seed_same_rows_other_seed_other_rows(make_db: MakeDb) -> None:
    first, second = make_db(), make_db()
    for db in (first, second):
        seed_demo(db, customers=120, seed=3, as_of=AS_OF, progress=False)
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        query = select(table).order_by(table.c.id)
        with first.connect() as a, second.connect() as b:
            assert a.execute(query).all() == b.execute(query).all(), table.name
    emails = select(Customer.email).order_by(Customer.id)
    with first.connect() as a:
        assert a.scalars(emails).all() != [row[1] for row in _chunk(seed=4)]


def _chunk(seed: int) -> list[tuple[object, ...]]:
    """The customer rows seed_demo would write for 120 customers with `seed`."""
    ctx = Context(
        now=datetime.combine(AS_OF, time(12)),
        product_ids=np.arange(1, 25),
        plan_ids=np.arange(1, 5),
    )
    ids = Ids(dict.fromkeys(TABLES, 1))
    rng = np.random.default_rng([seed, 0])
    return Chunk(ctx, ids, rng, 120, showcase=True).rows()["customers"]


def test_every_order_status_and_well_formed_numbers(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    db, _ = seeded
    with Session(db) as session:
        statuses = set(session.scalars(select(Order.status).distinct()))
        numbers = session.scalars(select(Order.number).order_by(Order.id)).all()
        refund_statuses = set(session.scalars(select(Refund.status).distinct()))
    assert statuses == set(ORDER_STATUSES)
    assert refund_statuses == {"requested", "approved", "paid", "rejected"}
    assert numbers[0] == "A1000001"
    assert all(re.fullmatch(r"A\d{7}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_shipments_only_for_orders_that_left_the_warehouse(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    db, _ = seeded
    with Session(db) as session:
        shipped = session.execute(
            select(Order.status, func.count(Shipment.id))
            .outerjoin(Shipment, Shipment.order_id == Order.id)
            .group_by(Order.status)
        ).all()
        early_events = session.scalar(
            select(func.count())
            .select_from(ShipmentEvent)
            .join(Shipment, Shipment.id == ShipmentEvent.shipment_id)
            .where(ShipmentEvent.at < Shipment.shipped_at)
        )
        undelivered = session.scalar(
            select(func.count())
            .select_from(Shipment)
            .where(Shipment.status == "delivered", Shipment.delivered_at.is_(None))
        )
    per_status = dict(shipped)
    for status in ("pending", "processing", "cancelled"):
        assert per_status[status] == 0, status
    for status in (
        "shipped",
        "in_transit",
        "out_for_delivery",
        "delivered",
        "returned",
    ):
        assert per_status[status] > 0, status
    assert early_events == 0
    assert undelivered == 0


def test_sqlite_foreign_keys_hold(seeded: tuple[Engine, dict[str, int]]) -> None:
    db, _ = seeded
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL enforced the foreign keys while copying")
    with db.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_churned_customers_leave_for_good(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    db, _ = seeded
    with Session(db) as session:
        late_orders = session.scalar(
            select(func.count())
            .select_from(Order)
            .join(Customer)
            .where(
                Customer.churned_on.is_not(None),
                func.date(Order.placed_at) > Customer.churned_on,
            )
        )
        subs = session.execute(
            select(
                Customer.id,
                Customer.churned_on,
                Subscription.status,
                Subscription.cancelled_on,
            ).join(Subscription, Subscription.customer_id == Customer.id)
        ).all()
        last_talk = session.execute(
            select(Customer.churned_on, func.max(Conversation.started_at))
            .join(Conversation, Conversation.customer_id == Customer.id)
            .where(Customer.churned_on.is_not(None))
            .group_by(Customer.id, Customer.churned_on)
        ).all()
    assert late_orders == 0
    churned = [s for s in subs if s.churned_on is not None]
    assert churned and all(s.status == "cancelled" for s in churned)
    last_cancel: dict[int, date] = {}
    for s in churned:
        last_cancel[s.id] = max(last_cancel.get(s.id, s.cancelled_on), s.cancelled_on)
    assert all(last_cancel[s.id] == s.churned_on for s in churned)
    staying = {
        s.id for s in subs if s.churned_on is None and s.status in ("active", "paused")
    }
    assert staying == {s.id for s in subs if s.churned_on is None}
    assert all(
        left is not None and started.date() <= left + timedelta(days=1)
        for left, started in last_talk
    )


def _timelines(db: Engine) -> tuple[list[Customer], dict[int, list[datetime]]]:
    """Customers, and when each wrote a negative message."""
    with Session(db) as session:
        customers = session.scalars(select(Customer)).all()
        negative = session.execute(
            select(Conversation.customer_id, Message.created_at)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(Message.sender == "user", Message.sentiment == "negative")
        ).all()
    times: dict[int, list[datetime]] = {}
    for customer_id, at in negative:
        if customer_id is not None:
            times.setdefault(customer_id, []).append(at)
    return list(customers), times


def test_churn_rate_is_plausible(seeded: tuple[Engine, dict[str, int]]) -> None:
    db, _ = seeded
    customers, _ = _timelines(db)
    churned = sum(c.churned_on is not None for c in customers) / len(customers)
    assert 0.12 < churned < 0.45
    cut = AS_OF - timedelta(days=90)
    active = [
        c
        for c in customers
        if c.signup_date < cut and (c.churned_on is None or c.churned_on > cut)
    ]
    soon = sum(c.churned_on is not None for c in active) / len(active)
    assert 0.02 < soon < 0.15


def test_negative_conversations_before_a_cutoff_predict_churn_after_it(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    """Point in time: negative messages in the 90 days before a cut-off, churn in the
    90 days after, pooled over three cut-offs."""
    db, _ = seeded
    customers, negative = _timelines(db)
    groups = {True: [0, 0], False: [0, 0]}  # had negative -> [customers, churned]
    for days_back in (90, 180, 270):
        cut = AS_OF - timedelta(days=days_back)
        cut_at = datetime.combine(cut, datetime.min.time())
        for c in customers:
            if c.signup_date >= cut or (c.churned_on and c.churned_on <= cut):
                continue
            had = any(
                cut_at - timedelta(days=90) <= t < cut_at
                for t in negative.get(c.id, ())
            )
            left = c.churned_on is not None and c.churned_on <= cut + timedelta(90)
            groups[had][0] += 1
            groups[had][1] += left
    rate = {k: churned / max(n, 1) for k, (n, churned) in groups.items()}
    assert groups[True][0] >= 100
    assert rate[True] > 1.8 * rate[False]


def test_texts_speak_the_customers_language_and_complaints_recur(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    db, _ = seeded
    with Session(db) as session:
        rows = session.execute(
            select(Message.text, Message.language, Customer.language)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Message.sender == "user")
        ).all()
        complaints = session.execute(
            select(Feedback.text, Feedback.language).where(Feedback.rating <= 2)
        ).all()
        zh_names = session.scalars(
            select(Customer.name_zh).where(Customer.language == "zh")
        ).all()
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert all(lang == customer_lang for _, lang, customer_lang in rows)
    assert all(
        bool(cjk.search(t)) == (lang == "zh")
        for t, lang, _ in rows
        if not re.fullmatch(r"\W*A\d{7}\W*", t)
    )
    assert zh_names and all(n and cjk.search(n) for n in zh_names)
    themes_seen = {
        theme
        for theme, texts in THEMES.items()
        for t, lang in complaints
        if t and lang and any(s in t for s in texts[lang])
    }
    assert len(themes_seen) >= 6


def test_prices_failed_payments_and_languages_vary(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    db, _ = seeded
    with db.connect() as connection:
        changed = connection.scalar(
            text(
                "SELECT count(*) FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
                "WHERE s.monthly_price <> p.monthly_price"
            )
        )
        reasons = connection.scalars(
            text("SELECT DISTINCT failure_reason FROM payments WHERE status = 'failed'")
        ).all()
        zh_share = connection.scalar(
            text(
                "SELECT avg(CASE WHEN language = 'zh' THEN 1.0 ELSE 0.0 END) "
                "FROM customers"
            )
        )
        phones = connection.execute(text("SELECT language, phone FROM customers")).all()
    assert changed and changed > 50
    assert len(reasons) >= 4 and None not in reasons
    assert 0.33 < float(zh_share) < 0.47
    assert all(p.startswith("+86") == (lang == "zh") for lang, p in phones)


def test_refuses_a_database_with_customers_unless_replacing(
    seeded: tuple[Engine, dict[str, int]],
    make_db: MakeDb,
) -> None:
    db, _ = seeded
    with pytest.raises(SeedError, match=r"already has customers.*replace"):
        seed_demo(db, customers=10, progress=False)
    small = make_db()
    seed_demo(small, customers=30, seed=1, progress=False)
    counts = seed_demo(small, customers=40, seed=2, progress=False, replace=True)
    assert counts["customers"] == _count(small, Customer) == 40
    with Session(small) as session:
        first = session.scalar(select(Order.number).order_by(Order.id).limit(1))
        session.add(
            Customer(
                email="after-seed@example.com",
                name_en="After Seed",
                language="en",
                signup_date=AS_OF,
            )
        )
        session.commit()  # the id sequence moved past the seeded ids
    assert first == "A1000001"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, "between 1 and"),
        ({"customers": -5}, "between 1 and"),
        ({"customers": "100"}, "whole number"),
        ({"customers": 10, "seed": -1}, "seed"),
        ({"customers": 10, "as_of": datetime(2026, 1, 1)}, "as_of"),
    ],
)
def test_bad_arguments_are_refused_clearly(
    seeded: tuple[Engine, dict[str, int]], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(SeedError, match=message):
        seed_demo(seeded[0], progress=False, **kwargs)  # type: ignore[arg-type]


def test_an_unmigrated_database_says_what_to_do(tmp_path: Path) -> None:
    bare = build_engine(f"sqlite:///{tmp_path / 'bare.sqlite3'}", must_exist=False)
    with pytest.raises(DatabaseError, match="make migrate"):
        seed_demo(bare, customers=10, progress=False)
    bare.dispose()
