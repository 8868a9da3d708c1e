"""Customer features computed by the database, streamed in customer-id chunks.

Every figure is "as of" a cut-off date: only rows from before it count, and the
label (churned within `horizon` days after it) looks only after it, so nothing
leaks from the future. Each chunk is one SELECT of grouped sub-queries over a
customer-id range; rows are fetched with `stream_results`, and the connection is
closed before the chunk is handed on, so memory stays bounded by the chunk size
and a SQLite writer is never blocked for long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    FromClause,
    Select,
    Subquery,
    func,
    join,
    literal,
    or_,
    select,
)

from analytics import AnalyticsError
from analytics.dataset import Dataset, from_frame
from crm.ingest import LOW_CONFIDENCE
from crm.models import (
    Conversation,
    Customer,
    Feedback,
    Invoice,
    Message,
    Order,
    Payment,
    Plan,
    Refund,
    Shipment,
    Subscription,
    Ticket,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 100_000
CONVERSATION_PREFIX = "conv_"
COMPLAINT_INTENTS = ("complain",)
CANCEL_INTENTS = ("cancel_subscription", "delete_account", "faq/cancellation_fees")
TARGET = "churned"
ID = "customer_id"

Advance = Callable[[int], None]
Bind = Engine | Connection
"""An engine (a connection per chunk) or one connection (a caller's transaction)."""


def _ignore(_: int) -> None:
    return None


@dataclass(frozen=True)
class Snapshot:
    """Which customers and which day: the cut-off, the label horizon, a sample."""

    cutoff: date
    horizon: int | None = 90
    """Days after the cut-off in which leaving counts as churn; None: no label."""
    blocks: tuple[tuple[int, int], ...] | None = None
    """Only these inclusive customer-id ranges (a sample of blocks); None: all."""

    @property
    def start(self) -> datetime:
        return datetime.combine(self.cutoff, time())

    def since(self, days: int) -> datetime:
        return self.start - timedelta(days=days)


FEATURES: dict[str, str] = {
    "tenure_days": "days from sign-up to the cut-off",
    "language": "the customer's language (en or zh)",
    "plan": "code of the plan subscribed at the cut-off ('none' without one)",
    "active_subscriptions": "subscriptions active at the cut-off",
    "monthly_fee": "what the active subscriptions cost per month",
    "price_delta": "monthly fee minus the plans' list prices (a price change)",
    "cancelled_subscriptions": "subscriptions cancelled before the cut-off",
    "recency_days": "days since the last order (tenure when there is none)",
    "frequency": "orders placed before the cut-off",
    "order_rate": "orders per 30 days of tenure",
    "monetary": "value of those orders",
    "orders_30d": "orders in the 30 days before the cut-off",
    "orders_90d": "orders in the 90 days before the cut-off",
    "spend_90d": "order value in the 90 days before the cut-off",
    "refunds": "refunds requested before the cut-off",
    "refunds_90d": "refunds requested in the last 90 days",
    "refund_amount": "value of refunds requested",
    "late_deliveries_90d": "shipments delivered after their estimate, last 90 days",
    "failed_payments": "failed payment attempts before the cut-off",
    "failed_payments_90d": "failed payment attempts in the last 90 days",
    "tickets": "support tickets opened before the cut-off",
    "tickets_90d": "support tickets opened in the last 90 days",
    "open_tickets": "tickets still unresolved at the cut-off",
    "urgent_tickets_90d": "high or urgent tickets in the last 90 days",
    "conv_contacts_30d": "conversations with the bot, last 30 days",
    "conv_contacts_90d": "conversations with the bot, last 90 days",
    "conv_escalated_90d": "conversations escalated to a human, last 90 days",
    "conv_unresolved_handoffs_90d": "handoffs that did not end resolved, 90 days",
    "conv_abandoned_90d": "conversations abandoned by the customer, 90 days",
    "conv_messages_30d": "messages the customer wrote, last 30 days",
    "conv_messages_90d": "messages the customer wrote, last 90 days",
    "conv_negative_30d": "messages with negative sentiment, last 30 days",
    "conv_negative_90d": "messages with negative sentiment, last 90 days",
    "conv_negative_share_30d": "share of the customer's messages that were negative",
    "conv_negative_share_90d": "the same over 90 days",
    "conv_complaints_90d": "messages with the complain intent, 90 days",
    "conv_cancel_intents_90d": "messages about cancelling (or its fees), 90 days",
    "conv_low_confidence_90d": f"messages the bot understood below {LOW_CONFIDENCE}",
    "conv_last_sentiment": "sentiment of the customer's latest message",
    "conv_feedback": "feedback given before the cut-off",
    "conv_rating_mean": "mean feedback rating (1-5)",
    "conv_low_ratings_90d": "ratings of 1 or 2 in the last 90 days",
    "conv_negative_feedback_90d": "feedback with negative sentiment, 90 days",
}
"""Every feature and what it means (docs/analytics.md shows the same table)."""

CONVERSATION_FEATURES = [f for f in FEATURES if f.startswith(CONVERSATION_PREFIX)]
CATEGORICAL = ("language", "plan", "conv_last_sentiment")


def _grouped(
    name: str,
    customer_id: Any,
    columns: list[Any],
    where: list[Any],
    lo: int,
    hi: int,
    source: FromClause | None = None,
) -> Subquery:
    """Aggregates per customer (`cid`) over the rows of customers in [lo, hi]."""
    query = select(customer_id.label("cid"), *columns)
    if source is not None:
        query = query.select_from(source)
    return (
        query.where(customer_id.between(lo, hi), *where)
        .group_by(customer_id)
        .subquery(name)
    )


def _orders(s: Snapshot, lo: int, hi: int) -> Subquery:
    o = Order
    columns = [
        func.count().label("frequency"),
        func.count().filter(o.placed_at >= s.since(30)).label("orders_30d"),
        func.count().filter(o.placed_at >= s.since(90)).label("orders_90d"),
        func.sum(o.total).label("monetary"),
        func.sum(o.total).filter(o.placed_at >= s.since(90)).label("spend_90d"),
        func.max(o.placed_at).label("last_order_at"),
    ]
    return _grouped("o", o.customer_id, columns, [o.placed_at < s.start], lo, hi)


def _refunds(s: Snapshot, lo: int, hi: int) -> Subquery:
    r = Refund
    columns = [
        func.count().label("refunds"),
        func.count().filter(r.requested_at >= s.since(90)).label("refunds_90d"),
        func.sum(r.amount).label("refund_amount"),
    ]
    source = join(r, Order, Order.id == r.order_id)
    where = [r.requested_at < s.start]
    return _grouped("r", Order.customer_id, columns, where, lo, hi, source)


def _late(s: Snapshot, lo: int, hi: int) -> Subquery:
    sh = Shipment
    where = [
        sh.delivered_at < s.start,
        sh.delivered_at >= s.since(90),
        func.date(sh.delivered_at) > sh.estimated_delivery,
    ]
    columns = [func.count().label("late_deliveries_90d")]
    source = join(sh, Order, Order.id == sh.order_id)
    return _grouped("l", Order.customer_id, columns, where, lo, hi, source)


def _payments(s: Snapshot, lo: int, hi: int) -> Subquery:
    p = Payment
    columns = [
        func.count().label("failed_payments"),
        func.count().filter(p.attempted_at >= s.since(90)).label("failed_payments_90d"),
    ]
    source = join(p, Invoice, Invoice.id == p.invoice_id)
    where = [p.attempted_at < s.start, p.status == "failed"]
    return _grouped("p", Invoice.customer_id, columns, where, lo, hi, source)


def _subscriptions(s: Snapshot, lo: int, hi: int) -> Subquery:
    sub = Subscription
    active = or_(sub.cancelled_on.is_(None), sub.cancelled_on >= s.cutoff)
    columns = [
        func.count().filter(active).label("active_subscriptions"),
        func.sum(sub.monthly_price).filter(active).label("monthly_fee"),
        func.sum(sub.monthly_price - Plan.monthly_price)
        .filter(active)
        .label("price_delta"),
        func.max(Plan.code).filter(active).label("plan"),
        func.count().filter(~active).label("cancelled_subscriptions"),
    ]
    source = join(sub, Plan, Plan.id == sub.plan_id)
    where = [sub.started_on < s.cutoff]
    return _grouped("s", sub.customer_id, columns, where, lo, hi, source)


def _tickets(s: Snapshot, lo: int, hi: int) -> Subquery:
    t = Ticket
    recent = t.created_at >= s.since(90)
    columns = [
        func.count().label("tickets"),
        func.count().filter(recent).label("tickets_90d"),
        func.count()
        .filter(or_(t.resolved_at.is_(None), t.resolved_at >= s.start))
        .label("open_tickets"),
        func.count()
        .filter(recent, t.priority.in_(("high", "urgent")))
        .label("urgent_tickets_90d"),
    ]
    return _grouped("t", t.customer_id, columns, [t.created_at < s.start], lo, hi)


def _conversations(s: Snapshot, lo: int, hi: int) -> Subquery:
    c = Conversation
    recent = c.started_at >= s.since(90)
    handed = c.handoff != "none"
    columns = [
        func.count().filter(c.started_at >= s.since(30)).label("conv_contacts_30d"),
        func.count().filter(recent).label("conv_contacts_90d"),
        func.count()
        .filter(recent, or_(c.outcome == "escalated", handed))
        .label("conv_escalated_90d"),
        func.count()
        .filter(recent, handed, c.outcome != "resolved")
        .label("conv_unresolved_handoffs_90d"),
        func.count()
        .filter(recent, c.outcome == "abandoned")
        .label("conv_abandoned_90d"),
    ]
    return _grouped("c", c.customer_id, columns, [c.started_at < s.start], lo, hi)


def _user_messages(s: Snapshot) -> tuple[FromClause, list[Any]]:
    """Messages with their conversation; the filter: written by the customer, before."""
    m = Message
    source = join(m, Conversation, Conversation.id == m.conversation_id)
    return source, [m.created_at < s.start, m.sender == "user"]


def _messages(s: Snapshot, lo: int, hi: int) -> Subquery:
    m = Message
    recent = m.created_at >= s.since(90)
    negative = m.sentiment == "negative"
    columns = [
        func.count().filter(m.created_at >= s.since(30)).label("conv_messages_30d"),
        func.count().filter(recent).label("conv_messages_90d"),
        func.count()
        .filter(m.created_at >= s.since(30), negative)
        .label("conv_negative_30d"),
        func.count().filter(recent, negative).label("conv_negative_90d"),
        func.count()
        .filter(recent, m.intent.in_(COMPLAINT_INTENTS))
        .label("conv_complaints_90d"),
        func.count()
        .filter(recent, m.intent.in_(CANCEL_INTENTS))
        .label("conv_cancel_intents_90d"),
        func.count()
        .filter(recent, m.confidence < LOW_CONFIDENCE)
        .label("conv_low_confidence_90d"),
    ]
    source, where = _user_messages(s)
    return _grouped("m", Conversation.customer_id, columns, where, lo, hi, source)


def _last_sentiment(s: Snapshot, lo: int, hi: int) -> Subquery:
    m = Message
    source, where = _user_messages(s)
    ranked = (
        select(
            Conversation.customer_id.label("cid"),
            m.sentiment.label("conv_last_sentiment"),
            func.row_number()
            .over(
                partition_by=Conversation.customer_id,
                order_by=(m.created_at.desc(), m.id.desc()),
            )
            .label("rank"),
        )
        .select_from(source)
        .where(
            Conversation.customer_id.between(lo, hi),
            *where,
            m.sentiment.is_not(None),
        )
        .subquery("ranked")
    )
    return (
        select(ranked.c.cid, ranked.c.conv_last_sentiment)
        .where(ranked.c.rank == 1)
        .subquery("ls")
    )


def _feedback(s: Snapshot, lo: int, hi: int) -> Subquery:
    f = Feedback
    recent = f.created_at >= s.since(90)
    columns = [
        func.count().label("conv_feedback"),
        func.avg(f.rating).label("conv_rating_mean"),
        func.count().filter(recent, f.rating <= 2).label("conv_low_ratings_90d"),
        func.count()
        .filter(recent, f.sentiment == "negative")
        .label("conv_negative_feedback_90d"),
    ]
    return _grouped("f", f.customer_id, columns, [f.created_at < s.start], lo, hi)


PARTS = (
    _orders,
    _refunds,
    _late,
    _payments,
    _subscriptions,
    _tickets,
    _conversations,
    _messages,
    _last_sentiment,
    _feedback,
)


def feature_statement(snapshot: Snapshot, lo: int, hi: int) -> Select[Any]:
    """One SELECT: the customers in [lo, hi] eligible at the cut-off, with features.

    Eligible: signed up before the cut-off, not erased, not churned by then.
    """
    c = Customer
    label: Any
    if snapshot.horizon is None:
        label = literal(None).label(TARGET)
    else:
        until = snapshot.cutoff + timedelta(days=snapshot.horizon)
        label = (c.churned_on.is_not(None) & (c.churned_on <= until)).label(TARGET)
    parts = [part(snapshot, lo, hi) for part in PARTS]
    columns: list[Any] = [
        c.id.label(ID),
        c.signup_date,
        c.language,
        label,
    ]
    source = c.__table__
    for part in parts:
        columns += [col for col in part.c if col.name != "cid"]
        source = source.outerjoin(part, part.c.cid == c.id)
    return (
        select(*columns)
        .select_from(source)
        .where(
            c.id.between(lo, hi),
            c.signup_date < snapshot.cutoff,
            c.erased_at.is_(None),
            or_(c.churned_on.is_(None), c.churned_on > snapshot.cutoff),
        )
        .order_by(c.id)
    )


@contextmanager
def connect(bind: Bind) -> Iterator[Connection]:
    """A connection from `bind`: a fresh one for an engine (closed after), else it."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection
    else:
        yield bind


def id_ranges(bind: Bind, chunk_size: int = CHUNK_SIZE) -> list[tuple[int, int]]:
    """Inclusive customer-id ranges of `chunk_size` ids covering every customer."""
    with connect(bind) as connection:
        low, high = connection.execute(
            select(func.min(Customer.id), func.max(Customer.id))
        ).one()
    if low is None:
        return []
    return [
        (lo, min(lo + chunk_size - 1, high)) for lo in range(low, high + 1, chunk_size)
    ]


def iter_feature_chunks(
    bind: Bind,
    snapshot: Snapshot,
    *,
    chunk_size: int = CHUNK_SIZE,
    advance: Advance = _ignore,
) -> Iterator[pd.DataFrame]:
    """Feature frames, one per customer-id range, computed by the database.

    `advance` is called with the number of ids each range covered (a progress bar).
    A snapshot with `blocks` reads only those id ranges (a cheap sample: the
    database never scans the rest).
    """
    for lo, hi in snapshot.blocks or id_ranges(bind, chunk_size):
        statement = feature_statement(snapshot, lo, hi)
        frames = []
        with connect(bind) as connection:
            result = connection.execute(
                statement,
                execution_options={"stream_results": True, "yield_per": 10_000},
            )
            keys = [str(key) for key in result.keys()]  # noqa: SIM118 (Result, not dict)
            for rows in result.partitions():
                frames.append(pd.DataFrame(rows, columns=keys))
        advance(hi - lo + 1)
        if frames:
            yield finish(pd.concat(frames, ignore_index=True), snapshot)


def load_features(
    bind: Bind,
    snapshot: Snapshot,
    *,
    chunk_size: int = CHUNK_SIZE,
    advance: Advance = _ignore,
) -> pd.DataFrame:
    """All chunks in one frame (for training samples and small databases)."""
    chunks = list(
        iter_feature_chunks(bind, snapshot, chunk_size=chunk_size, advance=advance)
    )
    if not chunks:
        return finish(
            pd.DataFrame(columns=[ID, "signup_date", "language", TARGET]), snapshot
        )
    return pd.concat(chunks, ignore_index=True)


def finish(raw: pd.DataFrame, snapshot: Snapshot) -> pd.DataFrame:
    """Derived columns (days, shares), zeros for absent counts, the documented order."""
    frame = raw.copy()
    start = pd.Timestamp(snapshot.start)
    signup = pd.to_datetime(frame.pop("signup_date"))
    frame["tenure_days"] = (start - signup).dt.days.astype(float)
    last = pd.to_datetime(frame.pop("last_order_at"), errors="coerce")
    frame["recency_days"] = ((start - last).dt.days).astype(float)
    frame["recency_days"] = frame["recency_days"].fillna(frame["tenure_days"])
    orders = pd.to_numeric(frame["frequency"]).astype(float).fillna(0.0)
    frame["order_rate"] = 30 * orders / frame["tenure_days"].clip(lower=1)
    for days in (30, 90):
        messages = pd.to_numeric(frame[f"conv_messages_{days}d"]).fillna(0)
        negative = pd.to_numeric(frame[f"conv_negative_{days}d"]).fillna(0)
        share = np.where(messages > 0, negative / messages.where(messages > 0, 1), 0.0)
        frame[f"conv_negative_share_{days}d"] = share
    frame["plan"] = frame["plan"].fillna("none")
    frame["conv_last_sentiment"] = frame["conv_last_sentiment"].fillna("none")
    for name in FEATURES:
        if name in CATEGORICAL:
            frame[name] = frame[name].astype(object)
        elif name != "conv_rating_mean":
            frame[name] = pd.to_numeric(frame[name]).astype(float).fillna(0.0)
    frame["conv_rating_mean"] = pd.to_numeric(frame["conv_rating_mean"]).astype(float)
    if snapshot.horizon is None:
        frame[TARGET] = np.nan
    else:
        frame[TARGET] = frame[TARGET].astype(bool).astype(int)
    frame[ID] = frame[ID].astype(int)
    return frame[[ID, *FEATURES, TARGET]]


def to_dataset(frame: pd.DataFrame, *, like: Dataset | None = None) -> Dataset:
    """The feature frame as a model `Dataset` (conversation columns marked).

    With `like`, the columns and their kinds are copied from it (a holdout must
    have exactly the training columns, even one constant in the holdout).
    """
    if frame.empty:
        raise AnalyticsError("no customers in the snapshot; is the CRM seeded?")
    if like is None:
        return from_frame(
            frame,
            target=TARGET,
            id_column=ID,
            conversation_prefix=CONVERSATION_PREFIX,
            source="the CRM features",
        )
    indexed = frame.set_index(ID)
    return replace(
        like, frame=indexed[like.features], target=indexed[TARGET].astype(int)
    )


def default_as_of(bind: Bind) -> date:
    """The data's "today": the day after the newest order or message, else today."""
    with connect(bind) as connection:
        newest = (
            connection.execute(
                select(func.max(Order.placed_at)).union_all(
                    select(func.max(Message.created_at)),
                    select(func.max(Conversation.last_message_at)),
                )
            )
            .scalars()
            .all()
        )
    days = [pd.Timestamp(value).date() for value in newest if value is not None]
    if not days:
        return date.today()
    return max(days) + timedelta(days=1)
