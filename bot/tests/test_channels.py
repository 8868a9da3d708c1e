"""The REST and socket.io channels (bot/channels.py) on a real Sanic server, with a
real python-socketio client: bad requests get a 4xx, failures a polite reply in the
customer's language, and socket.io replies reach a client with session persistence.

Rasa's message handling is replaced by small handlers here: these tests are about
the channel layer; the full stack is exercised by tests/stack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels import (
    APOLOGY,
    MAX_MESSAGE_CHARS,
    RestInput,
    SocketIOInput,
    clean_text,
    message_language,
)

Handler = Callable[[UserMessage], Awaitable[Any]]


async def echo(message: UserMessage) -> None:
    """Stands in for Rasa: answers with what it received."""
    await message.output_channel.send_text_message(
        message.sender_id, f"echo:{message.text}"
    )


async def action_server_down(message: UserMessage) -> None:
    """What Rasa does when a custom action fails: log it and reply nothing."""
    try:
        raise ConnectionError("Cannot connect to host 127.0.0.1:5055")
    except ConnectionError:
        logging.getLogger("rasa.core.processor").exception(
            "Encountered an exception while running action 'action_check_order_status'."
        )


async def rasa_raises(message: UserMessage) -> None:
    raise RuntimeError("boom")


class Server:
    """One Sanic app with both channels on a free port, in a thread of its own
    (Sanic 21 allows one served app per process); tests swap its `handler`."""

    def __init__(self) -> None:
        self.handler: Handler = echo
        self.port = _free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.start(), self.loop).result(30)

    async def dispatch(self, message: UserMessage) -> None:
        await self.handler(message)

    async def start(self) -> None:
        app = Sanic("kefu_channel_tests")
        self.socketio = SocketIOInput(session_persistence=True)
        for channel in (RestInput(), self.socketio):
            app.blueprint(
                channel.blueprint(self.dispatch),
                url_prefix=f"/webhooks/{channel.name()}",
            )
        self.server = await app.create_server(
            host="127.0.0.1",
            port=self.port,
            return_asyncio_server=True,
            access_log=False,
        )
        await self.server.startup()

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Server:
    return Server()


def rest(server: Server, handler: Handler, body: bytes | str) -> tuple[int, Any]:
    """POST `body` to the REST webhook served by `handler`; (status, json)."""
    server.handler = handler

    async def go() -> tuple[int, Any]:
        async with aiohttp.ClientSession() as client:
            data = body.encode() if isinstance(body, str) else body
            url = server.url("/webhooks/rest/webhook")
            async with client.post(url, data=data) as reply:
                return reply.status, await reply.json()

    return asyncio.run(go())


def ask(text: str, **extra: Any) -> str:
    return json.dumps({"sender": "c1", "message": text, **extra})


def test_a_normal_message(server: Server) -> None:
    assert rest(server, echo, ask("hello")) == (
        200,
        [{"recipient_id": "c1", "text": "echo:hello"}],
    )


def test_bad_requests_get_a_400_saying_why(server: Server) -> None:
    cases = {
        b"{not json": "not valid JSON",
        b"\xff\xfe{}": "not valid UTF-8",
        b"[1, 2]": "JSON object",
        json.dumps({"message": "hi"}).encode(): '"sender"',
        json.dumps({"sender": "", "message": "hi"}).encode(): '"sender"',
        json.dumps({"sender": "x" * 129, "message": "hi"}).encode(): "128",
        json.dumps({"sender": "c1"}).encode(): '"message"',
        json.dumps({"sender": "c1", "message": 5}).encode(): '"message"',
        ask("hi", metadata=[1]).encode(): '"metadata"',
    }
    for body, reason in cases.items():
        status, reply = rest(server, echo, body)
        assert status == 400, body
        assert reason in reply["error"], (body, reply)


def test_a_huge_message_gets_a_413(server: Server) -> None:
    status, reply = rest(server, echo, ask("a" * (MAX_MESSAGE_CHARS + 1)))
    assert status == 413
    assert str(MAX_MESSAGE_CHARS) in reply["error"]


def test_hostile_but_valid_text_is_passed_on_cleaned(server: Server) -> None:
    text = "<script>alert(1)</script>'; DROP TABLE orders;-- \u202eabc 😀\x00\x07ok"
    status, reply = rest(server, echo, ask(text))
    assert status == 200
    assert reply == [
        {
            "recipient_id": "c1",
            "text": "echo:<script>alert(1)</script>'; DROP TABLE orders;-- "
            "\u202eabc 😀ok",
        }
    ]


def test_a_failed_action_is_answered_politely_in_the_customers_language(
    server: Server,
) -> None:
    assert rest(server, action_server_down, ask("where is my order A1000123")) == (
        200,
        [{"recipient_id": "c1", "text": APOLOGY["en"]}],
    )
    assert rest(server, action_server_down, ask("我的订单A1000123到哪了")) == (
        200,
        [{"recipient_id": "c1", "text": APOLOGY["zh"]}],
    )


def test_an_exception_in_rasa_is_answered_politely(server: Server) -> None:
    assert rest(server, rasa_raises, ask("hello")) == (
        200,
        [{"recipient_id": "c1", "text": APOLOGY["en"]}],
    )


def test_message_language() -> None:
    assert message_language("where is my order") == "en"
    assert message_language("我的订单到哪了") == "zh"
    assert message_language("我的 Auralis Buds 订单到哪了") == "zh"
    assert message_language("can you check my 订单 please") == "en"
    assert message_language("A1000123") == "en"
    assert clean_text("a\x00b\tc\nd\x1b") == "ab\tc\nd"


# --- socket.io ------------------------------------------------------------------------


def converse(
    server: Server, handler: Handler, messages: list[Any], *, wait_for: int
) -> tuple[str, list[Any]]:
    """Connect a real socket.io client with a session; return (session, replies)."""
    server.handler = handler

    async def go() -> tuple[str, list[Any]]:
        client = socketio.AsyncClient()
        replies: list[Any] = []
        confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        got_all = asyncio.Event()

        @client.on("session_confirm")
        async def on_confirm(session_id: str) -> None:
            confirmed.set_result(session_id)

        @client.on("bot_uttered")
        async def on_bot(data: Any) -> None:
            replies.append(data)
            if len(replies) >= wait_for:
                got_all.set()

        try:
            await client.connect(
                server.url(), socketio_path="/socket.io", transports=["polling"]
            )
            await client.emit("session_request", {"session_id": "s-123"})
            session = await asyncio.wait_for(confirmed, 10)
            for message in messages:
                await client.emit("user_uttered", message)
            await asyncio.wait_for(got_all.wait(), 10)
            return session, replies
        finally:
            # abort: a polling client would otherwise wait out the long poll
            await client.eio.disconnect(abort=True)

    return asyncio.run(go())


def test_socketio_replies_reach_a_persistent_session(server: Server) -> None:
    session, replies = converse(
        server, echo, [{"message": "hello", "session_id": "s-123"}], wait_for=1
    )
    assert session == "s-123"
    assert replies == [{"text": "echo:hello"}]


def test_socketio_failure_is_polite_and_bad_events_are_ignored(server: Server) -> None:
    _, replies = converse(
        server,
        action_server_down,
        [
            "not a dict",
            {"message": 42, "session_id": "s-123"},
            {"message": "no session"},
            {"message": "你好，查一下订单", "session_id": "s-123"},
        ],
        wait_for=1,
    )
    assert replies == [{"text": APOLOGY["zh"]}]


def test_socketio_pushes_custom_payloads_rasa_sends_unasked(server: Server) -> None:
    """The console's agent reply: Rasa's trigger_intent gets the channel's output."""

    async def agent_reply(message: UserMessage) -> None:
        output = server.socketio.get_output_channel()
        assert output is not None
        await output.send_response(
            message.sender_id, {"custom": {"sender": "agent", "text": "Sam here"}}
        )

    _, replies = converse(
        server, agent_reply, [{"message": "hi", "session_id": "s-123"}], wait_for=1
    )
    assert replies == [{"sender": "agent", "text": "Sam here"}]


def test_socketio_too_long(server: Server) -> None:
    _, replies = converse(
        server,
        echo,
        [{"message": "x" * (MAX_MESSAGE_CHARS + 1), "session_id": "s-123"}],
        wait_for=1,
    )
    assert "too long" in replies[0]["text"]
