"""The inbox: conversations and feedback, most urgent first, with keyset pagination.

Keyset (seek) pagination orders by an indexed key and continues after the last row
shown, so page 10,000 costs what page 1 costs; an offset would read every row before.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    exists,
    func,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from crm.models import Conversation, Customer, Feedback, Message

LOW_CONFIDENCE = 0.5
STATUSES = ("all", "attention", "escalated", "handoff", "resolved", "abandoned")
LANGUAGES = ("en", "zh")
MAX_TEXT_QUERY = 200


T = TypeVar("T")


class BadCursor(ValueError):
    """A pagination cursor that this app did not make."""


@dataclass(frozen=True)
class InboxFilters:
    """What the staff member asked to see; every field optional."""

    negative: bool = False
    low_confidence: bool = False
    status: str = "all"
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    rating_max: int | None = None
    """Feedback only: ratings at or below this."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if self.language is not None and self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        if self.text is not None and len(self.text) > MAX_TEXT_QUERY:
            raise ValueError(f"the search text is longer than {MAX_TEXT_QUERY}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("the start date is after the end date")

    @property
    def message_level(self) -> bool:
        return self.negative or self.low_confidence or bool(self.text)


# --- cursors ---------------------------------------------------------------------


def encode_cursor(*parts: Any) -> str:
    raw = "|".join(_cursor_part(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_part(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def decode_cursor(raw: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The values of a cursor, each converted to its kind; BadCursor if malformed."""
    if len(raw) > 200:
        raise BadCursor("cursor too long")
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        parts = text.split("|")
        if len(parts) != len(kinds):
            raise BadCursor("wrong number of cursor parts")
        return tuple(
            _convert(part, kind) for part, kind in zip(parts, kinds, strict=True)
        )
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise BadCursor(str(error)) from None


def _convert(part: str, kind: type) -> Any:
    if kind is bool:
        if part not in ("0", "1"):
            raise ValueError("bad flag")
        return part == "1"
    if kind is datetime:
        return datetime.fromisoformat(part)
    if kind is int:
        value = int(part)
        if not 0 <= value < 2**31:
            raise ValueError("id out of range")
        return value
    raise ValueError(f"unsupported cursor kind {kind}")


# --- conversations -----------------------------------------------------------------


@dataclass
class Preview:
    """The user message shown for a conversation (the latest matching the filters)."""

    id: int
    text: str
    intent: str | None
    confidence: float | None
    sentiment: str | None
    language: str | None
    created_at: datetime


@dataclass
class ConversationRow:
    conversation: Conversation
    customer_name: str | None
    message_count: int
    preview: Preview | None


@dataclass
class Page(Generic[T]):
    rows: list[T] = field(default_factory=list)
    next_cursor: str | None = None


def _message_conditions(filters: InboxFilters) -> list[Any]:
    conditions: list[Any] = [Message.sender == "user"]
    if filters.negative:
        conditions.append(Message.sentiment == "negative")
    if filters.low_confidence:
        conditions.append(Message.confidence < LOW_CONFIDENCE)
    if filters.text:
        conditions.append(contains(Message.text, filters.text))
    return conditions


def contains(column: Any, needle: str) -> ColumnElement[bool]:
    """Case-insensitive substring match, written as `ILIKE '%needle%'`: PostgreSQL's
    trigram index on message text serves exactly that (`lower(x) LIKE` it cannot).
    SQLite renders it `lower(x) LIKE lower(...)`, as before."""
    escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return column.ilike(f"%{escaped}%", escape="/")


def _day_range(filters: InboxFilters) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(filters.date_from, time.min) if filters.date_from else None
    end = (
        datetime.combine(filters.date_to + timedelta(days=1), time.min)
        if filters.date_to
        else None
    )
    return start, end


def conversation_query(filters: InboxFilters) -> Select[Any]:
    """Conversations matching `filters`, needing attention first, then newest."""
    query = select(Conversation)
    status_conditions = {
        "attention": Conversation.needs_attention.is_(True),
        "escalated": Conversation.outcome == "escalated",
        "handoff": Conversation.handoff.in_(("requested", "taken")),
        "resolved": Conversation.outcome == "resolved",
        "abandoned": Conversation.outcome == "abandoned",
    }
    if filters.status in status_conditions:
        query = query.where(status_conditions[filters.status])
    if filters.language:
        query = query.where(Conversation.language == filters.language)
    start, end = _day_range(filters)
    if start:
        query = query.where(Conversation.last_message_at >= start)
    if end:
        query = query.where(Conversation.last_message_at < end)
    if filters.message_level:
        query = query.where(_matching(filters))
    return query.order_by(
        Conversation.needs_attention.desc(),
        Conversation.last_message_at.desc(),
        Conversation.id.desc(),
    )


def _matching(filters: InboxFilters) -> ColumnElement[bool]:
    """Conversations with a message matching the filters; with a search text, also
    the conversation with that sender id or of the customer with that email.

    A search text becomes one `id IN (...)` list: the matching messages (found by the
    trigram index on PostgreSQL) and the two exact lookups. As an OR of EXISTS
    clauses it made both databases walk every conversation in inbox order when few
    matched (an order number: 0.3 s on PostgreSQL, 10 s on SQLite at 1M messages).
    """
    conditions = _message_conditions(filters)
    if not filters.text:
        return exists().where(Message.conversation_id == Conversation.id, *conditions)
    wanted = filters.text.strip()
    other = aliased(Conversation)
    return Conversation.id.in_(
        union_all(
            select(Message.conversation_id).where(*conditions),
            select(other.id).where(other.sender_id == wanted),
            select(other.id)
            .join(Customer, Customer.id == other.customer_id)
            .where(Customer.email == wanted.lower()),
        )
    )


def conversation_page(
    *, session: Session, filters: InboxFilters, after: str | None, limit: int = 25
) -> Page[ConversationRow]:
    """One page of the conversation inbox after cursor `after` (None: the first)."""
    if filters.text:
        _plan_for_this_text(session)
    query = conversation_query(filters)
    if after:
        flag, moment, last_id = decode_cursor(after, (bool, datetime, int))
        query = query.where(*_after_key(flag, moment, last_id))
    found: list[Conversation] = list(session.scalars(query.limit(limit + 1)))
    page: Page[ConversationRow] = Page(rows=_rows(session, found[:limit], filters))
    if len(found) > limit:
        last = found[limit - 1]
        page.next_cursor = encode_cursor(
            last.needs_attention, last.last_message_at, last.id
        )
    return page


def _plan_for_this_text(session: Session) -> None:
    """PostgreSQL: plan this transaction's queries for their own search text.

    psycopg prepares a statement after five runs, and PostgreSQL may then choose a
    generic plan that cannot see the text; for a text of fewer than three characters
    (no trigrams: two Chinese characters) that plan reads the whole trigram index,
    5 s where a scan of the table takes under one (docs/benchmarks.md#console)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _after_key(flag: bool, moment: datetime, last_id: int) -> list[Any]:
    """Rows after (flag, moment, last_id) in the descending inbox order.

    The two-column bound matches the (needs_attention, last_message_at) index, so
    PostgreSQL seeks into it; the three-column one breaks ties by id."""
    attention, last = Conversation.needs_attention, Conversation.last_message_at
    return [
        tuple_(attention, last) <= tuple_(flag, moment),
        tuple_(attention, last, Conversation.id) < tuple_(flag, moment, last_id),
    ]


def _rows(
    session: Session, conversations: list[Conversation], filters: InboxFilters
) -> list[ConversationRow]:
    """Counts, previews and names for a page of conversations: three queries."""
    ids = [c.id for c in conversations]
    if not ids:
        return []
    counts = dict(
        session.execute(
            select(Message.conversation_id, func.count())
            .where(Message.conversation_id.in_(ids))
            .group_by(Message.conversation_id)
        ).all()
    )
    previews = _previews(session, ids, _message_conditions(filters))
    missing = [i for i in ids if i not in previews]
    if missing and filters.message_level:
        previews |= _previews(session, missing, [Message.sender == "user"])
    customer_ids = {c.customer_id for c in conversations if c.customer_id}
    names = (
        dict(
            session.execute(
                select(Customer.id, Customer.name_en).where(
                    Customer.id.in_(customer_ids)
                )
            ).all()
        )
        if customer_ids
        else {}
    )
    return [
        ConversationRow(
            conversation=c,
            customer_name=names.get(c.customer_id) if c.customer_id else None,
            message_count=counts.get(c.id, 0),
            preview=previews.get(c.id),
        )
        for c in conversations
    ]


def _previews(
    session: Session, ids: list[int], conditions: list[Any]
) -> dict[int, Preview]:
    """The newest message per conversation matching `conditions` (window function)."""
    newest = (
        select(
            Message.id,
            func.row_number()
            .over(
                partition_by=Message.conversation_id,
                order_by=(Message.created_at.desc(), Message.id.desc()),
            )
            .label("rank"),
        )
        .where(
            Message.conversation_id.in_(ids),
            Message.text.not_like("EXTERNAL: %"),
            *conditions,
        )
        .subquery()
    )
    rows = session.scalars(
        select(Message)
        .join(newest, newest.c.id == Message.id)
        .where(newest.c.rank == 1)
    )
    return {m.conversation_id: _preview(m) for m in rows}


def _preview(message: Message) -> Preview:
    return Preview(
        id=message.id,
        text=message.text,
        intent=message.intent,
        confidence=message.confidence,
        sentiment=message.sentiment,
        language=message.language,
        created_at=message.created_at,
    )


# --- feedback ----------------------------------------------------------------------


def feedback_query(filters: InboxFilters) -> Select[Any]:
    """Feedback rows matching `filters`, newest first."""
    query = select(Feedback)
    if filters.negative:
        query = query.where(Feedback.sentiment == "negative")
    if filters.low_confidence:
        query = query.where(Feedback.confidence < LOW_CONFIDENCE)
    if filters.language:
        query = query.where(Feedback.language == filters.language)
    if filters.rating_max is not None:
        query = query.where(Feedback.rating <= filters.rating_max)
    if filters.text:
        query = query.where(contains(Feedback.text, filters.text))
    start, end = _day_range(filters)
    if start:
        query = query.where(Feedback.created_at >= start)
    if end:
        query = query.where(Feedback.created_at < end)
    return query.order_by(Feedback.created_at.desc(), Feedback.id.desc())


def feedback_page(
    *, session: Session, filters: InboxFilters, after: str | None, limit: int = 25
) -> Page[Feedback]:
    """One page of feedback after cursor `after`."""
    query = feedback_query(filters)
    if after:
        moment, last_id = decode_cursor(after, (datetime, int))
        query = query.where(
            tuple_(Feedback.created_at, Feedback.id) < tuple_(moment, last_id)
        )
    found: list[Feedback] = list(session.scalars(query.limit(limit + 1)))
    page: Page[Feedback] = Page(rows=found[:limit])
    if len(found) > limit:
        last = found[limit - 1]
        page.next_cursor = encode_cursor(last.created_at, last.id)
    return page
