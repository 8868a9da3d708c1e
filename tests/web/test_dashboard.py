"""The feedback dashboard: figures computed in SQL, plots as SVG images."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.models import Feedback, StaffUser
from tests import factories
from tests.factories import NOW
from web.dashboard import Period, feedback_summary, week_of


def add_feedback(db: Session) -> None:
    monday = NOW - timedelta(days=NOW.weekday())
    rows = [
        (5, "positive", "give_feedback", "en", monday),
        (4, "positive", "order_status", "en", monday + timedelta(days=1)),
        (1, "negative", "complain", "zh", monday - timedelta(days=7)),
        (2, "negative", "complain", "en", monday - timedelta(days=6)),
        (None, "neutral", "complain", "zh", monday - timedelta(days=5)),
    ]
    for rating, sentiment, intent, language, when in rows:
        db.add(
            Feedback(
                rating=rating,
                sentiment=sentiment,
                intent=intent,
                language=language,
                text="t",
                created_at=when,
            )
        )
    row = factories.conversation(db)
    factories.message(db, row, sentiment="negative", created_at=monday)
    factories.message(db, row, sentiment="positive", created_at=monday)
    db.commit()


def test_summary_figures(db: Session) -> None:
    add_feedback(db)
    period = Period(NOW.date() - timedelta(days=30), NOW.date())
    summary = feedback_summary(session=db, period=period)
    assert summary.total.count == 5 and summary.total.rated == 4
    assert summary.total.average_rating == 3.0
    complain = summary.by_intent["complain"]
    assert (complain.count, complain.average_rating) == (3, 1.5)
    assert summary.by_language["zh"].share("negative") == 0.5
    this_week = week_of(NOW)
    assert summary.by_week[this_week].count == 2
    messages = summary.message_sentiment_by_week[this_week]
    assert messages.sentiments["negative"] >= 1 and messages.sentiments["positive"] >= 1
    only_zh = feedback_summary(
        session=db, period=Period(period.start, period.end, "zh")
    )
    assert only_zh.total.count == 2


def test_dashboard_page_and_plots(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("analyst")
    add_feedback(db)
    start = (NOW - timedelta(days=30)).date().isoformat()
    end = NOW.date().isoformat()
    page = client.get(f"/dashboard?date_from={start}&date_to={end}")
    assert page.status_code == 200
    assert "complain" in page.text and "3.00" in page.text
    for name in ("ratings", "sentiment", "messages", "intents", "languages"):
        plot = client.get(f"/dashboard/{name}.svg?date_from={start}&date_to={end}")
        assert plot.status_code == 200, name
        assert plot.headers["content-type"] == "image/svg+xml"
        assert "<svg" in plot.text
    assert client.get("/dashboard/nope.svg").status_code == 404


def test_empty_period_still_draws(
    client: TestClient, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("admin")
    plot = client.get("/dashboard/ratings.svg?date_from=1990-01-01&date_to=1990-01-31")
    assert plot.status_code == 200 and "<svg" in plot.text


@pytest.mark.parametrize(
    "query",
    [
        "date_from=yesterday",
        "date_from=2026-05-01&date_to=2026-01-01",
        "date_from=2000-01-01&date_to=2026-01-01",
        "language=xx",
    ],
)
def test_bad_periods_are_400(
    client: TestClient, login_as: Callable[[str], StaffUser], query: str
) -> None:
    login_as("analyst")
    assert client.get(f"/dashboard?{query}").status_code == 400
