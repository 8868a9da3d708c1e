"""The conversation log: turns Rasa's tracker-store events into conversations and
messages with customer, language, intent, confidence and sentiment.

Rasa's SQL tracker store writes every event to its `events` table in the CRM database.
Ingest reads the rows after a cursor, in order, and writes them in the same transaction
as the cursor, so a crash or a second run never loses or duplicates a message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Session

from crm.models import Conversation, IngestCursor, Message
from crm.queries import get_or_create_conversation

logger = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.5
RESOLVING_INTENTS = frozenset({"goodbye", "thanks", "give_feedback"})
ABANDONED_AFTER = timedelta(minutes=30)
CURSOR = "rasa_events"

# Rasa 3.6's SQLTrackerStore table, only the columns ingest reads.
rasa_events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("data", Text),
)


@dataclass
class Batch:
    events: int = 0
    messages: int = 0


def ingest(engine: Engine, *, batch_size: int = 2000) -> Batch:
    """Ingest every new Rasa event; returns how many events and messages were read."""
    total = Batch()
    if not inspect(engine).has_table("events"):
        return total
    while True:
        with Session(engine) as session, session.begin():
            done = ingest_batch(session, batch_size)
        total.events += done.events
        total.messages += done.messages
        if done.events < batch_size:
            return total


def ingest_batch(session: Session, batch_size: int = 2000) -> Batch:
    """Ingest up to `batch_size` events after the cursor, in the caller's session."""
    cursor = session.get(IngestCursor, CURSOR)
    if cursor is None:
        cursor = IngestCursor(name=CURSOR, last_event_id=0)
        session.add(cursor)
    rows = session.execute(
        select(rasa_events.c.id, rasa_events.c.sender_id, rasa_events.c.data)
        .where(rasa_events.c.id > cursor.last_event_id)
        .order_by(rasa_events.c.id)
        .limit(batch_size)
    ).all()
    batch = Batch(events=len(rows))
    conversations: dict[str, Conversation] = {}
    for event_id, sender_id, data in rows:
        event = json.loads(data)
        conversation = conversations.get(sender_id) or get_or_create_conversation(
            session=session, sender_id=sender_id, now=_when(event)
        )
        conversations[sender_id] = conversation
        batch.messages += apply_event(session, conversation, event_id, event)
    if rows:
        cursor.last_event_id = rows[-1][0]
    return batch


def _when(event: dict[str, Any]) -> datetime:
    stamp = event.get("timestamp") or 0.0
    return datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)


def apply_event(
    session: Session, conversation: Conversation, event_id: int, event: dict[str, Any]
) -> int:
    """Update the conversation for one Rasa event; return 1 if it was a message."""
    kind = event.get("event")
    if kind == "slot":
        _apply_slot(conversation, event.get("name"), event.get("value"))
        return 0
    if kind not in ("user", "bot") or not event.get("text"):
        return 0
    if kind == "user" and _is_external(event):
        return 0
    message = Message(
        conversation_id=conversation.id,
        event_key=f"rasa:{event_id}",
        sender=kind,
        text=event["text"],
        created_at=_when(event),
    )
    if kind == "user":
        _label(message, event.get("parse_data") or {})
        _follow_user_message(conversation, message)
    conversation.last_message_at = max(conversation.last_message_at, message.created_at)
    session.add(message)
    return 1


def _is_external(event: dict[str, Any]) -> bool:
    """Events the console triggered (agent messages, release), not the customer."""
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
    return intent.startswith("EXTERNAL_")


def _label(message: Message, parse: dict[str, Any]) -> None:
    intent = parse.get("intent") or {}
    sentiment = parse.get("sentiment") or {}
    message.intent = intent.get("name")
    message.confidence = intent.get("confidence")
    message.sentiment = sentiment.get("label")
    message.sentiment_score = sentiment.get("score")
    message.language = parse.get("language")
    message.entities = [
        {key: e[key] for key in ("entity", "value", "start", "end") if key in e}
        for e in parse.get("entities") or []
        if e.get("entity") != "language"
    ] or None


def _follow_user_message(conversation: Conversation, message: Message) -> None:
    if message.language:
        conversation.language = message.language
    unsure = message.confidence is not None and message.confidence < LOW_CONFIDENCE
    if message.sentiment == "negative" or unsure:
        conversation.needs_attention = True
    if message.intent in RESOLVING_INTENTS and conversation.outcome == "open":
        conversation.outcome = "resolved"


def _apply_slot(conversation: Conversation, name: str | None, value: Any) -> None:
    if name == "customer_id" and value:
        conversation.customer_id = int(value)
    elif name == "language" and value in ("en", "zh"):
        conversation.language = value
    elif name == "handoff_active" and value and conversation.handoff != "taken":
        conversation.handoff = "requested"
        conversation.outcome = "escalated"
        conversation.needs_attention = True


def close_abandoned(engine: Engine, *, now: datetime | None = None) -> int:
    """Mark open conversations that went quiet as abandoned; return how many."""
    cutoff = (now or datetime.now(UTC).replace(tzinfo=None)) - ABANDONED_AFTER
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(Conversation)
            .where(Conversation.outcome == "open")
            .where(Conversation.last_message_at < cutoff)
            .values(outcome="abandoned")
        )
    return result.rowcount or 0  # type: ignore[attr-defined]
