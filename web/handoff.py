"""Live handoff: the queue of customers waiting for a human, taking one, answering,
and giving the conversation back to the bot."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.models import Conversation, Message, StaffUser
from web.util import clean_text

MAX_AGENT_TEXT = 2000


class HandoffError(ValueError):
    """A handoff step that is not possible now, with the reason for staff."""


def queue(*, session: Session, agent_id: int, limit: int = 100) -> list[Conversation]:
    """Waiting conversations (oldest first), then the ones this agent holds."""
    waiting = session.scalars(
        select(Conversation)
        .where(Conversation.handoff == "requested")
        .order_by(Conversation.last_message_at, Conversation.id)
        .limit(limit)
    )
    mine = session.scalars(
        select(Conversation)
        .where(
            Conversation.handoff == "taken", Conversation.handoff_agent_id == agent_id
        )
        .order_by(Conversation.last_message_at.desc())
        .limit(limit)
    )
    return list(waiting) + list(mine)


def take(*, session: Session, conversation_id: int, agent_id: int) -> None:
    """Give a waiting conversation to `agent_id`; only one agent can win it."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.handoff == "requested")
        .values(handoff="taken", handoff_agent_id=agent_id)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise HandoffError("this conversation is no longer waiting for an agent")


def check_holder(conversation: Conversation, agent: StaffUser) -> None:
    """Only the agent who took the conversation may write in it or release it."""
    if conversation.handoff != "taken":
        raise HandoffError("this conversation is not in a live handoff")
    if conversation.handoff_agent_id != agent.id:
        raise HandoffError("another agent holds this conversation")


def clean_agent_text(text: str) -> str:
    text = clean_text(text).strip()
    if not text:
        raise HandoffError("the message is empty")
    if len(text) > MAX_AGENT_TEXT:
        raise HandoffError(f"the message is longer than {MAX_AGENT_TEXT} characters")
    return text


def record_agent_message(
    *, session: Session, conversation: Conversation, text: str, now: datetime
) -> Message:
    """Store a delivered agent message in the conversation log."""
    message = Message(
        conversation_id=conversation.id,
        event_key=f"agent:{uuid.uuid4().hex}",
        sender="agent",
        text=text,
        language=conversation.language,
        created_at=now,
    )
    session.add(message)
    conversation.last_message_at = max(conversation.last_message_at, now)
    session.flush()
    return message


RELAY_WINDOW = timedelta(seconds=120)


def drop_relay_echoes(messages: list[Message]) -> list[Message]:
    """`messages` without the bot's copy of an agent message.

    Until 2026-11-30 the bot relayed an agent's text as its own utterance, so logs
    from then hold it twice: as sender 'agent' (stored by the console) and as 'bot'
    (ingested from Rasa). The relay now carries the text only as a custom payload,
    which ingest skips; this keeps older logs readable. The bot copy close in time
    to the agent message goes."""
    agent = [(m.text, m.created_at) for m in messages if m.sender == "agent"]
    if not agent:
        return messages
    return [
        m
        for m in messages
        if not (
            m.sender == "bot"
            and any(
                text == m.text and abs(at - m.created_at) <= RELAY_WINDOW
                for text, at in agent
            )
        )
    ]


def release(*, session: Session, conversation: Conversation) -> None:
    """Mark the handoff released: the bot answers again."""
    conversation.handoff = "released"
    session.flush()


def messages_after(
    *, session: Session, conversation_id: int, after_id: int, limit: int = 200
) -> list[Message]:
    """Messages of a conversation newer than message `after_id` (for live refresh)."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        )
    )
