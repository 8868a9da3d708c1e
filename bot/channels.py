"""Rasa input channels for the widget and servers: REST and socket.io that never
answer a customer with a 500 or with silence.

* Bad requests get a clear 4xx: malformed JSON or UTF-8, no `sender`, no `message`,
  a message that is too long.
* When the action server is unreachable (Rasa logs the failed action and carries on
  with no reply) or Rasa raises while handling a message, the customer hears
  "Sorry, I can't look that up right now…" in the language of their message.
* socket.io: python-socketio 5 made `AsyncServer.enter_room` a coroutine; Rasa 3.6
  calls it without `await`, so with `session_persistence` the browser never joined
  its session's room and never got a reply. `session_request` is re-registered here
  with the await.

Use them in credentials.yml as `bot.channels.RestInput` and
`bot.channels.SocketIOInput`; their names stay "rest" and "socketio", so URLs
(/webhooks/rest/webhook) and `?output_channel=socketio` keep working. This module is
bot-env code: it imports Rasa, never the app (crm, actions, web).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rasa.core.channels import rest, socketio
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000
"""Longer messages are refused (REST: 413) rather than run through NLU."""
MAX_SENDER_CHARS = 128
"""The conversation log keys conversations by sender id, at most 128 characters."""

APOLOGY = {
    "en": "Sorry, I can't look that up right now. Please try again in a few minutes.",
    "zh": "抱歉，我现在查不到相关信息，请稍后再试。",
}
TOO_LONG = {
    "en": f"Sorry, that message is too long for me. Please keep it under "
    f"{MAX_MESSAGE_CHARS} characters.",
    "zh": f"抱歉，消息太长了，请控制在 {MAX_MESSAGE_CHARS} 个字符以内。",
}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def message_language(text: str) -> str:
    """'zh' when Chinese characters outweigh English words, else 'en'."""
    han = len(_HAN.findall(text or ""))
    words = len(_LATIN_WORD.findall(text or ""))
    return "zh" if han and han / 1.5 >= words else "en"


def clean_text(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and NUL bytes."""
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


# --- noticing failed actions ----------------------------------------------------------

_failures: ContextVar[list[str] | None] = ContextVar("kefu_failures", default=None)


class _FailedActionWatch(logging.Handler):
    """Notes Rasa's "exception while running action" log in the current message.

    Rasa's processor swallows a failed custom action (the action server is down) and
    replies nothing; the note lets the channel apologise instead. The notes live in
    a context variable, so concurrent conversations do not see each other's.
    """

    def emit(self, record: logging.LogRecord) -> None:
        notes = _failures.get()
        if notes is not None and record.exc_info:
            notes.append(record.getMessage())


_watch = _FailedActionWatch(level=logging.ERROR)


def _install_watch() -> None:
    processor_logger = logging.getLogger("rasa.core.processor")
    if _watch not in processor_logger.handlers:
        processor_logger.addHandler(_watch)


@contextmanager
def _watching() -> Iterator[list[str]]:
    notes: list[str] = []
    token = _failures.set(notes)
    try:
        yield notes
    finally:
        _failures.reset(token)


async def handle_politely(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> None:
    """Run Rasa on `message`; apologise in the customer's language if it failed."""
    output: OutputChannel = message.output_channel
    with _watching() as failures:
        try:
            await on_new_message(message)
        except Exception:
            logger.exception(
                "handling a message from sender %s failed", message.sender_id
            )
            failures.append("exception")
    if failures:
        logger.error(
            "answered sender %s with an apology: %s", message.sender_id, failures[0]
        )
        apology = APOLOGY[message_language(message.text or "")]
        await output.send_text_message(message.sender_id, apology)


# --- REST -----------------------------------------------------------------------------


class BadRequest(ValueError):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def parse_rest_body(body: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """(sender, text, metadata) of a webhook request, or BadRequest saying why."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON ({error.msg})") from None
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object")
    sender, text = payload.get("sender"), payload.get("message")
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest('"sender" (a non-empty string) is required')
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f'"sender" is longer than {MAX_SENDER_CHARS} characters')
    if not isinstance(text, str):
        raise BadRequest('"message" (a string) is required')
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadRequest(
            f'"message" is longer than {MAX_MESSAGE_CHARS} characters', status=413
        )
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest('"metadata" must be a JSON object')
    return sender, clean_text(text), metadata


class RestInput(rest.RestInput):
    """Rasa's REST channel with request checks and a polite failure."""

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        _install_watch()
        hooks = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @hooks.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hooks.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata = parse_rest_body(request.body or b"")
            except BadRequest as error:
                return response.json({"error": str(error)}, status=error.status)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=self.name(),
                metadata=metadata,
            )
            await handle_politely(on_new_message, message)
            return response.json(collector.messages)

        return hooks


# --- socket.io ------------------------------------------------------------------------


class SocketIOInput(socketio.SocketIOInput):
    """Rasa's socket.io channel, working with python-socketio 5 and failing politely."""

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        _install_watch()
        hooks = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None

        async def session_request(sid: str, data: Any) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not 0 < len(session_id) <= 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit(
                "session_confirm", session_id, room=sid, namespace=self.namespace
            )

        async def user_message(sid: str, data: Any) -> None:
            message = self.user_message(sid, data)
            if message is None:
                return
            if len(message.text or "") > MAX_MESSAGE_CHARS:
                reply = TOO_LONG[message_language(message.text or "")]
                await message.output_channel.send_text_message(message.sender_id, reply)
                return
            await handle_politely(on_new_message, message)

        async def disconnect(sid: str, reason: Any = None) -> None:
            logger.debug("socket.io client %s disconnected (%s)", sid, reason)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        return hooks

    def user_message(self, sid: str, data: Any) -> UserMessage | None:
        """The UserMessage of a `user_uttered` event, or None if it is unusable."""
        if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
            logger.warning("ignored a malformed socket.io message from %s", sid)
            return None
        if self.session_persistence:
            sender = data.get("session_id")
            if not isinstance(sender, str) or not 0 < len(sender) <= 128:
                logger.warning("ignored a socket.io message without session_id")
                return None
        else:
            sender = sid
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except json.JSONDecodeError:
                metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        assert self.sio is not None
        return UserMessage(
            clean_text(data.get("message", "")),
            socketio.SocketIOOutput(self.sio, self.bot_message_evt),
            sender,
            input_channel=self.name(),
            metadata=metadata,
        )
