"""The inbox: conversations and feedback needing attention, filtered and paged."""

# No `from __future__ import annotations`: FastAPI reads InboxQuery's annotations at
# run time to learn its query parameters.

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from web import inbox
from web.corrections import SENTIMENTS, latest_corrections
from web.deps import DbSession, Staff
from web.intents import known_intents
from web.templating import render
from web.util import clean_text

router = APIRouter(tags=["inbox"])

Text = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=100)]
DEFAULT_LIMIT = 25
LINK_ORDER = (
    "negative",
    "low_confidence",
    "status",
    "language",
    "date_from",
    "date_to",
    "q",
    "rating_max",
    "limit",
)
"""The filters page links carry, in this order."""

T = TypeVar("T")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "on", "yes")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date like 2026-11-30") from None


def _rating(value: str | None) -> int | None:
    if not value:
        return None
    if value not in ("1", "2", "3", "4", "5"):
        raise HTTPException(400, "rating_max must be 1 to 5")
    return int(value)


@dataclass(frozen=True)
class InboxQuery:
    """The query string both inboxes take (a dependency: FastAPI fills the fields)."""

    negative: Text = None
    low_confidence: Text = None
    language: Text = None
    date_from: Text = None
    date_to: Text = None
    q: Text = None
    after: Text = None
    limit: Limit = DEFAULT_LIMIT

    def filters(
        self, *, status: str | None = None, rating_max: str | None = None
    ) -> inbox.InboxFilters:
        """These filters plus the page's own; a bad value is a 400 with the reason."""
        rating = _rating(rating_max)
        try:
            return inbox.InboxFilters(
                negative=_flag(self.negative),
                low_confidence=_flag(self.low_confidence),
                status=status or "all",
                language=self.language or None,
                date_from=_day(self.date_from, "date_from"),
                date_to=_day(self.date_to, "date_to"),
                text=clean_text(self.q or "").strip() or None,
                rating_max=rating,
            )
        except ValueError as error:
            raise HTTPException(400, str(error)) from None

    def link_params(self, **extra: str | None) -> dict[str, Any]:
        """What page links carry: the filters set, and the limit unless default."""
        values = {**asdict(self), **extra}
        if self.limit == DEFAULT_LIMIT:
            values["limit"] = None
        return {key: values[key] for key in LINK_ORDER if values.get(key)}

    def page(
        self,
        fetch: Callable[..., inbox.Page[T]],
        session: Session,
        filters: inbox.InboxFilters,
    ) -> inbox.Page[T]:
        """The page after this query's cursor; a cursor we did not make is a 400."""
        try:
            return fetch(
                session=session, filters=filters, after=self.after, limit=self.limit
            )
        except inbox.BadCursor:
            raise HTTPException(
                400, "this page link is not valid; start again"
            ) from None


Filters = Annotated[InboxQuery, Depends()]


@router.get("/inbox")
def conversations_inbox(
    request: Request,
    session: DbSession,
    user: Staff,
    query: Filters,
    status: Text = None,
) -> Response:
    """Conversations, needing attention first, then the most recent."""
    filters = query.filters(status=status)
    return render(
        request,
        "inbox.html",
        {
            "user": user,
            "page": query.page(inbox.conversation_page, session, filters),
            "filters": filters,
            "params": query.link_params(status=status),
            "statuses": inbox.STATUSES,
            "languages": inbox.LANGUAGES,
            "first_page": not query.after,
            "low_confidence_below": inbox.LOW_CONFIDENCE,
        },
    )


@router.get("/inbox/feedback")
def feedback_inbox(
    request: Request,
    session: DbSession,
    user: Staff,
    query: Filters,
    rating_max: Text = None,
) -> Response:
    """Feedback rows, newest first, with their labels and staff corrections."""
    filters = query.filters(rating_max=rating_max)
    page = query.page(inbox.feedback_page, session, filters)
    return render(
        request,
        "feedback.html",
        {
            "user": user,
            "page": page,
            "filters": filters,
            "params": query.link_params(rating_max=rating_max),
            "languages": inbox.LANGUAGES,
            "corrections": latest_corrections(
                session=session, feedback_ids=[row.id for row in page.rows]
            ),
            "sentiments": SENTIMENTS,
            "first_page": not query.after,
            "intents": sorted(known_intents()),
            "back": str(request.url.path)
            + ("?" + request.url.query if request.url.query else ""),
        },
    )
