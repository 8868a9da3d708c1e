"""The inbox: conversations and feedback needing attention, filtered and paged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from web import inbox
from web.corrections import SENTIMENTS, latest_corrections
from web.deps import DbSession, Staff
from web.intents import known_intents
from web.templating import render
from web.util import clean_text

router = APIRouter(tags=["inbox"])

Text = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=100)]


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "on", "yes")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date like 2026-11-30") from None


def parse_filters(
    *,
    negative: str | None,
    low_confidence: str | None,
    status: str | None,
    language: str | None,
    date_from: str | None,
    date_to: str | None,
    q: str | None,
    rating_max: str | None = None,
) -> inbox.InboxFilters:
    """Query-string filters to InboxFilters; a bad value is a 400 with the reason."""
    rating: int | None = None
    if rating_max:
        if rating_max not in ("1", "2", "3", "4", "5"):
            raise HTTPException(400, "rating_max must be 1 to 5")
        rating = int(rating_max)
    try:
        return inbox.InboxFilters(
            negative=_flag(negative),
            low_confidence=_flag(low_confidence),
            status=status or "all",
            language=language or None,
            date_from=_day(date_from, "date_from"),
            date_to=_day(date_to, "date_to"),
            text=clean_text(q or "").strip() or None,
            rating_max=rating,
        )
    except ValueError as error:
        raise HTTPException(400, str(error)) from None


def _params(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value}


@router.get("/inbox")
def conversations_inbox(
    request: Request,
    session: DbSession,
    user: Staff,
    negative: Text = None,
    low_confidence: Text = None,
    status: Text = None,
    language: Text = None,
    date_from: Text = None,
    date_to: Text = None,
    q: Text = None,
    after: Text = None,
    limit: Limit = 25,
) -> Response:
    """Conversations, needing attention first, then the most recent."""
    filters = parse_filters(
        negative=negative,
        low_confidence=low_confidence,
        status=status,
        language=language,
        date_from=date_from,
        date_to=date_to,
        q=q,
    )
    try:
        page = inbox.conversation_page(
            session=session, filters=filters, after=after, limit=limit
        )
    except inbox.BadCursor:
        raise HTTPException(400, "this page link is not valid; start again") from None
    params = _params(
        negative=negative,
        low_confidence=low_confidence,
        status=status,
        language=language,
        date_from=date_from,
        date_to=date_to,
        q=q,
        limit=limit if limit != 25 else None,
    )
    return render(
        request,
        "inbox.html",
        {
            "user": user,
            "page": page,
            "filters": filters,
            "params": params,
            "statuses": inbox.STATUSES,
            "languages": inbox.LANGUAGES,
            "first_page": not after,
            "low_confidence_below": inbox.LOW_CONFIDENCE,
        },
    )


@router.get("/inbox/feedback")
def feedback_inbox(
    request: Request,
    session: DbSession,
    user: Staff,
    negative: Text = None,
    low_confidence: Text = None,
    language: Text = None,
    date_from: Text = None,
    date_to: Text = None,
    q: Text = None,
    rating_max: Text = None,
    after: Text = None,
    limit: Limit = 25,
) -> Response:
    """Feedback rows, newest first, with their labels and staff corrections."""
    filters = parse_filters(
        negative=negative,
        low_confidence=low_confidence,
        status=None,
        language=language,
        date_from=date_from,
        date_to=date_to,
        q=q,
        rating_max=rating_max,
    )
    try:
        page = inbox.feedback_page(
            session=session, filters=filters, after=after, limit=limit
        )
    except inbox.BadCursor:
        raise HTTPException(400, "this page link is not valid; start again") from None
    corrections = latest_corrections(
        session=session, feedback_ids=[row.id for row in page.rows]
    )
    params = _params(
        negative=negative,
        low_confidence=low_confidence,
        language=language,
        date_from=date_from,
        date_to=date_to,
        q=q,
        rating_max=rating_max,
        limit=limit if limit != 25 else None,
    )
    return render(
        request,
        "feedback.html",
        {
            "user": user,
            "page": page,
            "filters": filters,
            "params": params,
            "languages": inbox.LANGUAGES,
            "corrections": corrections,
            "sentiments": SENTIMENTS,
            "first_page": not after,
            "intents": sorted(known_intents()),
            "back": str(request.url.path)
            + ("?" + request.url.query if request.url.query else ""),
        },
    )
