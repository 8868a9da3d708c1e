"""Feedback figures for the dashboard: ratings and sentiment over time, by intent and
by language, aggregated in SQL (by day) and folded into weeks here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm.models import Feedback, Message

SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    """Inclusive."""
    language: str | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time.min),
            datetime.combine(self.end + timedelta(days=1), time.min),
        )


@dataclass
class Tally:
    """Counts of one group: feedback rows, ratings and sentiments."""

    count: int = 0
    rated: int = 0
    rating_sum: int = 0
    sentiments: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(SENTIMENTS, 0)
    )
    ratings: dict[int, int] = field(
        default_factory=lambda: dict.fromkeys(range(1, 6), 0)
    )

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None

    def share(self, sentiment: str) -> float:
        total = sum(self.sentiments.values())
        return self.sentiments[sentiment] / total if total else 0.0


@dataclass
class FeedbackSummary:
    total: Tally
    by_week: dict[date, Tally]
    by_intent: dict[str, Tally]
    by_language: dict[str, Tally]
    message_sentiment_by_week: dict[date, Tally]


def week_of(day: date | str | datetime) -> date:
    """The Monday of `day`'s week (SQLite gives dates as text)."""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    if isinstance(day, datetime):
        day = day.date()
    return day - timedelta(days=day.weekday())


def _within(
    query: Select[Any], column: Any, period: Period, language: Any
) -> Select[Any]:
    start, end = period.bounds
    query = query.where(column >= start, column < end)
    if period.language:
        query = query.where(language == period.language)
    return query


def feedback_summary(*, session: Session, period: Period) -> FeedbackSummary:
    """Every figure of the dashboard for `period`."""
    summary = FeedbackSummary(
        Tally(),
        defaultdict(Tally),
        defaultdict(Tally),
        defaultdict(Tally),
        defaultdict(Tally),
    )
    day = func.date(Feedback.created_at)
    grouped = _within(
        select(
            day,
            Feedback.language,
            Feedback.intent,
            Feedback.sentiment,
            Feedback.rating,
            func.count(),
        ).group_by(
            day, Feedback.language, Feedback.intent, Feedback.sentiment, Feedback.rating
        ),
        Feedback.created_at,
        period,
        Feedback.language,
    )
    for moment, language, intent, sentiment, rating, count in session.execute(grouped):
        for tally in (
            summary.total,
            summary.by_week[week_of(moment)],
            summary.by_intent[intent or "(none)"],
            summary.by_language[language or "?"],
        ):
            _add(tally, sentiment, rating, count)
    message_day = func.date(Message.created_at)
    messages = _within(
        select(message_day, Message.sentiment, func.count())
        .where(Message.sender == "user")
        .group_by(message_day, Message.sentiment),
        Message.created_at,
        period,
        Message.language,
    )
    for moment, sentiment, count in session.execute(messages):
        _add(summary.message_sentiment_by_week[week_of(moment)], sentiment, None, count)
    return summary


def _add(tally: Tally, sentiment: str | None, rating: int | None, count: int) -> None:
    tally.count += count
    if sentiment in tally.sentiments:
        tally.sentiments[sentiment] += count
    if rating is not None and 1 <= rating <= 5:
        tally.rated += count
        tally.rating_sum += rating * count
        tally.ratings[rating] += count
