"""Subscriptions, and the retention offer before cancelling."""

from __future__ import annotations

from decimal import Decimal

from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.confirm import ActionConfirm
from actions.orders import ActionCancelOrder
from actions.subscription import (
    ActionCancelSubscription,
    ActionChangeSubscription,
    ActionSubscriptionDetails,
)
from crm.models import Customer, RetentionOffer, Subscription, Ticket
from tests import factories
from tests.actions.conftest import answer, run, slot_event, tracker_for, user_event
from tests.actions.expected import SETTLED, YES_NO, asked, render, resolved, said


def subscriber(session: Session, **fields):
    me = factories.customer(session, **fields)
    plan = factories.plan(session, name_en="Plus", name_zh="进阶版")
    sub = factories.subscription(session, me, plan=plan)
    return me, sub


def test_details(crm: Session) -> None:
    me, _ = subscriber(crm)
    tracker = tracker_for(me.id, intent="check_subscription")
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
    assert events == resolved("check_subscription")


def test_a_likely_churner_hears_an_offer_and_takes_it(crm: Session) -> None:
    me, sub = subscriber(crm, churn_score=0.72)
    ask = tracker_for(me.id, intent="cancel_subscription")
    events, messages = run(ActionCancelSubscription(), ask)
    offer = crm.scalars(select(RetentionOffer)).one()
    assert (
        offer.customer_id,
        offer.subscription_id,
        offer.offer,
        offer.churn_score,
        offer.accepted,
    ) == (me.id, sub.id, "half_price_3_months", 0.72, None)
    question = {
        "response": "utter_retention_offer",
        "plan": "Plus",
        "offer": "50% off your next 3 months",
    }
    pending = {
        "kind": "retention_offer",
        "question": question,
        "offer_id": offer.id,
        "offer": "half_price_3_months",
        "subscription_id": sub.id,
    }
    assert events == [SlotSet("retention_offer_id", offer.id), *asked(pending)]
    assert messages == [
        said(
            "utter_retention_offer",
            plan="Plus",
            offer="50% off your next 3 months",
            buttons=YES_NO,
        )
    ]
    events, messages = run(ActionConfirm(), answer(me.id, "affirm", pending))
    crm.refresh(offer)
    assert offer.accepted is True
    assert crm.get(Subscription, sub.id).status == "active"
    assert messages == [
        said("utter_retention_accepted", offer="50% off your next 3 months")
    ]
    assert events == [*SETTLED, *resolved("cancel_subscription")]


def test_a_declined_offer_is_recorded_then_cancelling_is_confirmed(
    crm: Session,
) -> None:
    me, sub = subscriber(crm, segment="vip", churn_score=0.1)
    ask = tracker_for(me.id, intent="cancel_subscription", language="zh")
    run(ActionCancelSubscription(), ask)
    offer = crm.scalars(select(RetentionOffer)).one()
    assert offer.offer == "free_month"
    pending = {
        "kind": "retention_offer",
        "offer_id": offer.id,
        "offer": "free_month",
        "subscription_id": sub.id,
    }
    no = answer(me.id, "deny", pending, language="zh")
    events, messages = run(ActionConfirm(), no)
    crm.refresh(offer)
    assert offer.accepted is False
    cancel = {
        "kind": "cancel_subscription",
        "question": {"response": "utter_confirm_cancel_subscription", "plan": "进阶版"},
        "subscription_id": sub.id,
        "plan": "进阶版",
    }
    assert events == [*SETTLED, *asked(cancel)]
    assert (
        render(messages[0], "zh")
        == "确定要取消您的进阶版订阅吗？订阅将于今天结束且不再续费。"
    )
    yes = answer(me.id, "affirm", cancel, language="zh")
    events, messages = run(ActionConfirm(), yes)
    crm.refresh(sub)
    assert sub.status == "cancelled" and sub.renews_on is None
    assert crm.get(Customer, me.id).churned_on == sub.cancelled_on
    assert messages == [said("utter_subscription_cancelled", plan="进阶版")]


def test_a_loyal_low_risk_customer_just_confirms(crm: Session) -> None:
    me, sub = subscriber(crm, churn_score=0.1)
    ask = tracker_for(me.id, intent="cancel_subscription")
    events, messages = run(ActionCancelSubscription(), ask)
    assert crm.scalars(select(RetentionOffer)).all() == []
    pending = {
        "kind": "cancel_subscription",
        "question": {"response": "utter_confirm_cancel_subscription", "plan": "Plus"},
        "subscription_id": sub.id,
        "plan": "Plus",
    }
    assert events == asked(pending)
    assert messages == [
        said("utter_confirm_cancel_subscription", plan="Plus", buttons=YES_NO)
    ]


def asked_to_cancel(me: Customer) -> dict:
    """The question the bot asks on "cancel my subscription" (pending_confirmation)."""
    events, _ = run(
        ActionCancelSubscription(), tracker_for(me.id, intent="cancel_subscription")
    )
    return events[-1]["value"]


def test_cancel_it_to_cancel_subscription_asks_again_not_about_an_order(
    crm: Session,
) -> None:
    """Seen in a walkthrough: "no thanks, just cancel it" (NLU: cancel_order) to
    "Cancel your subscription?" asked to cancel the order given to verify."""
    me, sub = subscriber(crm, churn_score=0.1)
    order = factories.order(crm, me, status="processing")
    pending = asked_to_cancel(me)
    reply = answer(
        me.id,
        "cancel_order",
        pending,
        text="no thanks, just cancel it",
        order_number=order.number,
    )
    events, messages = run(ActionCancelOrder(), reply)
    assert messages == [
        said("utter_answer_question_first"),
        said("utter_confirm_cancel_subscription", plan="Plus", buttons=YES_NO),
    ]
    assert events == asked(pending)
    run(ActionConfirm(), answer(me.id, "affirm", pending))
    crm.refresh(sub)
    crm.refresh(order)
    assert (sub.status, order.status) == ("cancelled", "processing")


def test_naming_an_order_is_a_new_request(crm: Session) -> None:
    me, _ = subscriber(crm, churn_score=0.1)
    order = factories.order(crm, me, status="processing")
    reply = answer(
        me.id,
        "cancel_order",
        asked_to_cancel(me),
        text=f"no, cancel order {order.number}",
        entities={"order_number": order.number},
    )
    _, messages = run(ActionCancelOrder(), reply)
    assert [m["response"] for m in messages] == ["utter_confirm_cancel_order"]


def test_asking_to_cancel_again_declines_the_offer(crm: Session) -> None:
    me, sub = subscriber(crm, churn_score=0.9)
    offered = asked_to_cancel(me)
    reply = answer(
        me.id,
        "cancel_subscription",
        offered,
        text="i said cancel my subscription",
        retention_offer_id=offered["offer_id"],
    )
    events, messages = run(ActionCancelSubscription(), reply)
    assert crm.scalars(select(RetentionOffer.accepted)).all() == [False]
    assert messages == [
        said("utter_confirm_cancel_subscription", plan="Plus", buttons=YES_NO)
    ]
    assert (
        events[:2] == SETTLED and events[-1]["value"]["kind"] == "cancel_subscription"
    )
    crm.refresh(sub)
    assert sub.status == "active"


def test_a_cancel_request_after_the_question_went_by_is_just_a_request(
    crm: Session,
) -> None:
    me, _ = subscriber(crm, churn_score=0.1)
    pending = {"kind": "cancel_subscription", "subscription_id": 1, "plan": "Plus"}
    later = tracker_for(
        me.id,
        intent="cancel_subscription",
        pending_confirmation=pending,
        history=[
            slot_event("pending_confirmation", pending),
            user_event("hi", "greet"),
        ],
    )
    _, messages = run(ActionCancelSubscription(), later)
    assert [m["response"] for m in messages] == ["utter_confirm_cancel_subscription"]


def test_a_big_spender_counts_as_high_value(crm: Session) -> None:
    me, _ = subscriber(crm, churn_score=0.0)
    factories.order(crm, me, status="delivered", total=Decimal("1200.00"))
    run(ActionCancelSubscription(), tracker_for(me.id, intent="cancel_subscription"))
    assert crm.scalars(select(RetentionOffer.offer)).all() == ["free_month"]


def test_one_offer_per_conversation(crm: Session) -> None:
    me, _ = subscriber(crm, churn_score=0.9)
    tracker = tracker_for(me.id, intent="cancel_subscription", retention_offer_id=1)
    _, messages = run(ActionCancelSubscription(), tracker)
    assert [m["response"] for m in messages] == ["utter_confirm_cancel_subscription"]


def test_no_subscription(crm: Session) -> None:
    me = factories.customer(crm)
    tracker = tracker_for(me.id, intent="cancel_subscription")
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
    ask = tracker_for(
        me.id, text="i want to change my plan", intent="change_subscription"
    )
    events, messages = run(ActionChangeSubscription(), ask)
    assert events == []
    assert messages[0]["response"] == "utter_which_plan"
    assert {
        "title": "Premium · 39.99 USD",
        "payload": '/change_subscription{"plan": "t-premium"}',
    } in messages[0]["buttons"]
    pick = tracker_for(
        me.id,
        text='/change_subscription{"plan": "t-premium"}',
        intent="change_subscription",
        entities={"plan": "t-premium"},
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
