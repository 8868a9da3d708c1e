"""Live handoff: the queue, taking a conversation, answering, releasing it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from crm.models import StaffUser
from web import handoff, rasa_client
from web.deps import Csrf, DbSession, require_roles
from web.templating import flash, render
from web.util import utcnow
from web.views.conversations import conversation_context, load_conversation

router = APIRouter(tags=["handoff"])

Agent = Annotated[StaffUser, Depends(require_roles("agent", "admin"))]


def _back(conversation_id: int) -> Response:
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.get("/handoffs")
def handoff_queue(request: Request, session: DbSession, user: Agent) -> Response:
    """Customers waiting for a human, and the conversations this agent holds."""
    rows = handoff.queue(session=session, agent_id=user.id)
    return render(request, "handoffs.html", {"user": user, "rows": rows})


@router.post("/conversations/{conversation_id}/take", dependencies=[Csrf])
def take(
    request: Request, session: DbSession, user: Agent, conversation_id: str
) -> Response:
    conversation = load_conversation(session, conversation_id)
    try:
        handoff.take(session=session, conversation_id=conversation.id, agent_id=user.id)
    except handoff.HandoffError as error:
        raise HTTPException(409, str(error)) from None
    session.commit()
    flash(
        request,
        "You hold this conversation now: the customer sees your replies.",
        "success",
    )
    return _back(conversation.id)


@router.post("/conversations/{conversation_id}/reply", dependencies=[Csrf])
def reply(
    request: Request,
    session: DbSession,
    user: Agent,
    conversation_id: str,
    text: Annotated[str, Form(max_length=handoff.MAX_AGENT_TEXT * 2)],
) -> Response:
    """Deliver an agent's message through Rasa, then store it in the log."""
    conversation = load_conversation(session, conversation_id)
    try:
        handoff.check_holder(conversation, user)
        cleaned = handoff.clean_agent_text(text)
    except handoff.HandoffError as error:
        raise HTTPException(409, str(error)) from None
    sender_id = conversation.sender_id
    session.commit()  # no transaction stays open while Rasa answers
    try:
        rasa_client.trigger_intent(
            sender_id,
            rasa_client.AGENT_MESSAGE,
            {"agent_text": cleaned},
            base_url=request.app.state.rasa_url,
        )
    except rasa_client.RasaUnavailable as error:
        context = conversation_context(session, user, conversation)
        context["draft"] = cleaned
        context["reply_error"] = f"{error}. Your text is kept below; send it again."
        return render(request, "conversation.html", context, status_code=503)
    handoff.record_agent_message(
        session=session, conversation=conversation, text=cleaned, now=utcnow()
    )
    session.commit()
    return _back(conversation.id)


@router.post("/conversations/{conversation_id}/release", dependencies=[Csrf])
def release(
    request: Request, session: DbSession, user: Agent, conversation_id: str
) -> Response:
    """Give the conversation back to the bot (Rasa first, so the bot really resumes)."""
    conversation = load_conversation(session, conversation_id)
    try:
        handoff.check_holder(conversation, user)
    except handoff.HandoffError as error:
        raise HTTPException(409, str(error)) from None
    sender_id = conversation.sender_id
    session.commit()
    try:
        rasa_client.trigger_intent(
            sender_id,
            rasa_client.HANDOFF_RELEASED,
            base_url=request.app.state.rasa_url,
        )
    except rasa_client.RasaUnavailable as error:
        flash(request, f"{error}. The conversation is still yours.", "error")
        return _back(conversation.id)
    handoff.release(session=session, conversation=conversation)
    session.commit()
    flash(request, "Released: the bot answers this customer again.", "success")
    return RedirectResponse("/handoffs", status_code=303)
