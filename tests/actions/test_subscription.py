"""Subscriptions, and the retention offer before cancelling."""

from __future__ import annotations

from decimal import Decimal

from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.confirm import ActionConfirm
from actions.subscription import (
    ActionCancelSubscription,
    ActionChangeSubscription,
    ActionSubscriptionDetails,
)
from crm.models import Customer, RetentionOffer, Subscription, Ticket
from tests import factories
from tests.actions.conftest import make_tracker, render, run, said, slot_event

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def subscriber(session: Session, **fields):
    me = factories.customer(session, **fields)
    plan = factories.plan(session, name_en="Plus", name_zh="进阶版")
    sub = factories.subscription(session, me, plan=plan)
    return me, sub


def answer(me, intent: str, pending: dict, **slots):
    return make_tracker(
        text=intent,
        intent=intent,
        verified=True,
        customer_id=me.id,
        pending_confirmation=pending,
        awaiting_confirmation=True,
        history=[slot_event("pending_confirmation", pending)],
        **slots,
    )


def test_details(crm: Session) -> None:
    me, _ = subscriber(crm)
    tracker = make_tracker(
        intent="check_subscription", verified=True, customer_id=me.id
    )
    events, messages = run(ActionSubscriptionDetails(), tracker)
    assert messages == [
        said(
            "utter_subscription_details",
            plan="Plus",
            price="19.99 USD",
            status="active",
            started_on="Feb 1, 2025",
            renews_on="Dec 1, 2026",
        )
    ]
    assert render(messages[0]) == (
        "You're on the Plus plan at 19.99 USD a month (active), since Feb 1, 2025. "
        "Next renewal: Dec 1, 2026."
    )
    assert events == [
        SlotSet("request_resolved", True),
        SlotSet("last_request", "check_subscription"),
    ]


def test_a_likely_churner_hears_an_offer_and_takes_it(crm: Session) -> None:
    me, sub = subscriber(crm, churn_score=0.72)
    ask = make_tracker(intent="cancel_subscription", verified=True, customer_id=me.id)
    events, messages = run(ActionCancelSubscription(), ask)
    offer = crm.scalars(select(RetentionOffer)).one()
    assert (
        offer.customer_id,
        offer.subscription_id,
        offer.offer,
        offer.churn_score,
        offer.accepted,
    ) == (me.id, sub.id, "half_price_3_months", 0.72, None)
    pending = {
        "kind": "retention_offer",
        "offer_id": offer.id,
        "offer": "half_price_3_months",
        "subscription_id": sub.id,
    }
    assert events == [
        SlotSet("retention_offer_id", offer.id),
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_confirmation", pending),
    ]
    assert messages == [
        said(
            "utter_retention_offer",
            plan="Plus",
            offer="50% off your next 3 months",
            buttons=YES_NO,
        )
    ]
    events, messages = run(ActionConfirm(), answer(me, "affirm", pending))
    crm.refresh(offer)
    assert offer.accepted is True
    assert crm.get(Subscription, sub.id).status == "active"
    assert messages == [
        said("utter_retention_accepted", offer="50% off your next 3 months")
    ]
    assert events[-2:] == [
        SlotSet("request_resolved", True),
        SlotSet("last_request", "cancel_subscription"),
    ]


def test_a_declined_offer_is_recorded_then_cancelling_is_confirmed(
    crm: Session,
) -> None:
    me, sub = subscriber(crm, segment="vip", churn_score=0.1)
    _, _ = run(
        ActionCancelSubscription(),
        make_tracker(
            intent="cancel_subscription",
            verified=True,
            customer_id=me.id,
            language="zh",
        ),
    )
    offer = crm.scalars(select(RetentionOffer)).one()
    assert offer.offer == "free_month"
    pending = {
        "kind": "retention_offer",
        "offer_id": offer.id,
        "offer": "free_month",
        "subscription_id": sub.id,
    }
    events, messages = run(ActionConfirm(), answer(me, "deny", pending, language="zh"))
    crm.refresh(offer)
    assert offer.accepted is False
    cancel = {
        "kind": "cancel_subscription",
        "subscription_id": sub.id,
        "plan": "进阶版",
    }
    assert events == [
        SlotSet("awaiting_confirmation", False),
        SlotSet("pending_confirmation", None),
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_confirmation", cancel),
    ]
    assert (
        render(messages[0], "zh")
        == "确定要取消您的进阶版订阅吗？订阅将于今天结束且不再续费。"
    )
    events, messages = run(ActionConfirm(), answer(me, "affirm", cancel, language="zh"))
    crm.refresh(sub)
    assert sub.status == "cancelled" and sub.renews_on is None
    assert crm.get(Customer, me.id).churned_on == sub.cancelled_on
    assert messages == [said("utter_subscription_cancelled", plan="进阶版")]


def test_a_loyal_low_risk_customer_just_confirms(crm: Session) -> None:
    me, sub = subscriber(crm, churn_score=0.1)
    events, messages = run(
        ActionCancelSubscription(),
        make_tracker(intent="cancel_subscription", verified=True, customer_id=me.id),
    )
    assert crm.scalars(select(RetentionOffer)).all() == []
    assert events == [
        SlotSet("awaiting_confirmation", True),
        SlotSet(
            "pending_confirmation",
            {"kind": "cancel_subscription", "subscription_id": sub.id, "plan": "Plus"},
        ),
    ]
    assert messages == [
        said("utter_confirm_cancel_subscription", plan="Plus", buttons=YES_NO)
    ]


def test_a_big_spender_counts_as_high_value(crm: Session) -> None:
    me, _ = subscriber(crm, churn_score=0.0)
    factories.order(crm, me, status="delivered", total=Decimal("1200.00"))
    run(
        ActionCancelSubscription(),
        make_tracker(intent="cancel_subscription", verified=True, customer_id=me.id),
    )
    assert crm.scalars(select(RetentionOffer.offer)).all() == ["free_month"]


def test_one_offer_per_conversation(crm: Session) -> None:
    me, _ = subscriber(crm, churn_score=0.9)
    tracker = make_tracker(
        intent="cancel_subscription",
        verified=True,
        customer_id=me.id,
        retention_offer_id=1,
    )
    _, messages = run(ActionCancelSubscription(), tracker)
    assert [m["response"] for m in messages] == ["utter_confirm_cancel_subscription"]


def test_no_subscription(crm: Session) -> None:
    me = factories.customer(crm)
    tracker = make_tracker(
        intent="cancel_subscription", verified=True, customer_id=me.id
    )
    assert run(ActionCancelSubscription(), tracker) == (
        [],
        [said("utter_no_subscription")],
    )


def test_change_plan_lists_plans_then_opens_a_ticket(crm: Session) -> None:
    me, sub = subscriber(crm)
    premium = factories.plan(
        crm,
        code="t-premium",
        name_en="Premium",
        name_zh="尊享版",
        monthly_price=Decimal("39.99"),
    )
    ask = make_tracker(
        text="i want to change my plan",
        intent="change_subscription",
        verified=True,
        customer_id=me.id,
    )
    events, messages = run(ActionChangeSubscription(), ask)
    assert events == []
    assert messages[0]["response"] == "utter_which_plan"
    assert {
        "title": "Premium · 39.99 USD",
        "payload": '/change_subscription{"plan": "t-premium"}',
    } in messages[0]["buttons"]
    pick = make_tracker(
        text='/change_subscription{"plan": "t-premium"}',
        intent="change_subscription",
        entities={"plan": "t-premium"},
        verified=True,
        customer_id=me.id,
    )
    events, messages = run(ActionChangeSubscription(), pick)
    ticket = crm.scalars(select(Ticket)).one()
    assert (ticket.category, ticket.subject) == (
        "subscription_change",
        f"Switch plan from {sub.plan.code} to {premium.code}",
    )
    assert messages == [
        said(
            "utter_plan_change_requested",
            plan="Premium",
            renews_on="Dec 1, 2026",
            ticket=ticket.id,
        )
    ]
