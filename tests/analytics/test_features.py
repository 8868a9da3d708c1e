"""Point-in-time features computed by the database, on every backend."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from analytics.features import (
    CONVERSATION_FEATURES,
    FEATURES,
    TARGET,
    Snapshot,
    load_features,
    to_dataset,
)
from crm.models import Feedback, Ticket
from tests import factories

CUTOFF = date(2026, 6, 1)


def day(text: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(hour=hour)


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    """Four customers around the cut-off 2026-06-01 (horizon 90 days)."""
    plan = factories.plan(session, monthly_price=Decimal("20.00"))
    leaver = factories.customer(
        session, signup_date=date(2025, 1, 1), churned_on=date(2026, 7, 15)
    )
    factories.subscription(
        session,
        leaver,
        plan=plan,
        monthly_price=Decimal("23.00"),
        started_on=date(2025, 1, 1),
        status="cancelled",
        cancelled_on=date(2026, 7, 15),
    )
    for placed, total in (
        ("2026-03-01", "30.00"),
        ("2026-05-20", "50.00"),
        ("2026-07-01", "999.00"),
    ):
        factories.order(session, leaver, placed_at=day(placed), total=Decimal(total))
    talk = factories.conversation(
        session,
        customer_id=leaver.id,
        started_at=day("2026-05-25", 9),
        last_message_at=day("2026-05-25", 10),
        outcome="escalated",
        handoff="requested",
    )
    factories.message(
        session,
        talk,
        intent="complain",
        sentiment="negative",
        created_at=day("2026-05-25", 9),
    )
    factories.message(
        session,
        talk,
        intent="order_status",
        sentiment="neutral",
        confidence=0.3,
        created_at=day("2026-05-25", 10),
    )
    later = factories.conversation(
        session,
        customer_id=leaver.id,
        started_at=day("2026-06-10"),
        last_message_at=day("2026-06-10"),
    )
    factories.message(
        session,
        later,
        intent="complain",
        sentiment="negative",
        created_at=day("2026-06-10"),
    )
    session.add_all(
        [
            Feedback(
                customer_id=leaver.id,
                rating=2,
                text="slow",
                sentiment="negative",
                created_at=day("2026-05-26"),
            ),
            Feedback(customer_id=leaver.id, rating=5, created_at=day("2026-06-20")),
            Ticket(
                customer_id=leaver.id,
                category="handoff",
                subject="help",
                priority="urgent",
                created_at=day("2026-05-25"),
            ),
        ]
    )
    stayer = factories.customer(
        session, signup_date=date(2025, 6, 1), churned_on=date(2026, 10, 1)
    )
    gone = factories.customer(
        session, signup_date=date(2025, 1, 1), churned_on=date(2026, 5, 1)
    )
    future = factories.customer(session, signup_date=date(2026, 7, 1))
    session.flush()
    return {
        "leaver": leaver.id,
        "stayer": stayer.id,
        "gone": gone.id,
        "future": future.id,
    }


def features(session: Session, ids: dict[str, int], **kw: int) -> pd.DataFrame:
    frame = load_features(session.connection(), Snapshot(CUTOFF, 90), **kw)
    return frame[frame["customer_id"].isin(ids.values())].set_index("customer_id")


def test_only_the_past_counts_and_the_label_looks_ahead(
    session: Session, people: dict[str, int]
) -> None:
    frame = features(session, people)
    assert set(frame.index) == {people["leaver"], people["stayer"]}
    row = frame.loc[people["leaver"]]
    assert row["frequency"] == 2
    assert row["monetary"] == pytest.approx(80.0)
    assert row["recency_days"] == 12
    assert row["tenure_days"] == (CUTOFF - date(2025, 1, 1)).days
    assert row["plan"].startswith("plan")
    assert row["price_delta"] == pytest.approx(3.0)
    assert row["conv_contacts_30d"] == 1
    assert row["conv_messages_90d"] == 2
    assert row["conv_negative_share_90d"] == pytest.approx(0.5)
    assert row["conv_complaints_90d"] == 1
    assert row["conv_low_confidence_90d"] == 1
    assert row["conv_escalated_90d"] == 1
    assert row["conv_unresolved_handoffs_90d"] == 1
    assert row["conv_last_sentiment"] == "neutral"
    assert row["conv_rating_mean"] == pytest.approx(2.0)
    assert row["conv_low_ratings_90d"] == 1
    assert row["urgent_tickets_90d"] == 1
    assert row[TARGET] == 1
    stayer = frame.loc[people["stayer"]]
    assert stayer[TARGET] == 0  # leaves after the horizon
    assert stayer["frequency"] == 0
    assert stayer["recency_days"] == stayer["tenure_days"]
    assert stayer["plan"] == "none"
    assert stayer["conv_last_sentiment"] == "none"
    assert pd.isna(stayer["conv_rating_mean"])


def test_chunks_and_samples_give_the_same_rows(
    session: Session, people: dict[str, int]
) -> None:
    whole = features(session, people)
    pieces = features(session, people, chunk_size=1)
    pd.testing.assert_frame_equal(whole, pieces)
    block = (people["leaver"], people["leaver"])
    sampled = load_features(session.connection(), Snapshot(CUTOFF, 90, (block,)))
    assert sampled["customer_id"].tolist() == [people["leaver"]]


def test_unlabelled_snapshot_and_the_documented_columns(
    session: Session, people: dict[str, int]
) -> None:
    frame = load_features(session.connection(), Snapshot(CUTOFF, None))
    assert frame[TARGET].isna().all()
    assert list(frame.columns) == ["customer_id", *FEATURES, TARGET]
    assert all(name.startswith("conv_") for name in CONVERSATION_FEATURES)
    del people


def test_dataset_marks_conversation_columns(
    session: Session, people: dict[str, int]
) -> None:
    frame = features(session, people).reset_index()
    data = to_dataset(
        pd.concat([frame] * 3, ignore_index=True).assign(customer_id=range(6))
    )
    assert data.conversation
    assert set(data.conversation) <= set(CONVERSATION_FEATURES)
    assert not set(data.without_conversation().features) & set(CONVERSATION_FEATURES)
