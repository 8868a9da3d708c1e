"""The console's "erase customer" action: admins only, confirmed, CSRF-protected,
audit-logged, and as thorough as `crm erase-customer` (the same crm.erasure code)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.ingest import rasa_events
from crm.models import Conversation, Customer, StaffUser
from tests.crm.test_erasure import MEI, _mei, _text_values, needles
from tests.web.conftest import csrf_of, post_form

Login = Callable[[str], StaffUser]


@pytest.fixture
def mei(db: Session) -> tuple[int, int]:
    """(customer id, id of her verified conversation), with a footprint everywhere."""
    customer = _mei(db)
    db.commit()
    chat = db.scalars(
        select(Conversation.id).where(Conversation.customer_id == customer.id)
    ).one()
    return customer.id, chat


def _erase_url(conversation_id: int) -> str:
    return f"/admin/conversations/{conversation_id}/erase-customer"


def _untouched(db: Session, customer_id: int) -> bool:
    db.expire_all()
    customer = db.get(Customer, customer_id)
    return customer is not None and customer.email == MEI["email"]


def test_admin_erases_the_customer_and_nothing_of_them_remains(
    client: TestClient,
    db: Session,
    login_as: Login,
    mei: tuple[int, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = login_as("admin")
    customer_id, chat = mei
    page = client.get(f"/conversations/{chat}")
    assert f'href="{_erase_url(chat)}"' in page.text
    confirm = client.get(_erase_url(chat))
    assert confirm.status_code == 200
    assert MEI["email"] in confirm.text and "cannot be undone" in confirm.text

    with caplog.at_level(logging.INFO, logger="web.views.admin"):
        erased = post_form(
            client, _erase_url(chat), {"confirm": str(customer_id)}, _erase_url(chat)
        )

    assert erased.status_code == 303 and erased.headers["location"] == "/inbox"
    leftovers = [
        (table, column, needle)
        for table, column, value in _text_values(db)
        for needle in needles()
        if needle.lower() in value.lower()
    ]
    assert leftovers == []
    assert db.get(Conversation, chat) is None
    for sender in ("web-mei-1", "web-mei-2", "web-anon"):  # the tracker store too
        assert not db.scalar(
            select(func.count()).where(rasa_events.c.sender_id == sender)
        )
    audit = [r.getMessage() for r in caplog.records if "audit" in r.getMessage()]
    assert len(audit) == 1
    assert admin.email in audit[0] and f"customer {customer_id} " in audit[0]
    assert "UTC" in audit[0]
    assert f"Customer {customer_id} erased" in client.get("/inbox").text


def test_the_erasure_must_be_confirmed_with_the_customer_number(
    client: TestClient, db: Session, login_as: Login, mei: tuple[int, int]
) -> None:
    login_as("admin")
    customer_id, chat = mei
    for typed in ("", "yes", str(customer_id + 1)):
        refused = post_form(client, _erase_url(chat), {"confirm": typed}, "/inbox")
        assert refused.status_code == 400
        assert f"type {customer_id} to confirm" in refused.text
    assert _untouched(db, customer_id)


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_agents_and_analysts_get_403(
    client: TestClient, db: Session, login_as: Login, mei: tuple[int, int], role: str
) -> None:
    login_as(role)
    customer_id, chat = mei
    assert _erase_url(chat) not in client.get(f"/conversations/{chat}").text
    assert client.get(_erase_url(chat)).status_code == 403
    posted = post_form(client, _erase_url(chat), {"confirm": str(customer_id)})
    assert posted.status_code == 403
    assert _untouched(db, customer_id)


def test_anonymous_visitors_are_sent_to_login(
    client: TestClient, db: Session, mei: tuple[int, int]
) -> None:
    customer_id, chat = mei
    assert client.get(_erase_url(chat)).headers["location"].startswith("/login")
    posted = client.post(_erase_url(chat), data={"confirm": str(customer_id)})
    assert posted.status_code == 403  # no session, so no CSRF token either
    assert _untouched(db, customer_id)


def test_missing_or_forged_csrf_token_is_refused(
    client: TestClient, db: Session, login_as: Login, mei: tuple[int, int]
) -> None:
    login_as("admin")
    customer_id, chat = mei
    csrf_of(client, "/inbox")  # the session has a token; the forms below lack it
    for data in (
        {"confirm": str(customer_id)},
        {"confirm": str(customer_id), "csrf_token": "forged"},
    ):
        assert client.post(_erase_url(chat), data=data).status_code == 403
    assert _untouched(db, customer_id)


def test_a_conversation_without_a_verified_customer_is_404(
    client: TestClient, db: Session, login_as: Login, mei: tuple[int, int]
) -> None:
    login_as("admin")
    anonymous = db.scalars(
        select(Conversation.id).where(Conversation.sender_id == "web-anon")
    ).one()
    assert client.get(_erase_url(anonymous)).status_code == 404
    assert post_form(client, _erase_url(anonymous), {"confirm": "1"}).status_code == 404
    assert client.get(_erase_url(2**31)).status_code == 404
