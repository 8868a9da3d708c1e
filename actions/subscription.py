"""Subscriptions: details, changing plan, and cancelling, where customers we are
likely to lose (high churn score) or would hate to lose (high value) first hear a
retention offer, and whether they took it is recorded."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import common
from actions.confirm import answer_by_cancel_request, ask, confirms, declines
from crm import queries
from crm.queries import PlanInfo, SubscriptionInfo

logger = logging.getLogger(__name__)

OFFERS = {
    "half_price_3_months": ("50% off your next 3 months", "接下来 3 个月享 5 折优惠"),
    "free_month": ("your next month free", "下个月免费"),
}


def plan_name(plan: SubscriptionInfo | PlanInfo, lang: str) -> str:
    if isinstance(plan, SubscriptionInfo):
        return plan.plan_zh if lang == "zh" else plan.plan_en
    return plan.name_zh if lang == "zh" else plan.name_en


def choose_offer(churn_score: float | None) -> str:
    """A steeper discount for the customers most likely to leave."""
    if (churn_score or 0.0) >= queries.HIGH_CHURN_SCORE:
        return "half_price_3_months"
    return "free_month"


@common.handles("check_subscription")
class ActionSubscriptionDetails(common.CustomerAction):
    def name(self) -> str:
        return "action_subscription_details"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        current = common.crm_call(queries.current_subscription, customer)
        if current is None:
            dispatcher.utter_message(response="utter_no_subscription")
            return []
        lang = common.language(tracker)
        dispatcher.utter_message(
            response="utter_subscription_details",
            plan=plan_name(current, lang),
            price=common.money(current.monthly_price),
            status=common.label(common.SUBSCRIPTION_STATUS, current.status, lang),
            started_on=common.day(current.started_on, lang),
            renews_on=common.day(current.renews_on, lang),
        )
        return common.resolved("check_subscription")


@common.handles("cancel_subscription")
class ActionCancelSubscription(common.CustomerAction):
    """Offer to keep the customer first when it is worth it, else confirm."""

    def name(self) -> str:
        return "action_cancel_subscription"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        answered = answer_by_cancel_request(dispatcher, tracker)
        if answered is not None:
            return answered
        offered_before = tracker.get_slot("retention_offer_id") is not None
        with common.crm_session() as session:
            current = queries.current_subscription(
                session=session, customer_id=customer
            )
            if current is None:
                offer_id = None
            elif not offered_before and queries.retention_offer_due(
                session=session, customer_id=customer
            ):
                info = queries.get_customer(session=session, customer_id=customer)
                offer = choose_offer(None if info is None else info.churn_score)
                offer_id = queries.record_retention_offer(
                    session=session,
                    customer_id=customer,
                    subscription_id=current.id,
                    offer=offer,
                )
            else:
                offer_id = None
        if current is None:
            dispatcher.utter_message(response="utter_no_subscription")
            return []
        lang = common.language(tracker)
        if offer_id is not None:
            question = {
                "response": "utter_retention_offer",
                "plan": plan_name(current, lang),
                "offer": common.label(OFFERS, offer, lang),
            }
            return [
                SlotSet("retention_offer_id", offer_id),
                *ask(
                    dispatcher,
                    tracker,
                    "retention_offer",
                    question,
                    offer_id=offer_id,
                    offer=offer,
                    subscription_id=current.id,
                ),
            ]
        return ask_to_cancel(dispatcher, tracker, current.id, plan_name(current, lang))


def ask_to_cancel(
    dispatcher: CollectingDispatcher, tracker: Tracker, subscription_id: int, plan: str
) -> list[EventType]:
    question = {"response": "utter_confirm_cancel_subscription", "plan": plan}
    return ask(
        dispatcher,
        tracker,
        "cancel_subscription",
        question,
        subscription_id=subscription_id,
        plan=plan,
    )


def record_outcome(
    session: Session, customer: int, params: dict[str, Any], *, accepted: bool
) -> None:
    """Whether the customer took the retention offer they were asked about."""
    queries.set_retention_outcome(
        session=session,
        customer_id=customer,
        offer_id=int(params["offer_id"]),
        accepted=accepted,
    )


@confirms("retention_offer")
def offer_accepted(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    with common.crm_session() as session:
        record_outcome(session, customer, params, accepted=True)
    lang = common.language(tracker)
    dispatcher.utter_message(
        response="utter_retention_accepted",
        offer=common.label(OFFERS, params["offer"], lang),
    )
    return common.resolved("cancel_subscription")


@declines("retention_offer")
def offer_declined(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    with common.crm_session() as session:
        record_outcome(session, customer, params, accepted=False)
        current = queries.current_subscription(session=session, customer_id=customer)
    if current is None:
        dispatcher.utter_message(response="utter_no_subscription")
        return []
    lang = common.language(tracker)
    return ask_to_cancel(dispatcher, tracker, current.id, plan_name(current, lang))


@confirms("cancel_subscription")
def cancel_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    try:
        with common.crm_session() as session:
            queries.cancel_subscription(
                session=session,
                customer_id=customer,
                subscription_id=int(params["subscription_id"]),
            )
    except queries.NotFound:
        dispatcher.utter_message(response="utter_no_subscription")
        return []
    dispatcher.utter_message(
        response="utter_subscription_cancelled", plan=params["plan"]
    )
    return common.resolved("cancel_subscription")


@declines("cancel_subscription")
def cancel_declined(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    dispatcher.utter_message(response="utter_subscription_kept", plan=params["plan"])
    return common.resolved("cancel_subscription")


def plan_mentioned(tracker: Tracker, options: list[PlanInfo]) -> PlanInfo | None:
    """The plan the customer named (entity `plan`, or a plan name in the text)."""
    wanted = common.latest_entity(tracker, "plan")
    text = common.latest_text(tracker).lower()
    for plan in options:
        if wanted and wanted.lower() in (plan.code, plan.name_en.lower(), plan.name_zh):
            return plan
    for plan in options:
        if plan.name_en.lower() in text.split() or plan.name_zh in text:
            return plan
    return None


@common.handles("change_subscription")
class ActionChangeSubscription(common.CustomerAction):
    """Switch plan: staff apply it at the next renewal, so the bot opens a ticket."""

    def name(self) -> str:
        return "action_change_subscription"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        lang = common.language(tracker)
        with common.crm_session() as session:
            current = queries.current_subscription(
                session=session, customer_id=customer
            )
            options = queries.plans(session=session)
            wanted = plan_mentioned(tracker, options)
            ticket = None
            if (
                current is not None
                and wanted is not None
                and wanted.code != current.plan_code
            ):
                ticket = common.open_ticket(
                    session,
                    tracker,
                    customer,
                    category="subscription_change",
                    subject=f"Switch plan from {current.plan_code} to {wanted.code}",
                )
        if current is None:
            dispatcher.utter_message(response="utter_no_subscription")
            return []
        if ticket is not None and wanted is not None:
            dispatcher.utter_message(
                response="utter_plan_change_requested",
                plan=plan_name(wanted, lang),
                renews_on=common.day(current.renews_on, lang),
                ticket=ticket,
            )
            return common.resolved("change_subscription")
        others = [p for p in options if p.code != current.plan_code]
        dispatcher.utter_message(
            response="utter_which_plan",
            plan=plan_name(current, lang),
            buttons=[
                {
                    "title": common.line(
                        plan_name(p, lang), common.money(p.monthly_price)
                    ),
                    "payload": f'/change_subscription{{"plan": "{p.code}"}}',
                }
                for p in others
            ],
        )
        return []
