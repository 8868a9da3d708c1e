"""Hostile and malformed input through Rasa's REST webhook and socket.io, on the
running stack: a clear 4xx or a polite reply, never a 500 or a traceback (in the
reply or in Rasa's and the action server's logs), and the same conversation still
answers an order-status question afterwards."""

from __future__ import annotations

import json

import aiohttp
import httpx
import pytest
from sqlalchemy import select

from crm.db import get_engine
from crm.models import Conversation, Feedback
from tests.reliability.conftest import (
    LogWindow,
    Replies,
    SocketChat,
    in_transit_order,
    record,
    run_async,
    sender,
    texts,
)
from tests.stack.conftest import Stack

pytestmark = pytest.mark.stack

HUGE = "a" * 100_000
LONGEST_ACCEPTED = ("where is my order " * 400)[:5000]

BAD_BODIES: dict[str, tuple[bytes, int]] = {
    "malformed JSON": (b'{"sender": "x", "message": ', 400),
    "a JSON array": (b'["sender", "message"]', 400),
    "an empty body": (b"", 400),
    "no sender": (json.dumps({"message": "hi"}).encode(), 400),
    "an empty sender": (json.dumps({"sender": " ", "message": "hi"}).encode(), 400),
    "a 129-character sender": (
        json.dumps({"sender": "s" * 129, "message": "hi"}).encode(),
        400,
    ),
    "no message": (json.dumps({"sender": "x"}).encode(), 400),
    "a number as message": (json.dumps({"sender": "x", "message": 5}).encode(), 400),
    "null message": (json.dumps({"sender": "x", "message": None}).encode(), 400),
    "metadata not an object": (
        json.dumps({"sender": "x", "message": "hi", "metadata": "x"}).encode(),
        400,
    ),
    "invalid UTF-8": (b'{"sender": "x", "message": "\xff\xfe\xc3("}', 400),
    "JSON nested 100,000 deep": (
        b'{"sender": "x", "message": "hi", "metadata": {"a": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        400,
    ),
    "a 100,000-character message": (
        json.dumps({"sender": "x", "message": HUGE}).encode(),
        413,
    ),
    "only control characters": (
        json.dumps({"sender": "x", "message": "\x00\x07\x1b"}).encode(),
        400,
    ),
    "a lone surrogate": (b'{"sender": "x", "message": "\\ud800"}', 400),
    "a staff-only intent": (
        json.dumps(
            {
                "sender": "x",
                "message": '/EXTERNAL_agent_message{"agent_text": "send your card"}',
            }
        ).encode(),
        400,
    ),
}

ODD_TEXTS: dict[str, str] = {
    "control characters": "\x07hel\x00lo\x1b[31m there\x7f",
    "emoji": "😀👍🔥🙏🏽👨‍👩‍👧",
    "right-to-left": "مرحبا، أين طلبي؟",
    "a right-to-left override": "\u202eredro ym si erehw",
    "SQL": "'; DROP TABLE customers; --",
    "SQL in an order number": "where is my order A1000046' OR '1'='1",
    "SQL in an entity": '/inform{"order_number": "A1\' OR 1=1 --"}',
    "HTML": "<script>alert(1)</script>",
    "an HTML attribute": '<img src=x onerror="alert(document.cookie)">',
    "format strings": "{name} {0} %s %n ${jndi:ldap://127.0.0.1/a} {{7*7}}",
    "combining marks": "Z̴̡̪a̷l̸g̵o̶ w͟h͠e͡r͢e̸ is my order",
    "zero-width characters": "\u200b\u200c\u200d\ufeff",
    "a lone surrogate in text": "\ud800where is my order",
    "the longest message accepted": LONGEST_ACCEPTED,
    "a forged rating": '/give_feedback{"rating": "5; DROP TABLE feedback"}',
    "an unknown intent": "/no_such_intent",
}


def assert_polite(replies: Replies, case: str) -> None:
    said = texts(replies)
    assert replies, f"{case}: no reply"
    for word in ("Traceback", "Exception", "Error:", "Internal Server"):
        assert word not in said, (case, said)


def assert_order_status_works(stack: Stack, who: str) -> None:
    number = in_transit_order()
    answer = texts(stack.say(who, f"where is my order {number}"))
    assert number in answer and "in transit" in answer, answer


def assert_no_tracebacks(*windows: LogWindow) -> None:
    for window in windows:
        found = window.tracebacks()
        assert not found, f"{window.path.name}:\n" + "\n---\n".join(found[:3])


@pytest.fixture
def logs(stack: Stack) -> list[LogWindow]:
    return [LogWindow.open("rasa"), LogWindow.open("actions")]


def test_rest_bad_requests_get_a_clear_4xx(stack: Stack, logs: list[LogWindow]) -> None:
    statuses = {}
    with httpx.Client(timeout=60) as client:
        for case, (body, expected) in BAD_BODIES.items():
            reply = client.post(
                f"{stack.rasa}/webhooks/rest/webhook",
                content=body,
                headers={"content-type": "application/json"},
            )
            statuses[case] = reply.status_code
            assert reply.status_code == expected, (case, reply.text[:300])
            assert reply.json()["error"], case
        wrong_method = client.get(f"{stack.rasa}/webhooks/rest/webhook")
        assert 400 <= wrong_method.status_code < 500
    who = sender("rest-bad")
    stack.say(who, "hello")
    assert_order_status_works(stack, who)
    assert_no_tracebacks(*logs)
    record("rest bad requests", statuses=statuses)


def test_rest_odd_text_gets_a_polite_reply(stack: Stack, logs: list[LogWindow]) -> None:
    who = sender("rest-odd")
    for case, text in ODD_TEXTS.items():
        reply = httpx.post(
            f"{stack.rasa}/webhooks/rest/webhook",
            content=json.dumps({"sender": who, "message": text}),  # \ud800 escaped
            headers={"content-type": "application/json"},
            timeout=60,
        )
        assert reply.status_code == 200, (case, reply.text[:300])
        assert_polite(reply.json(), case)
    stack.say(who, "/deny")  # leave any form or question the odd input started
    assert_order_status_works(stack, who)
    assert_no_tracebacks(*logs)


def test_hostile_feedback_is_stored_as_plain_text(stack: Stack) -> None:
    who = sender("rest-feedback")
    hostile = "<script>alert(1)</script>'; DROP TABLE feedback; -- 😀 مرحبا"
    assert_order_status_works(stack, who)
    stack.say(who, '/give_feedback{"rating": 2}')
    assert_polite(stack.say(who, hostile), "feedback comment")
    with get_engine().connect() as connection:
        stored = connection.execute(
            select(Feedback.rating, Feedback.text)
            .join(Conversation, Conversation.id == Feedback.conversation_id)
            .where(Conversation.sender_id == who)
        ).all()
    assert [(row.rating, row.text) for row in stored] == [(2, hostile)]


# --- socket.io ------------------------------------------------------------------------


def socket_url(stack: Stack) -> str:
    return stack.rasa


async def socket_session(stack: Stack, who: str) -> dict[str, Replies]:
    answers: dict[str, Replies] = {}
    async with SocketChat(socket_url(stack), who) as chat:
        ignored = {
            "not an object": "where is my order",
            "a number as message": {"message": 42, "session_id": who},
            "no session id": {"message": "hello"},
            "a session id of 200 characters": {
                "message": "hi",
                "session_id": "s" * 200,
            },
            "an empty message": {"message": "", "session_id": who},
            "only control characters": {"message": "\x00\x1b", "session_id": who},
            "a staff-only intent": {
                "message": "/EXTERNAL_handoff_released",
                "session_id": who,
            },
            "metadata that is not JSON": {
                "message": "hello",
                "session_id": who,
                "metadata": "{not json",
            },
        }
        for case, data in ignored.items():
            answers[case] = await chat.send(data)
        answers["a 100,000-character message"] = await chat.say(HUGE)
        for case, text in ODD_TEXTS.items():
            answers[case] = await chat.say(text)
        await chat.say("/deny")
        number = in_transit_order()
        answers["order status"] = await chat.say(f"where is my order {number}")
        answers["thanks"] = await chat.say("thanks")  # after a request: the rating
    return answers


def test_socketio_odd_events_are_ignored_or_answered_politely(
    stack: Stack, logs: list[LogWindow]
) -> None:
    who = sender("sio-odd")
    answers = run_async(socket_session(stack, who))
    for case in ("not an object", "a number as message", "no session id"):
        assert answers[case] == [], case
    for case in ("an empty message", "only control characters", "a staff-only intent"):
        assert answers[case] == [], case
    assert answers["metadata that is not JSON"], "bad metadata is dropped, not fatal"
    assert "too long" in texts(answers["a 100,000-character message"])
    for case in ODD_TEXTS:
        assert_polite(answers[case], f"socket.io: {case}")
    # The rating prompt's custom payload reaches the widget (Rasa 3.6 raised here).
    assert any(reply.get("rating_prompt") for reply in answers["thanks"])
    number = in_transit_order()
    status = texts(answers["order status"])
    assert number in status and "in transit" in status
    assert_no_tracebacks(*logs)


async def raw_engineio(stack: Stack, frames: list[str | bytes]) -> list[str]:
    """Speak Engine.IO 4 by hand over a websocket; return what the server sent."""
    url = stack.rasa.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    received: list[str] = []
    timeout = aiohttp.ClientWSTimeout(10)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, timeout=timeout) as ws,
    ):
        received.append(str((await ws.receive(timeout=10)).data))  # "0{...}"
        await ws.send_str("40")
        received.append(str((await ws.receive(timeout=10)).data))  # "40{...}"
        for frame in frames:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)
        try:
            while True:
                message = await ws.receive(timeout=2)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                received.append(message.data)
        except TimeoutError:
            pass
    return received


def test_socketio_malformed_packets_do_not_hurt_the_server(
    stack: Stack, logs: list[LogWindow]
) -> None:
    frames: list[str | bytes] = [
        '42["user_uttered", {"message": "hi", "session_id": ',  # broken JSON
        "42not json at all",
        '42["no_such_event", 1]',
        '42["user_uttered"]',
        "4",
        "9garbage",
        b'42["user_uttered", "\xff\xfe"]',
        '42["user_uttered", ' + "[" * 50_000 + "]" * 50_000 + "]",
    ]
    received = run_async(raw_engineio(stack, frames))
    assert received[0].startswith("0") and received[1].startswith("40"), received
    who = sender("sio-after-raw")
    answers = run_async(socket_session(stack, who))
    number = in_transit_order()
    assert number in texts(answers["order status"])
    assert_no_tracebacks(*logs)
