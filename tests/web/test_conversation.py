"""The conversation view: transcript with labels, CRM summary, masking, escaping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm.models import StaffUser, Ticket
from tests import factories
from tests.factories import NOW

XSS = "<img src=x onerror=alert(1)>"


def test_transcript_shows_labels_per_message(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("analyst")
    row = factories.conversation(db)
    factories.message(
        db,
        row,
        text="where is my order",
        intent="order_status",
        confidence=0.87,
        sentiment="neutral",
    )
    factories.message(
        db,
        row,
        sender="bot",
        text="Let me check that.",
        intent=None,
        confidence=None,
        sentiment=None,
        created_at=NOW + timedelta(seconds=1),
    )
    factories.message(
        db,
        row,
        text="你们太慢了",
        language="zh",
        intent="complain",
        confidence=0.31,
        sentiment="negative",
        created_at=NOW + timedelta(seconds=2),
    )
    db.commit()
    page = client.get(f"/conversations/{row.id}").text
    assert "order_status" in page and "0.87" in page
    assert "complain" in page and "0.31" in page and "badge sentiment negative" in page
    assert "Let me check that." in page and "你们太慢了" in page
    assert page.index("where is my order") < page.index("你们太慢了")


def test_customer_text_is_escaped_everywhere(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("admin")
    row = factories.conversation(db, needs_attention=True)
    factories.message(db, row, text=XSS)
    db.commit()
    for path in (f"/conversations/{row.id}", "/inbox", f"/inbox?q={XSS}"):
        page = client.get(path).text
        assert XSS not in page, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, path
    api = client.get(f"/api/conversations/{row.id}/messages").json()
    assert api["messages"][0]["text"] == XSS  # JSON; console.js uses textContent


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_crm_summary_for_a_verified_customer(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("agent")
    customer = factories.customer(
        db,
        email="mei.li@example.com",
        phone="+8613800001234",
        churn_score=0.73,
        segment="at risk",
    )
    factories.order(db, customer, number="A1234567", total=Decimal("12.50"))
    factories.subscription(db, customer)
    db.add(
        Ticket(
            customer_id=customer.id,
            category="refund",
            subject="Refund please",
            status="open",
            priority="high",
            created_at=NOW,
        )
    )
    row = factories.conversation(db, customer_id=customer.id)
    factories.message(db, row, text="hi")
    db.commit()
    page = client.get(f"/conversations/{row.id}").text
    assert "A1234567" in page and "0.73" in page and "at risk" in page
    assert "Refund please" in page and "1 open" in page
    assert "mei.li@example.com" not in page and "m***@example.com" in page
    assert "+8613800001234" not in page


def test_admin_sees_contact_details(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("admin")
    customer = factories.customer(db, email="open.book@example.com")
    row = factories.conversation(db, customer_id=customer.id)
    db.commit()
    assert "open.book@example.com" in client.get(f"/conversations/{row.id}").text


def test_anonymous_conversation_has_no_crm_summary(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("agent")
    row = factories.conversation(db)
    db.commit()
    assert "Not verified" in client.get(f"/conversations/{row.id}").text


@pytest.mark.parametrize(
    "path",
    [
        "/conversations/0",
        "/conversations/-1",
        "/conversations/abc",
        "/conversations/99999999999999999999999",
        "/conversations/2147483647",
        "/conversations/1.5",
        "/conversations/%00",
        "/messages/99999999999",
        "/api/conversations/99999999999999/messages",
    ],
)
def test_bad_ids_are_404(
    client: TestClient, login_as: Callable[[str], StaffUser], path: str
) -> None:
    login_as("admin")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/messages/abc/labels",
        "/messages/99999999999999999999/labels",
        "/feedback/0/labels",
        "/conversations/4294967296/take",
    ],
)
def test_bad_ids_in_posts_are_404(
    client: TestClient, login_as: Callable[[str], StaffUser], path: str
) -> None:
    from tests.web.conftest import post_form

    login_as("admin")
    assert post_form(client, path, {"intent": "greet"}).status_code == 404
