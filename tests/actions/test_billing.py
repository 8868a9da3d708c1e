"""Refunds, invoices and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.billing import (
    ActionListInvoices,
    ActionPaymentStatus,
    ActionRefundStatus,
    ActionRequestRefund,
)
from actions.confirm import ActionConfirm
from crm.models import Conversation, Refund, Ticket
from tests import factories
from tests.actions import factories as more
from tests.actions.conftest import DOMAIN, answer, make_tracker, run, tracker_for
from tests.actions.expected import SETTLED, YES_NO, asked, render, resolved, said


def me_with_delivered_order(session: Session):
    me = factories.customer(session)
    order = factories.order(session, me, status="delivered", total=Decimal("129.00"))
    return me, order


def test_refund_request_confirmed_creates_refund_and_ticket(crm: Session) -> None:
    me, order = me_with_delivered_order(crm)
    text = f"i want my money back for {order.number}, it arrived broken"
    ask = tracker_for(
        me.id,
        sender="refund-1",
        text=text,
        intent="request_refund",
        entities={"order_number": order.number},
    )
    events, messages = run(ActionRequestRefund(), ask)
    question = {
        "response": "utter_confirm_refund",
        "order_number": order.number,
        "amount": "129.00 USD",
    }
    pending = {
        "kind": "request_refund",
        "question": question,
        "order_number": order.number,
        "reason": text,
    }
    assert events == [
        SlotSet("order_number", order.number),
        SlotSet("awaiting", None),
        *asked(pending),
    ]
    assert messages == [
        said(
            "utter_confirm_refund",
            order_number=order.number,
            amount="129.00 USD",
            buttons=YES_NO,
        )
    ]
    yes = answer(me.id, "affirm", pending, sender="refund-1")
    events, messages = run(ActionConfirm(), yes)
    refund = crm.scalars(select(Refund)).one()
    ticket = crm.scalars(select(Ticket)).one()
    conversation = crm.scalars(select(Conversation)).one()
    assert (refund.order_id, refund.status, refund.amount, refund.reason) == (
        order.id,
        "requested",
        Decimal("129.00"),
        text,
    )
    assert (ticket.category, ticket.customer_id, ticket.conversation_id) == (
        "refund",
        me.id,
        conversation.id,
    )
    assert conversation.sender_id == "refund-1"
    assert messages == [
        said(
            "utter_refund_requested",
            order_number=order.number,
            amount="129.00 USD",
            ticket=ticket.id,
        )
    ]
    assert events == [*SETTLED, *resolved("request_refund")]


def test_refund_in_chinese(crm: Session) -> None:
    me, order = me_with_delivered_order(crm)
    ask = tracker_for(
        me.id,
        text=f"{order.number} 我要退款",
        intent="request_refund",
        language="zh",
        entities={"order_number": order.number},
    )
    _, messages = run(ActionRequestRefund(), ask)
    assert (
        render(messages[0], "zh")
        == f"确认为订单 {order.number} 申请 129.00 USD 的退款吗？"
    )
    assert messages[0]["buttons"] == [
        {"title": "是的", "payload": "/affirm"},
        {"title": "不用了", "payload": "/deny"},
    ]


@pytest.mark.parametrize(
    ("status", "refund", "response", "shown"),
    [
        (
            "delivered",
            "approved",
            "utter_refund_exists",
            "approved, payment on its way",
        ),
        ("processing", None, "utter_refund_not_shipped", "being prepared"),
    ],
    ids=["a second refund", "not shipped: cancel instead"],
)
def test_a_refund_is_refused(
    crm: Session, status: str, refund: str | None, response: str, shown: str
) -> None:
    me = factories.customer(crm)
    order = factories.order(crm, me, status=status)
    if refund is not None:
        more.refund(crm, order, status=refund)
    ask = tracker_for(
        me.id, intent="request_refund", entities={"order_number": order.number}
    )
    events, messages = run(ActionRequestRefund(), ask)
    assert messages == [said(response, order_number=order.number, status=shown)]
    assert events == [SlotSet("order_number", order.number), SlotSet("awaiting", None)]


def test_refund_status(crm: Session) -> None:
    me, order = me_with_delivered_order(crm)
    more.refund(crm, order, status="paid", completed_at=datetime(2026, 11, 3, 9, 0))
    tracker = tracker_for(me.id, intent="refund_status")
    events, messages = run(ActionRefundStatus(), tracker)
    assert messages == [
        said(
            "utter_refund_status",
            refunds=f"{order.number} · 129.00 USD · paid back · Nov 3, 2026",
        )
    ]
    assert events == resolved("refund_status")


def test_no_refunds(crm: Session) -> None:
    me = factories.customer(crm)
    tracker = tracker_for(me.id, intent="refund_status")
    assert run(ActionRefundStatus(), tracker) == ([], [said("utter_no_refunds")])


def test_invoices(crm: Session) -> None:
    me = factories.customer(crm)
    old = more.invoice(crm, me, issued_on=date(2026, 9, 1))
    new = more.invoice(crm, me, issued_on=date(2026, 10, 1), status="failed")
    tracker = tracker_for(me.id, intent="get_invoice", language="zh")
    _, messages = run(ActionListInvoices(), tracker)
    assert messages == [
        said(
            "utter_invoices",
            invoices=(
                f"{new.number} · 2026年10月1日 · 19.99 USD · 支付失败\n"
                f"{old.number} · 2026年9月1日 · 19.99 USD · 已支付"
            ),
        )
    ]


def test_the_invoices_of_the_order_named_and_only_the_customers_own(
    crm: Session,
) -> None:
    """Seen in a walkthrough: "A1000009的发票" listed the latest invoices, not that
    order's."""
    me, someone_else = factories.customer(crm), factories.customer(crm)
    mine, theirs = factories.order(crm, me), factories.order(crm, someone_else)
    bill = more.invoice(crm, me, order_id=mine.id, issued_on=date(2026, 9, 1))
    more.invoice(crm, me, issued_on=date(2026, 10, 1))
    more.invoice(crm, someone_else, order_id=theirs.id)
    request = {"order_number": mine.number.lower()}
    question = tracker_for(me.id, intent="get_invoice", entities=request)
    events, messages = run(ActionListInvoices(), question)
    assert messages == [
        said(
            "utter_order_invoices",
            order_number=mine.number,
            invoices=f"{bill.number} · Sep 1, 2026 · 19.99 USD · paid",
        )
    ]
    assert events == resolved("get_invoice")
    request = {"order_number": theirs.number}
    question = tracker_for(me.id, intent="get_invoice", entities=request)
    assert run(ActionListInvoices(), question) == (
        [],
        [said("utter_no_invoices_for_order", order_number=theirs.number)],
    )


def test_a_failed_payment_is_explained(crm: Session) -> None:
    me = factories.customer(crm)
    bill = more.invoice(crm, me, status="failed")
    more.payment(crm, bill, status="succeeded", attempted_at=datetime(2026, 9, 1))
    more.payment(
        crm,
        bill,
        status="failed",
        failure_reason="card_declined",
        attempted_at=datetime(2026, 10, 1, 8, 0),
    )
    tracker = tracker_for(me.id, intent="payment_issue")
    events, messages = run(ActionPaymentStatus(), tracker)
    assert messages == [
        said(
            "utter_payment_failed",
            amount="19.99 USD",
            method="card",
            invoice=bill.number,
            date="Oct 1, 2026",
            reason="the card was declined",
        )
    ]
    assert "failed: the card was declined" in render(messages[0])
    assert events == resolved("payment_issue")


def test_payments_all_fine(crm: Session) -> None:
    me = factories.customer(crm)
    bill = more.invoice(crm, me)
    more.payment(crm, bill, method="alipay", attempted_at=datetime(2026, 10, 2))
    tracker = tracker_for(me.id, intent="payment_issue", language="zh")
    _, messages = run(ActionPaymentStatus(), tracker)
    assert render(messages[0], "zh") == (
        f"您最近的一笔付款已成功：2026年10月2日 通过支付宝为发票 {bill.number} 支付 "
        "19.99 USD。没有发现失败的付款。如果仍有扣款不对（例如被重复扣款），"
        "我可以为您转接人工客服。"
    )
    # someone who came with a problem the records do not show is offered a person
    for variation in DOMAIN["responses"]["utter_payments_ok"]:
        payloads = [b["payload"] for b in variation["buttons"]]
        assert payloads == ["/human_handoff", "/deny"]


def test_billing_needs_verification(crm: Session) -> None:
    tracker = make_tracker(intent="get_invoice")
    assert run(ActionListInvoices(), tracker) == ([], [])
