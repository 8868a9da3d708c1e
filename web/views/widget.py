"""The customer side: the chat page, and the transcript the widget shows on reload."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from crm.models import Conversation, Message, StaffUser
from crm.signing import NoSigningSecret, sign_customer
from web.deps import DbSession, optional_user
from web.handoff import drop_relay_echoes
from web.templating import render

router = APIRouter(tags=["widget"])

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
HISTORY_LIMIT = 100
EXTERNAL_PREFIX = "EXTERNAL: "
"""Rasa logs an injected intent (agent message, release) as a user message with
this prefix; the customer never typed it."""


@router.get("/chat")
def chat_page(
    request: Request,
    user: Annotated[StaffUser | None, Depends(optional_user)],
    customer_id: Annotated[str | None, Query(max_length=12)] = None,
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """A demo page with the widget embedded as any website would embed it.

    `?customer_id=N` signs N as a logged-in customer, but only for an admin logged
    in to the console (a demo of the signed embed, never open to the public)."""
    signed = None
    if customer_id:
        if user is None or user.role != "admin":
            raise HTTPException(403, "only an admin may open the chat as a customer")
        if not customer_id.isdigit():
            raise HTTPException(400, "customer_id must be a number")
        try:
            signed = sign_customer(int(customer_id))
        except NoSigningSecret as error:
            raise HTTPException(503, str(error)) from None
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "chat.html",
        {
            "user": user,
            "signed": signed,
            "base": base,
            "rasa_url": request.app.state.rasa_url,
            "lang": lang if lang in ("en", "zh") else None,
        },
    )


@router.get("/api/widget/history")
def widget_history(
    session: DbSession,
    session_id: Annotated[str, Query(max_length=128)],
) -> Response:
    """The latest messages of the conversation `session_id` (the socket.io session id,
    which is Rasa's sender id), oldest first. The session id is a random secret the
    widget keeps in localStorage; whoever holds it may read its transcript."""
    if not SESSION_ID.match(session_id):
        raise HTTPException(400, "session_id must be 8-128 letters, digits, - or _")
    conversation_id = session.scalar(
        select(Conversation.id).where(Conversation.sender_id == session_id)
    )
    messages: list[dict[str, Any]] = []
    if conversation_id is not None:
        rows = list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(HISTORY_LIMIT)
            )
        )
        messages = [
            {
                "sender": m.sender,
                "text": m.text,
                "at": m.created_at.isoformat(timespec="seconds") + "Z",
            }
            for m in drop_relay_echoes(rows[::-1])
            if not (m.sender == "user" and m.text.startswith(EXTERNAL_PREFIX))
        ]
    return JSONResponse(
        {"session_id": session_id, "messages": messages},
        headers={"Access-Control-Allow-Origin": "*"},
    )


@router.get("/health", tags=["health"])
@router.get("/healthz", tags=["health"], include_in_schema=False)
def health(session: DbSession) -> dict[str, str]:
    session.execute(select(1))
    return {"status": "ok"}
