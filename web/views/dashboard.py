"""The feedback dashboard: ratings and sentiment over time, by intent and language."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from crm.models import StaffUser
from web import plots
from web.dashboard import Period, feedback_summary
from web.deps import DbSession, require_roles
from web.templating import render
from web.util import utcnow

router = APIRouter(tags=["dashboard"])

Analyst = Annotated[StaffUser, Depends(require_roles("analyst", "admin"))]
Text = Annotated[str | None, Query(max_length=20)]
DEFAULT_WEEKS = 12
MAX_DAYS = 3 * 366
PLOTS = ("ratings", "sentiment", "messages", "intents", "languages")


def parse_period(
    date_from: str | None, date_to: str | None, language: str | None
) -> Period:
    """The dashboard's period: the last 12 weeks unless given; at most three years."""
    try:
        end = date.fromisoformat(date_to) if date_to else utcnow().date()
        start = (
            date.fromisoformat(date_from)
            if date_from
            else end - timedelta(weeks=DEFAULT_WEEKS)
        )
    except ValueError:
        raise HTTPException(400, "dates must look like 2026-11-30") from None
    if start > end:
        raise HTTPException(400, "the start date is after the end date")
    if (end - start).days > MAX_DAYS:
        raise HTTPException(400, "choose a period of at most three years")
    if language not in (None, "", "en", "zh"):
        raise HTTPException(400, "language must be en or zh")
    return Period(start, end, language or None)


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: DbSession,
    user: Analyst,
    date_from: Text = None,
    date_to: Text = None,
    language: Text = None,
) -> Response:
    period = parse_period(date_from, date_to, language)
    summary = feedback_summary(session=session, period=period)
    params = {
        "date_from": period.start.isoformat(),
        "date_to": period.end.isoformat(),
        "language": period.language or "",
    }
    return render(
        request,
        "dashboard.html",
        {
            "user": user,
            "summary": summary,
            "period": period,
            "params": params,
            "plots": PLOTS,
        },
    )


@router.get("/dashboard/{name}.svg")
def dashboard_plot(
    session: DbSession,
    user: Analyst,
    name: str,
    date_from: Text = None,
    date_to: Text = None,
    language: Text = None,
) -> Response:
    if name not in PLOTS:
        raise HTTPException(404, "no such plot")
    summary = feedback_summary(
        session=session, period=parse_period(date_from, date_to, language)
    )
    drawings = {
        "ratings": lambda: plots.ratings_over_time(summary.by_week),
        "sentiment": lambda: plots.sentiment_over_time(
            summary.by_week, "Feedback sentiment per week"
        ),
        "messages": lambda: plots.sentiment_over_time(
            summary.message_sentiment_by_week, "Customer message sentiment per week"
        ),
        "intents": lambda: plots.by_intent(summary.by_intent),
        "languages": lambda: plots.by_language(summary.by_language),
    }
    return Response(drawings[name](), media_type="image/svg+xml")
