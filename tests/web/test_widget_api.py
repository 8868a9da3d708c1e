"""The customer side: the chat page and the history API."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.models import StaffUser
from crm.settings import get_settings
from crm.signing import signature_valid
from tests import factories
from tests.factories import NOW


def test_history_returns_the_transcript_oldest_first(
    client: TestClient, db: Session
) -> None:
    row = factories.conversation(db, sender_id="0123456789abcdef0123456789abcdef")
    factories.message(db, row, text="where is my order", created_at=NOW)
    factories.message(
        db,
        row,
        sender="bot",
        text="It ships tomorrow.",
        intent=None,
        created_at=NOW + timedelta(seconds=2),
    )
    factories.message(
        db,
        row,
        text="EXTERNAL: EXTERNAL_agent_message",
        intent="EXTERNAL_agent_message",
        created_at=NOW + timedelta(seconds=4),
    )
    factories.message(
        db,
        row,
        sender="bot",  # the bot's relay of the agent's text, as ingest logs it
        text="Hi, Anna here.",
        intent=None,
        created_at=NOW + timedelta(seconds=6),
    )
    factories.message(
        db,
        row,
        sender="agent",
        text="Hi, Anna here.",
        intent=None,
        created_at=NOW + timedelta(seconds=5),
    )
    db.commit()
    response = client.get(f"/api/widget/history?session_id={row.sender_id}")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert [(m["sender"], m["text"]) for m in body["messages"]] == [
        ("user", "where is my order"),
        ("bot", "It ships tomorrow."),
        ("agent", "Hi, Anna here."),
    ]
    assert body["messages"][0]["at"] == "2026-11-01T12:00:00Z"
    assert "intent" not in body["messages"][0]  # customers never see our labels


def test_unknown_session_has_an_empty_history(client: TestClient) -> None:
    response = client.get("/api/widget/history?session_id=neverseen12345")
    assert response.status_code == 200 and response.json()["messages"] == []


@pytest.mark.parametrize(
    "session_id",
    [
        "short",
        "has spaces in it",
        "../../etc/passwd",
        "x" * 129,
        "<script>alert(1)</script>",
    ],
)
def test_bad_session_ids_are_refused(client: TestClient, session_id: str) -> None:
    response = client.get("/api/widget/history", params={"session_id": session_id})
    assert response.status_code in (400, 422)


def test_chat_page_embeds_the_widget(client: TestClient) -> None:
    page = client.get("/chat")
    assert page.status_code == 200
    assert re.search(
        r'<script src="http://testserver/static/widget.js" '
        r'data-rasa="http://[^"]+"',
        page.text,
    )
    assert "data-signature" not in page.text
    policy = page.headers["content-security-policy"]
    assert "connect-src 'self' http://" in policy and " ws://" in policy


def test_only_admins_may_open_the_chat_as_a_customer(
    client: TestClient, login_as: Callable[[str], StaffUser]
) -> None:
    assert client.get("/chat?customer_id=7").status_code == 403
    login_as("admin")
    page = client.get("/chat?customer_id=7").text
    found = re.search(
        r'data-customer-id="7" data-timestamp="(\d+)" '
        r'data-signature="([0-9a-f]{64})"',
        page,
    )
    assert found
    assert signature_valid("7", int(found.group(1)), found.group(2))


def test_without_a_signing_secret_the_admin_page_says_so(
    client: TestClient,
    login_as: Callable[[str], StaffUser],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "signing_secret", "")
    login_as("admin")
    page = client.get("/chat?customer_id=7")
    assert page.status_code == 503 and "make secrets" in page.text
    assert "data-signature" not in page.text


def test_static_widget_files_are_served(client: TestClient) -> None:
    assert "attachShadow" in client.get("/static/widget.js").text
    assert client.get("/static/widget.css").status_code == 200


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_spec_lists_the_console(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "/inbox" in spec["paths"] and "/api/widget/history" in spec["paths"]
