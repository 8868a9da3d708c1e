"""Live handoff: queue, take, reply through Rasa's HTTP API, release.

Rasa is stood in for by a small real HTTP server that records what it receives and
answers as Rasa's `trigger_intent` endpoint does (or refuses, to test failures)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Conversation, Message, StaffUser
from crm.settings import get_settings
from tests import factories
from tests.web.conftest import log_in, make_staff, post_form

PORT = 18051


class FakeRasa(ThreadingHTTPServer):
    received: list[dict[str, Any]]
    status: int


class Handler(BaseHTTPRequestHandler):
    server: FakeRasa

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.received.append({"path": self.path, "body": body})
        self.send_response(self.server.status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"tracker": {}}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    server = FakeRasa(("127.0.0.1", PORT), Handler)
    server.received = []
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_app(app: FastAPI, rasa: FakeRasa) -> FastAPI:
    app.state.rasa_url = f"http://127.0.0.1:{PORT}"
    return app


def waiting(db: Session) -> Conversation:
    row = factories.conversation(
        db, handoff="requested", sender_id="sock-abc123", language="zh"
    )
    factories.message(db, row, text="我要人工客服", intent="human_handoff")
    db.commit()
    return row


def test_take_reply_release(
    live_app: FastAPI,
    client: TestClient,
    db: Session,
    rasa: FakeRasa,
    login_as: Callable[[str], StaffUser],
) -> None:
    agent = login_as("agent")
    row = waiting(db)
    queue = client.get("/handoffs").text
    assert f"/conversations/{row.id}/take" in queue

    assert post_form(client, f"/conversations/{row.id}/take", {}).status_code == 303
    db.refresh(row)
    assert (row.handoff, row.handoff_agent_id) == ("taken", agent.id)

    reply = post_form(
        client,
        f"/conversations/{row.id}/reply",
        {"text": "您好，我是客服小王。"},
        f"/conversations/{row.id}",
    )
    assert reply.status_code == 303
    assert rasa.received[-1] == {
        "path": "/conversations/sock-abc123/trigger_intent?"
        + urlencode({"output_channel": "socketio", "token": get_settings().rasa_token}),
        "body": {
            "name": "EXTERNAL_agent_message",
            "entities": {"agent_text": "您好，我是客服小王。"},
        },
    }
    stored = db.scalars(
        select(Message).where(
            Message.conversation_id == row.id, Message.sender == "agent"
        )
    ).one()
    assert stored.text == "您好，我是客服小王。" and stored.language == "zh"
    assert stored.event_key.startswith("agent:")

    release = post_form(
        client, f"/conversations/{row.id}/release", {}, f"/conversations/{row.id}"
    )
    assert release.status_code == 303
    assert rasa.received[-1]["body"] == {
        "name": "EXTERNAL_handoff_released",
        "entities": {},
    }
    db.refresh(row)
    assert row.handoff == "released"


def test_reply_keeps_the_text_when_rasa_refuses(
    live_app: FastAPI,
    client: TestClient,
    db: Session,
    rasa: FakeRasa,
    login_as: Callable[[str], StaffUser],
) -> None:
    login_as("agent")
    row = waiting(db)
    post_form(client, f"/conversations/{row.id}/take", {})
    rasa.status = 500
    reply = post_form(
        client,
        f"/conversations/{row.id}/reply",
        {"text": "Sorry <b>for</b> the wait"},
        f"/conversations/{row.id}",
    )
    assert reply.status_code == 503
    assert "not delivered" in reply.text
    assert "Sorry &lt;b&gt;for&lt;/b&gt; the wait</textarea>" in reply.text
    assert (
        db.scalars(
            select(Message).where(
                Message.sender == "agent", Message.conversation_id == row.id
            )
        ).first()
        is None
    )
    release = post_form(
        client, f"/conversations/{row.id}/release", {}, f"/conversations/{row.id}"
    )
    assert release.status_code == 303
    db.refresh(row)
    assert row.handoff == "taken"  # still the agent's: the bot did not resume


def test_unreachable_rasa_is_a_clear_error(
    app: FastAPI,
    client: TestClient,
    db: Session,
    login_as: Callable[[str], StaffUser],
) -> None:
    app.state.rasa_url = "http://127.0.0.1:18059"  # nothing listens there
    login_as("agent")
    row = waiting(db)
    post_form(client, f"/conversations/{row.id}/take", {})
    reply = post_form(
        client,
        f"/conversations/{row.id}/reply",
        {"text": "hello"},
        f"/conversations/{row.id}",
    )
    assert reply.status_code == 503 and "does not answer" in reply.text


def test_only_one_agent_wins_and_only_the_holder_writes(
    live_app: FastAPI,
    client: TestClient,
    db: Session,
    rasa: FakeRasa,
    login_as: Callable[[str], StaffUser],
) -> None:
    login_as("agent")
    row = waiting(db)
    other = TestClient(live_app, follow_redirects=False)
    assert log_in(other, make_staff(db, "agent")).status_code == 303
    assert post_form(other, f"/conversations/{row.id}/take", {}).status_code == 303
    assert post_form(client, f"/conversations/{row.id}/take", {}).status_code == 409
    refused = post_form(
        client,
        f"/conversations/{row.id}/reply",
        {"text": "hi"},
        f"/conversations/{row.id}",
    )
    assert refused.status_code == 409
    assert rasa.received == []


def test_analysts_cannot_take_handoffs(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("analyst")
    row = waiting(db)
    assert post_form(client, f"/conversations/{row.id}/take", {}).status_code == 403


def test_empty_and_huge_replies_are_refused(
    live_app: FastAPI,
    client: TestClient,
    db: Session,
    rasa: FakeRasa,
    login_as: Callable[[str], StaffUser],
) -> None:
    login_as("agent")
    row = waiting(db)
    post_form(client, f"/conversations/{row.id}/take", {})
    page = f"/conversations/{row.id}"
    assert post_form(client, f"{page}/reply", {"text": "   "}, page).status_code == 409
    assert (
        post_form(client, f"{page}/reply", {"text": "x" * 3000}, page).status_code
        == 409
    )
    assert (
        post_form(client, f"{page}/reply", {"text": "x" * 5000}, page).status_code
        == 422
    )
    assert rasa.received == []


def test_live_refresh_api(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("agent")
    row = waiting(db)
    first = client.get(f"/api/conversations/{row.id}/messages").json()
    assert [m["text"] for m in first["messages"]] == ["我要人工客服"]
    last = first["messages"][-1]["id"]
    factories.message(db, row, text="还在吗？", language="zh")
    db.commit()
    newer = client.get(f"/api/conversations/{row.id}/messages?after_id={last}").json()
    assert [m["text"] for m in newer["messages"]] == ["还在吗？"]
    assert newer["handoff"] == "requested"
