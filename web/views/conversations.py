"""A conversation's transcript with labels, the customer's CRM summary, and label
corrections of messages and feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.masking import mask_text
from crm.models import Conversation, Feedback, Message, StaffUser
from web.corrections import SENTIMENTS, CorrectionError, latest_corrections, review
from web.crm_summary import customer_summary
from web.deps import Csrf, DbSession, Staff
from web.handoff import drop_relay_echoes, messages_after
from web.intents import known_intents
from web.templating import flash, render
from web.util import parse_id, utcnow
from web.views.auth import safe_next

router = APIRouter(tags=["conversations"])

MAX_TRANSCRIPT = 500
LabelValue = Annotated[str | None, Form(max_length=64)]


def reveals_contact(user: StaffUser, conversation: Conversation) -> bool:
    """Contact details show unmasked to admins and to the agent talking to the
    customer; everyone else reads them masked."""
    if user.role == "admin":
        return True
    return conversation.handoff == "taken" and conversation.handoff_agent_id == user.id


def load_conversation(session: Session, raw_id: str) -> Conversation:
    conversation = session.get(Conversation, parse_id(raw_id))
    if conversation is None:
        raise HTTPException(404, "no such conversation")
    return conversation


@router.get("/conversations/{conversation_id}")
def conversation_view(
    request: Request, session: DbSession, user: Staff, conversation_id: str
) -> Response:
    conversation = load_conversation(session, conversation_id)
    return render(
        request, "conversation.html", conversation_context(session, user, conversation)
    )


def conversation_context(
    session: Session, user: StaffUser, conversation: Conversation
) -> dict[str, Any]:
    """Everything the conversation page shows."""
    messages = drop_relay_echoes(_transcript(session, conversation.id))
    reveal = reveals_contact(user, conversation)
    summary = None
    if conversation.customer_id is not None:
        summary = customer_summary(
            session=session,
            customer_id=conversation.customer_id,
            reveal_contact=reveal,
        )
    feedback = _feedback_of(session, conversation.id)
    holder = (
        session.get(StaffUser, conversation.handoff_agent_id)
        if conversation.handoff_agent_id
        else None
    )
    return {
        "user": user,
        "conversation": conversation,
        "messages": messages,
        "summary": summary,
        "corrections": latest_corrections(
            session=session, message_ids=[m.id for m in messages if m.sender == "user"]
        ),
        "feedback": feedback,
        "feedback_corrections": latest_corrections(
            session=session, feedback_ids=[f.id for f in feedback]
        ),
        "reveal": reveal,
        "sentiments": SENTIMENTS,
        "intents": sorted(known_intents()),
        "holder": holder,
        "truncated": len(messages) >= MAX_TRANSCRIPT,
        "last_id": max((m.id for m in messages), default=0),
        "draft": "",
    }


def _transcript(session: Session, conversation_id: int) -> list[Message]:
    newest = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(MAX_TRANSCRIPT)
        )
    )
    newest.reverse()
    return newest


def _feedback_of(session: Session, conversation_id: int) -> list[Feedback]:
    return list(
        session.scalars(
            select(Feedback)
            .where(Feedback.conversation_id == conversation_id)
            .order_by(Feedback.created_at)
        )
    )


def _labels(intent: str | None, sentiment: str | None) -> dict[str, str]:
    labels = {}
    if intent:
        labels["intent"] = intent
    if sentiment:
        labels["sentiment"] = sentiment
    if not labels:
        raise HTTPException(400, "choose an intent or a sentiment")
    return labels


@router.post("/messages/{message_id}/labels", dependencies=[Csrf])
def correct_message(
    request: Request,
    session: DbSession,
    user: Staff,
    message_id: str,
    intent: LabelValue = None,
    sentiment: LabelValue = None,
) -> Response:
    """Store staff's intent and sentiment for one customer message."""
    message = session.get(Message, parse_id(message_id))
    if message is None:
        raise HTTPException(404, "no such message")
    try:
        stored = review(
            session=session,
            target=message,
            labels=_labels(intent, sentiment),
            staff_id=user.id,
            now=utcnow(),
            known_intents=known_intents(),
        )
    except CorrectionError as error:
        raise HTTPException(400, str(error)) from None
    session.commit()
    flash(request, _summary(stored), "success")
    return RedirectResponse(
        f"/conversations/{message.conversation_id}#m{message.id}", status_code=303
    )


@router.post("/feedback/{feedback_id}/labels", dependencies=[Csrf])
def correct_feedback(
    request: Request,
    session: DbSession,
    user: Staff,
    feedback_id: str,
    intent: LabelValue = None,
    sentiment: LabelValue = None,
    back: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Store staff's intent and sentiment (the staff label) of one feedback row."""
    row = session.get(Feedback, parse_id(feedback_id))
    if row is None:
        raise HTTPException(404, "no such feedback")
    try:
        stored = review(
            session=session,
            target=row,
            labels=_labels(intent, sentiment),
            staff_id=user.id,
            now=utcnow(),
            known_intents=known_intents(),
        )
    except CorrectionError as error:
        raise HTTPException(400, str(error)) from None
    session.commit()
    flash(request, _summary(stored), "success")
    target = safe_next(back) if back else "/inbox/feedback"
    return RedirectResponse(f"{target}#f{row.id}", status_code=303)


def _summary(stored: list[Any]) -> str:
    if not stored:
        return "Nothing changed: these labels were already recorded."
    parts = [
        f"{row.field} {row.old_value or '-'} → {row.new_value}"
        if row.old_value != row.new_value
        else f"{row.field} {row.new_value} confirmed"
        for row in stored
    ]
    return "Saved: " + "; ".join(parts) + "."


@router.get("/api/conversations/{conversation_id}/messages")
def new_messages(
    session: DbSession,
    user: Staff,
    conversation_id: str,
    after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Messages newer than `after_id`, for the live view of a taken conversation."""
    conversation = load_conversation(session, conversation_id)
    reveal = reveals_contact(user, conversation)
    rows = messages_after(
        session=session, conversation_id=conversation.id, after_id=after_id
    )
    return {
        "handoff": conversation.handoff,
        "messages": [
            {
                "id": m.id,
                "sender": m.sender,
                "text": m.text if reveal else mask_text(m.text),
                "created_at": m.created_at.isoformat(timespec="seconds"),
                "intent": m.intent,
                "sentiment": m.sentiment,
            }
            for m in rows
        ],
    }


@router.get("/messages/{message_id}")
def message_link(session: DbSession, user: Staff, message_id: str) -> Response:
    """A message's place in its conversation."""
    message = session.get(Message, parse_id(message_id))
    if message is None:
        raise HTTPException(404, "no such message")
    return RedirectResponse(
        f"/conversations/{message.conversation_id}#m{message.id}", status_code=303
    )
