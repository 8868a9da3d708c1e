"""Erasing a customer leaves nothing personal of them anywhere, and nobody else's
data changes (apart from a mention of the erased email being redacted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Session

from crm import queries
from crm.erasure import ERASED_NAME, REDACTED, erase_customer
from crm.ingest import rasa_events
from crm.models import (
    Conversation,
    Customer,
    Feedback,
    Invoice,
    LabelCorrection,
    Message,
    Order,
    Payment,
    Refund,
    RetentionOffer,
    Shipment,
    ShipmentEvent,
    Subscription,
    Ticket,
    VerificationAttempt,
)
from tests import factories

NOW = factories.NOW
STAMP = 1_790_000_000.0

MEI = {
    "email": "Mei.Lin_Erase@example.org",
    "phone": "+86 138 0013 8000",
    "name_en": "Mei Lin Okonkwo",
    "name_zh": "林美琪",
    "city": "Qiandaohu Town",
    "language": "zh",
    "segment": "vip",
    "churn_score": 0.71,
}
MEI_ADDRESS = "88 Wensan Road, Apt 1202, Qiandaohu"
MEI_TRACKING = "SF7788990011"
MEI_REASON = "Mei says the kettle arrived dented"
MEI_LOCATION = "Qiandaohu depot"


@dataclass
class World:
    mei: Customer
    bob: Customer


def needles() -> list[str]:
    """Everything that would identify Mei, as typed and as JSON escapes it."""
    plain = [
        MEI["email"].lower(),
        MEI["phone"],
        "13800138000",
        "138 0013 8000",
        MEI["name_en"],
        MEI["name_zh"],
        MEI["city"],
        MEI_ADDRESS,
        MEI_TRACKING,
        MEI_REASON,
        MEI_LOCATION,
    ]
    return plain + [json.dumps(n)[1:-1] for n in plain if json.dumps(n)[1:-1] != n]


# --- building a realistic footprint ---


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def _events(session: Session, sender: str, events: list[dict[str, Any]]) -> None:
    rasa_events.create(session.connection(), checkfirst=True)
    session.execute(
        insert(rasa_events),
        [
            {
                "sender_id": sender,
                "type_name": e["event"],
                "timestamp": STAMP + i,
                "data": json.dumps({"timestamp": STAMP + i, **e}),
            }
            for i, e in enumerate(events)
        ],
    )


def _user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "x"}}}


def _bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text}


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def _account(session: Session, owner: Customer, address: str) -> Order:
    """Subscription, order with shipment and refund, invoice and payment, offer."""
    sub = factories.subscription(session, owner)
    order = factories.order(session, owner, shipping_address=address)
    factories.shipment(session, order)
    invoice = _add(
        session,
        Invoice(
            number=f"INV-{owner.id}",
            customer_id=owner.id,
            subscription_id=sub.id,
            order_id=order.id,
            issued_on=date(2026, 10, 1),
            due_on=date(2026, 10, 15),
            amount=Decimal("79.00"),
            status="paid",
        ),
    )
    _add(
        session,
        Payment(
            invoice_id=invoice.id,
            amount=Decimal("79.00"),
            method="card",
            status="succeeded",
            attempted_at=NOW,
        ),
    )
    _add(
        session,
        RetentionOffer(
            customer_id=owner.id,
            subscription_id=sub.id,
            offer="discount_20",
            churn_score=0.7,
            created_at=NOW,
        ),
    )
    return order


def _mei(session: Session) -> Customer:
    mei = factories.customer(session, **MEI)
    order = _account(session, mei, MEI_ADDRESS)
    shipment = session.scalars(
        select(Shipment).where(Shipment.order_id == order.id)
    ).one()
    shipment.tracking_number = MEI_TRACKING
    for event in session.scalars(
        select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment.id)
    ):
        event.location = MEI_LOCATION
    _add(
        session,
        Refund(
            order_id=order.id,
            amount=Decimal("20.00"),
            status="requested",
            reason=MEI_REASON,
            requested_at=NOW,
        ),
    )
    staff = factories.staff(session)
    # A verified conversation, ingested, with feedback, a ticket and a correction.
    chat = factories.conversation(session, sender_id="web-mei-1", customer_id=mei.id)
    first = factories.message(
        session,
        chat,
        text=f"hi, I am {MEI['name_en']}, {MEI['email']}",
        entities=[{"entity": "email", "value": MEI["email"]}],
    )
    factories.message(session, chat, sender="bot", text=f"您好，{MEI['name_zh']}")
    _add(
        session,
        LabelCorrection(
            message_id=first.id,
            field="intent",
            old_value="greet",
            new_value="verify",
            staff_id=staff.id,
            created_at=NOW,
        ),
    )
    _add(
        session,
        Feedback(
            customer_id=mei.id,
            conversation_id=chat.id,
            rating=2,
            text="call me on 138 0013 8000",
            created_at=NOW,
        ),
    )
    queries.create_ticket(
        session=session,
        category="handoff",
        subject=f"{MEI['name_en']} wants a human",
        customer_id=mei.id,
        conversation_id=chat.id,
        transcript=f"{MEI['name_zh']}: my email is {MEI['email']}",
        now=NOW,
    )
    queries.record_verification_attempt(
        session=session,
        sender_id="web-mei-1",
        customer_id=mei.id,
        method="signature",
        succeeded=True,
        now=NOW,
    )
    _events(
        session,
        "web-mei-1",
        [
            _user(f"hi, I am {MEI['name_en']}, {MEI['email']}"),
            _slot("customer_id", mei.id),
            _bot(f"您好，{MEI['name_zh']}"),
        ],
    )
    # Not yet ingested: only Rasa knows this conversation is Mei's.
    _events(
        session,
        "web-mei-2",
        [_slot("customer_id", str(mei.id)), _user("我的电话是13800138000")],
    )
    # Anonymous: someone typed Mei's email and failed to verify.
    anon = factories.conversation(session, sender_id="web-anon")
    factories.message(session, anon, text=f"my email is {MEI['email'].upper()}")
    queries.record_verification_attempt(
        session=session,
        sender_id="web-anon",
        method="email_order",
        succeeded=False,
        now=NOW,
    )
    _events(session, "web-anon", [_user(f"my email is {MEI['email'].upper()}")])
    return mei


def _bob(session: Session) -> Customer:
    bob = factories.customer(session, name_en="Bob Lindqvist", city="Oslo")
    _account(session, bob, "5 Karl Johans gate, Oslo")
    chat = factories.conversation(session, sender_id="web-bob-1", customer_id=bob.id)
    factories.message(session, chat, text="where is my order?")
    factories.message(
        session,
        chat,
        text=f"it is a gift for {MEI['email']}",
        entities=[{"entity": "email", "value": MEI["email"]}],
    )
    _add(
        session,
        Feedback(
            customer_id=bob.id,
            conversation_id=chat.id,
            rating=5,
            text="quick and kind",
            created_at=NOW,
        ),
    )
    queries.create_ticket(
        session=session,
        category="refund",
        subject="Bob Lindqvist refund",
        customer_id=bob.id,
        conversation_id=chat.id,
        transcript="Bob: please refund",
        now=NOW,
    )
    _events(
        session,
        "web-bob-1",
        [
            _slot("customer_id", bob.id),
            _user("where is my order?"),
            _user(f"it is a gift for {MEI['email']}"),
        ],
    )
    return bob


@pytest.fixture
def world(session: Session) -> World:
    return World(mei=_mei(session), bob=_bob(session))


# --- reading everything back ---


def _text_values(session: Session) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text-like value in every table."""
    connection = session.connection()
    found = []
    for name in inspect(connection).get_table_names():
        table = Table(name, MetaData(), autoload_with=connection)
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in connection.execute(select(*columns)) if columns else []:
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    found.append((name, column.name, str(value)))
    return found


def _bob_snapshot(session: Session, bob: Customer) -> dict[str, Any]:
    session.expire_all()
    conversation = select(Conversation.id).where(Conversation.customer_id == bob.id)

    def rows(model: Any, *where: Any) -> list[tuple[Any, ...]]:
        columns = [c for c in model.__table__.columns]
        return [tuple(r) for r in session.execute(select(*columns).where(*where))]

    return {
        "customer": rows(Customer, Customer.id == bob.id),
        "orders": rows(Order, Order.customer_id == bob.id),
        "subscriptions": rows(Subscription, Subscription.customer_id == bob.id),
        "invoices": rows(Invoice, Invoice.customer_id == bob.id),
        "offers": rows(RetentionOffer, RetentionOffer.customer_id == bob.id),
        "feedback": rows(Feedback, Feedback.customer_id == bob.id),
        "tickets": rows(Ticket, Ticket.customer_id == bob.id),
        "conversations": rows(Conversation, Conversation.customer_id == bob.id),
        "messages": rows(Message, Message.conversation_id.in_(conversation)),
        "events": [
            tuple(r)
            for r in session.execute(
                select(rasa_events).where(rasa_events.c.sender_id == "web-bob-1")
            )
        ],
    }


# --- the tests ---


def test_nothing_personal_of_the_customer_remains(
    session: Session, world: World
) -> None:
    before = " ".join(value.lower() for _, _, value in _text_values(session))
    assert [n for n in needles() if n.lower() not in before] == []  # the check sees

    erase_customer(session, customer_id=world.mei.id)

    leftovers = [
        (table, column, needle)
        for table, column, value in _text_values(session)
        for needle in needles()
        if needle.lower() in value.lower()
    ]
    assert leftovers == []


def test_other_customers_are_untouched_but_for_the_redacted_mention(
    session: Session, world: World
) -> None:
    before = _bob_snapshot(session, world.bob)

    erase_customer(session, customer_id=world.mei.id)

    after = _bob_snapshot(session, world.bob)
    for key in before.keys() - {"messages", "events"}:
        assert after[key] == before[key], key
    redacted = f"it is a gift for {REDACTED}"
    text, entities = 4, 10  # Message's columns in table order
    assert [m[text] for m in after["messages"]] == ["where is my order?", redacted]
    assert [m[entities] for m in after["messages"]] == [
        None,
        [{"entity": "email", "value": REDACTED}],
    ]
    unchanged = [
        i for i in range(len(before["messages"][0])) if i not in (text, entities)
    ]
    assert [[m[i] for i in unchanged] for m in after["messages"]] == [
        [m[i] for i in unchanged] for m in before["messages"]
    ]
    assert [json.loads(e[4]).get("text") for e in after["events"]] == [
        None,
        "where is my order?",
        redacted,
    ]


def test_accounting_rows_are_kept_without_personal_data(
    session: Session, world: World
) -> None:
    mei_id = world.mei.id

    counts = erase_customer(session, customer_id=mei_id)

    assert counts == {
        "label_corrections": 1,
        "feedback": 1,
        "tickets": 1,
        "messages": 3,
        "conversations": 2,
        "verification_attempts": 2,
        "events": 6,
        "retention_offers": 1,
        "orders": 1,
        "shipments": 1,
        "shipment_events": 1,
        "refunds": 1,
        "redacted": 2,
        "customers": 1,
    }
    session.expire_all()
    mei = session.get(Customer, mei_id)
    assert mei is not None and mei.erased_at is not None
    assert (mei.name_en, mei.phone, mei.segment, mei.churn_score) == (
        ERASED_NAME,
        None,
        None,
        None,
    )
    assert queries.get_customer(session=session, customer_id=mei_id) is None
    order = session.scalars(select(Order).where(Order.customer_id == mei_id)).one()
    assert (order.total, order.shipping_address) == (Decimal("79.00"), "")
    paid = select(func.count()).select_from(Payment).join(Invoice)
    assert session.scalar(paid.where(Invoice.customer_id == mei_id)) == 1
    subs = select(func.count()).where(Subscription.customer_id == mei_id)
    assert session.scalar(subs) == 1
    attempts = select(func.count()).select_from(VerificationAttempt)
    assert session.scalar(attempts) == 0


def test_a_second_run_sweeps_up_what_arrived_since(
    session: Session, world: World
) -> None:
    erase_customer(session, customer_id=world.mei.id)
    again = erase_customer(session, customer_id=world.mei.id)
    assert again["customers"] == 0
    assert again["events"] == again["conversations"] == again["redacted"] == 0

    _events(session, "web-mei-3", [_slot("customer_id", world.mei.id), _user("hi")])
    later = erase_customer(session, customer_id=world.mei.id)

    assert later["events"] == 2
    remaining = select(func.count()).where(rasa_events.c.sender_id == "web-mei-3")
    assert session.scalar(remaining) == 0


def test_works_before_rasa_ever_created_its_events_table(session: Session) -> None:
    target = factories.customer(session, email="solo@example.net")
    chat = factories.conversation(session, customer_id=target.id)
    factories.message(session, chat, text="solo@example.net here")
    assert not inspect(session.connection()).has_table("events")

    counts = erase_customer(session, customer_id=target.id)

    assert (counts["conversations"], counts["messages"], counts["events"]) == (1, 1, 0)


def test_an_unknown_customer_is_a_clear_error(session: Session) -> None:
    with pytest.raises(queries.NotFound, match="no customer with id 987654"):
        erase_customer(session, customer_id=987654)


def test_stamps_the_given_time(session: Session) -> None:
    target = factories.customer(session)
    when = datetime(2026, 11, 2, 9, 30)
    erase_customer(session, customer_id=target.id, now=when)
    assert target.erased_at == when
