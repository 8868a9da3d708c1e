"""Rasa input channels for the widget and servers: REST and socket.io that never
answer a customer with a 500 or with silence.

* Bad requests get a clear 4xx: malformed JSON or UTF-8, no `sender`, no `message`,
  a message that is empty once control characters are removed (the NLU pipeline has
  no features for it and raises), a message that is too long, a message that
  triggers a staff-only intent (`/EXTERNAL_...`).
* When the action server is unreachable (Rasa logs the failed action and carries on
  with no reply) or Rasa raises while handling a message, the customer hears
  "Sorry, I can't look that up right now…" in the language of their message.
* When the tracker store (the database) is unreachable, Rasa 3.6's
  `FailSafeTrackerStore` would carry on with an empty in-memory tracker: the customer
  becomes a stranger, and the messages it acknowledges are lost when the database
  comes back. The channels make it raise instead, so the customer hears the apology
  and nothing is acknowledged that was not stored.
* socket.io: python-socketio 5 made `AsyncServer.enter_room` a coroutine; Rasa 3.6
  calls it without `await`, so with `session_persistence` the browser never joined
  its session's room and never got a reply. `session_request` is re-registered here
  with the await. Rasa 3.6's socket.io output also raised on every custom payload
  (the rating prompt); ours sends it. Malformed packets are dropped with a warning.

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
from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Blueprint, Sanic, response
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

STAFF_ONLY_INTENT = re.compile(r"\s*/\s*EXTERNAL_", re.IGNORECASE)
"""`/EXTERNAL_agent_message{...}` would make the bot relay a fake agent message and
`/EXTERNAL_handoff_released` end a handoff: only staff send these, through Rasa's
trigger_intent API, never as customer text."""

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


# --- no in-memory fallback for the tracker store -----------------------------------


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store failed; the message was not processed or not stored."""


def _refuse_fallback(error: Exception) -> None:
    first = str(error).strip().splitlines()
    raise TrackerStoreUnavailable(first[0] if first else type(error).__name__)


def refuse_tracker_fallback(app: Sanic | None) -> None:
    """Make the agent's `FailSafeTrackerStore` raise instead of falling back.

    Its documented `on_tracker_store_error` callback is called on every failed
    retrieve or save; raising there ends the message (the channel apologises).
    """
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    while isinstance(store, FailSafeTrackerStore):
        store._on_tracker_store_error = _refuse_fallback
        store = store._tracker_store


async def handle_politely(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> None:
    """Run Rasa on `message`; apologise in the customer's language if it failed."""
    output: OutputChannel = message.output_channel
    with _watching() as failures:
        try:
            await on_new_message(message)
        except TrackerStoreUnavailable as error:
            logger.error(
                "tracker store unavailable for sender %s: %s", message.sender_id, error
            )
            failures.append("tracker store unavailable")
            if isinstance(output, CollectingOutputChannel):
                output.messages.clear()  # nothing of it was stored
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
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
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
    cleaned = clean_text(text)
    if not cleaned.strip():
        raise BadRequest('"message" is empty')
    if STAFF_ONLY_INTENT.match(cleaned):
        raise BadRequest('"message" may not trigger a staff-only intent')
    return sender, cleaned, metadata


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
            refuse_tracker_fallback(request.app)
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


class SocketIOOutput(socketio.SocketIOOutput):
    """Rasa's socket.io output, with custom payloads that reach the widget.

    Rasa 3.6 spreads a custom payload into `AsyncServer.emit(**payload)`, which
    raises TypeError for any key that is not one of emit's arguments: the rating
    prompt's `{"rating_prompt": true}` failed the whole turn (and its tracker save).
    """

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, json_message)


class SocketIOInput(socketio.SocketIOInput):
    """Rasa's socket.io channel, working with python-socketio 5 and failing politely."""

    def get_output_channel(self) -> SocketIOOutput | None:
        """Our output for messages Rasa sends unasked (the console's agent replies
        through `trigger_intent`), so custom payloads reach the widget there too."""
        if self.sio is None:
            return super().get_output_channel()  # type: ignore[return-value]
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        _install_watch()
        hooks = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        server: dict[str, Sanic] = {}

        @hooks.listener("after_server_start")
        async def remember_app(app: Sanic, _: Any) -> None:
            server["app"] = app

        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not 0 < len(session_id) <= 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit(
                "session_confirm", session_id, room=sid, namespace=self.namespace
            )

        async def user_message(sid: str, data: Any = None, *_: Any) -> None:
            message = self.user_message(sid, data)
            if message is None:
                return
            if len(message.text or "") > MAX_MESSAGE_CHARS:
                reply = TOO_LONG[message_language(message.text or "")]
                await message.output_channel.send_text_message(message.sender_id, reply)
                return
            refuse_tracker_fallback(server.get("app"))
            await handle_politely(on_new_message, message)

        async def disconnect(sid: str, reason: Any = None) -> None:
            logger.debug("socket.io client %s disconnected (%s)", sid, reason)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        _drop_malformed_packets()
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
        text = clean_text(data.get("message", ""))
        if not text.strip():
            logger.warning("ignored an empty socket.io message from %s", sid)
            return None
        if STAFF_ONLY_INTENT.match(text):
            logger.warning("ignored a staff-only intent sent by %s", sid)
            return None
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
            text,
            SocketIOOutput(self.sio, self.bot_message_evt),
            sender,
            input_channel=self.name(),
            metadata=metadata,
        )


class _MalformedPacketFilter(logging.Filter):
    """python-engineio logs a traceback for every malformed packet a client sends
    (broken JSON, an unknown packet type, binary data nobody announced). One warning
    line says enough, and no client can fill the log with tracebacks."""

    NOTES = ("message async handler error", "Unknown receive error")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.NOTES and record.exc_info and record.exc_info[1]:
            error = record.exc_info[1]
            record.msg = "dropped a malformed socket.io packet: %s: %s"
            record.args = (type(error).__name__, str(error)[:200])
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_packet_filter = _MalformedPacketFilter()


def _drop_malformed_packets() -> None:
    engineio_logger = logging.getLogger("engineio.server")
    if _packet_filter not in engineio_logger.filters:
        engineio_logger.addFilter(_packet_filter)
