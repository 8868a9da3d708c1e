"""The inbox: filters, attention-first order, keyset pages, masking, bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from crm.models import Conversation, Feedback, StaffUser
from tests import factories
from tests.factories import NOW
from web.inbox import (
    InboxFilters,
    conversation_page,
    conversation_query,
    encode_cursor,
)

CONVERSATION_LINK = re.compile(r'href="/conversations/(\d+)"')


def shown(html: str) -> list[int]:
    return [int(n) for n in CONVERSATION_LINK.findall(html)]


@pytest.fixture
def staffed(client: TestClient, login_as: Callable[[str], StaffUser]) -> TestClient:
    login_as("agent")
    return client


def conversation(
    db: Session, text: str = "where is my order", **fields: object
) -> Conversation:
    message_fields = {
        k: fields.pop(k) for k in ("sentiment", "confidence", "intent") if k in fields
    }
    row = factories.conversation(db, **fields)
    factories.message(
        db,
        row,
        text=text,
        language=row.language,
        created_at=row.last_message_at,
        **message_fields,
    )
    db.commit()
    return row


def test_attention_first_then_newest(staffed: TestClient, db: Session) -> None:
    old_urgent = conversation(
        db, needs_attention=True, last_message_at=NOW - timedelta(days=3)
    )
    newest = conversation(db, last_message_at=NOW)
    older = conversation(db, last_message_at=NOW - timedelta(days=1))
    ids = shown(staffed.get("/inbox").text)
    assert ids.index(old_urgent.id) < ids.index(newest.id) < ids.index(older.id)


def test_filters(staffed: TestClient, db: Session) -> None:
    negative = conversation(db, "this is terrible", sentiment="negative")
    unsure = conversation(db, "blorp frobnicate", confidence=0.21)
    chinese = conversation(db, "我的订单在哪里", language="zh")
    escalated = conversation(db, outcome="escalated")
    waiting = conversation(db, handoff="requested")
    plain = conversation(db, "thanks", sentiment="positive")
    cases = {
        "negative=1": {negative.id},
        "low_confidence=1": {unsure.id},
        "language=zh": {chinese.id},
        "status=escalated": {escalated.id},
        "status=handoff": {waiting.id},
        "q=frobnicate": {unsure.id},
        "q=" + plain.sender_id: {plain.id},
        "q=订单": {chinese.id},
    }
    for query, expected in cases.items():
        found = set(shown(staffed.get(f"/inbox?{query}&limit=100").text))
        mine = found & {
            negative.id,
            unsure.id,
            chinese.id,
            escalated.id,
            waiting.id,
            plain.id,
        }
        assert mine == expected, query


def test_free_text_search(staffed: TestClient, db: Session) -> None:
    """Case-insensitive substring of a customer message, wildcards taken literally,
    or an exact sender id or customer email, whatever the other filters say."""
    owner = factories.customer(db, email="mei.search@example.com")
    loud = conversation(db, "My PARCEL is late, 50% off?", sentiment="negative")
    calm = conversation(db, "parcel arrived, thanks", sentiment="positive")
    literal = conversation(db, "code a_b please")
    verified = conversation(db, "hello", customer_id=owner.id)
    bot_only = conversation(db, "hi")
    factories.message(db, bot_only, sender="bot", text="your parcel is coming")
    db.commit()
    mine = {loud.id, calm.id, literal.id, verified.id, bot_only.id}
    cases = {
        "q=parcel": {loud.id, calm.id},
        "q=Parcel&negative=1": {loud.id},
        "q=50%25": {loud.id},
        "q=a_b": {literal.id},
        "q=%25": {loud.id},
        "q=_": {literal.id},
        "q=MEI.search@example.com": {verified.id},
        f"q={calm.sender_id}&negative=1": {calm.id},
    }
    for query, expected in cases.items():
        found = set(shown(staffed.get(f"/inbox?{query}&limit=100").text)) & mine
        assert found == expected, query


def test_free_text_search_can_use_the_trigram_index(
    db: Session, engine: Engine
) -> None:
    """On PostgreSQL the search is written so that the pg_trgm index serves it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no trigram index")
    db.execute(text("SET LOCAL enable_seqscan = off"))
    statement = conversation_query(InboxFilters(text="parcel")).limit(26)
    compiled = statement.compile(engine)
    plan = (
        db.connection()
        .exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        .scalars()
        .all()
    )
    assert any("ix_messages_text_trgm" in line for line in plan), plan


def test_date_range(staffed: TestClient, db: Session) -> None:
    inside = conversation(db, last_message_at=NOW - timedelta(days=40))
    outside = conversation(db, last_message_at=NOW - timedelta(days=80))
    start = (NOW - timedelta(days=45)).date().isoformat()
    end = (NOW - timedelta(days=35)).date().isoformat()
    ids = shown(staffed.get(f"/inbox?date_from={start}&date_to={end}").text)
    assert inside.id in ids and outside.id not in ids


def test_preview_shows_labels_and_masks_contact_details(
    staffed: TestClient, db: Session
) -> None:
    row = conversation(
        db,
        "my email is jane.doe@example.com call +1 415 555 0134",
        intent="edit_account",
        confidence=0.42,
        sentiment="negative",
    )
    page = staffed.get("/inbox?negative=1").text
    assert f"/conversations/{row.id}" in page
    assert "jane.doe@example.com" not in page and "j***@example.com" in page
    assert "415 555 0134" not in page and "**34" in page
    assert "edit_account" in page and "0.42" in page and "negative" in page


def test_keyset_pages_cover_everything_once(db: Session, staffed: TestClient) -> None:
    made = [
        conversation(
            db,
            needs_attention=(n % 3 == 0),
            last_message_at=NOW - timedelta(minutes=n % 4),
            language="zh",
        )
        for n in range(23)
    ]
    seen: list[int] = []
    url = "/inbox?language=zh&limit=5"
    while url:
        html = staffed.get(url).text
        seen += shown(html)
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    mine = [i for i in seen if i in {c.id for c in made}]
    assert sorted(mine) == sorted(c.id for c in made)
    assert len(mine) == len(set(mine))


def test_keyset_page_function_orders_ties_by_id(db: Session) -> None:
    rows = [conversation(db, last_message_at=NOW, language="zh") for _ in range(4)]
    filters = InboxFilters(language="zh")
    first = conversation_page(session=db, filters=filters, after=None, limit=2)
    second = conversation_page(
        session=db, filters=filters, after=first.next_cursor, limit=2
    )
    got = [r.conversation.id for r in first.rows + second.rows]
    assert got == sorted((c.id for c in rows), reverse=True)


@pytest.mark.parametrize(
    "query",
    [
        "after=garbage",
        "after=" + "A" * 150,
        "after=" + encode_cursor(True, "x", 1),
        "after=" + encode_cursor(True, NOW, 10**30),
        "status=bogus",
        "language=fr",
        "date_from=2026-13-45",
        "date_from=2026-02-01&date_to=2026-01-01",
    ],
)
def test_bad_filters_and_cursors_are_400(staffed: TestClient, query: str) -> None:
    assert staffed.get(f"/inbox?{query}").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=99999999999999999999",
        "q=" + "x" * 201,
        "after=" + "A" * 500,
    ],
)
def test_bad_limits_are_422(staffed: TestClient, query: str) -> None:
    assert staffed.get(f"/inbox?{query}").status_code == 422


def test_a_cursor_far_past_the_end_gives_an_empty_page(staffed: TestClient) -> None:
    cursor = encode_cursor(False, NOW - timedelta(days=365 * 200), 1)
    response = staffed.get(f"/inbox?after={cursor}")
    assert response.status_code == 200
    assert "No conversations match" in response.text


def test_feedback_inbox_filters_and_masks(staffed: TestClient, db: Session) -> None:
    bad = Feedback(
        rating=1,
        text="awful, mail me at bob@example.org",
        intent="complain",
        sentiment="negative",
        confidence=0.9,
        language="en",
        created_at=NOW,
    )
    good = Feedback(
        rating=5,
        text="很好",
        intent="give_feedback",
        sentiment="positive",
        confidence=0.95,
        language="zh",
        created_at=NOW,
    )
    db.add_all([bad, good])
    db.commit()
    page = staffed.get("/inbox/feedback?rating_max=2").text
    assert f'id="f{bad.id}"' in page and f'id="f{good.id}"' not in page
    assert "bob@example.org" not in page and "b***@example.org" in page
    zh = staffed.get("/inbox/feedback?language=zh").text
    assert f'id="f{good.id}"' in zh and f'id="f{bad.id}"' not in zh
    assert staffed.get("/inbox/feedback?rating_max=9").status_code == 400
