"""Ingest turns Rasa events into the conversation log, once and only once."""

from __future__ import annotations

import json

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm.ingest import ingest_batch, rasa_events
from crm.models import Conversation, Message

USER = {
    "event": "user",
    "timestamp": 1_790_000_000.0,
    "text": "我的订单A1000001到哪了？太慢了",
    "parse_data": {
        "intent": {"name": "order_status", "confidence": 0.42},
        "entities": [
            {"entity": "order_number", "value": "A1000001", "start": 4, "end": 12},
            {"entity": "language", "value": "zh"},
        ],
        "sentiment": {"label": "negative", "score": -0.8, "confidence": 0.9},
        "language": "zh",
    },
}
BOT = {"event": "bot", "timestamp": 1_790_000_001.0, "text": "您的订单正在运输中。"}
SLOT = {
    "event": "slot",
    "timestamp": 1_790_000_002.0,
    "name": "handoff_active",
    "value": True,
}


def _write_events(session: Session, sender: str, events: list[dict]) -> None:
    rasa_events.create(session.connection(), checkfirst=True)
    session.execute(
        insert(rasa_events),
        [
            {
                "sender_id": sender,
                "type_name": e["event"],
                "timestamp": e["timestamp"],
                "data": json.dumps(e),
            }
            for e in events
        ],
    )


def test_messages_carry_labels_and_conversation_follows(session: Session) -> None:
    _write_events(session, "web-1", [USER, BOT, SLOT])

    batch = ingest_batch(session)

    assert (batch.events, batch.messages) == (3, 2)
    conversation = session.scalars(
        select(Conversation).where(Conversation.sender_id == "web-1")
    ).one()
    assert conversation.language == "zh"
    assert conversation.needs_attention
    assert (conversation.handoff, conversation.outcome) == ("requested", "escalated")
    user, bot = conversation.messages
    assert (user.sender, user.intent, user.confidence) == ("user", "order_status", 0.42)
    assert (user.sentiment, user.sentiment_score, user.language) == (
        "negative",
        -0.8,
        "zh",
    )
    assert user.entities == [
        {"entity": "order_number", "value": "A1000001", "start": 4, "end": 12}
    ]
    assert (bot.sender, bot.text, bot.intent) == ("bot", BOT["text"], None)


def test_a_second_pass_adds_nothing_and_new_events_follow(session: Session) -> None:
    _write_events(session, "web-2", [USER, BOT])
    ingest_batch(session)
    assert ingest_batch(session).events == 0

    _write_events(session, "web-2", [{**BOT, "timestamp": 1_790_000_009.0}])
    assert ingest_batch(session).messages == 1
    count = session.scalars(
        select(Message).join(Conversation).where(Conversation.sender_id == "web-2")
    ).all()
    assert len(count) == 3
