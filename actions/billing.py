"""Money: refund requests and their status, invoices, payments (failed ones too)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.confirm import ask_confirmation, confirms
from actions.orders import OwnOrderAction, request_text
from crm import queries
from crm.queries import OrderInfo

logger = logging.getLogger(__name__)

FAILURE_REASON = {
    "card_declined": ("the card was declined", "银行卡被拒绝"),
    "insufficient_funds": ("insufficient funds", "余额不足"),
    "expired_card": ("the card has expired", "银行卡已过期"),
    "authentication_failed": ("the payment was not authenticated", "支付验证未通过"),
    "processing_error": ("a processing error at the bank", "银行处理出错"),
}


@common.handles("request_refund")
class ActionRequestRefund(OwnOrderAction):
    """Money back for a shipped or delivered order, after the customer confirms."""

    intent = "request_refund"

    def name(self) -> str:
        return "action_request_refund"

    def candidates(self, customer: int) -> list[OrderInfo]:
        with common.crm_session() as session:
            orders = queries.recent_orders(
                session=session, customer_id=customer, limit=10
            )
        return [o for o in orders if o.status in queries.REFUNDABLE]

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer = common.verified_customer(tracker)
        if customer is None:
            return []
        picked = self.pick(dispatcher, tracker, customer, self.candidates(customer))
        if not isinstance(picked, OrderInfo):
            return picked or []
        base = [SlotSet("order_number", picked.number), SlotSet("awaiting", None)]
        lang = common.language(tracker)
        try:
            with common.crm_session() as session:
                amount = queries.refundable_amount(
                    session=session, customer_id=customer, number=picked.number
                )
        except queries.RefundExists as refusal:
            dispatcher.utter_message(
                response="utter_refund_exists",
                order_number=picked.number,
                status=common.label(common.REFUND_STATUS, refusal.detail, lang),
            )
            return base
        except queries.NotRefundable:
            response = (
                "utter_refund_not_shipped"
                if picked.status in queries.NOT_SHIPPED
                else "utter_refund_not_possible"
            )
            dispatcher.utter_message(
                response=response,
                order_number=picked.number,
                status=common.label(common.ORDER_STATUS, picked.status, lang),
            )
            return base
        dispatcher.utter_message(
            response="utter_confirm_refund",
            order_number=picked.number,
            amount=common.money(amount, picked.currency),
            buttons=common.yes_no_buttons(lang),
        )
        return base + ask_confirmation(
            "request_refund", order_number=picked.number, reason=request_text(tracker)
        )


@confirms("request_refund")
def refund_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    number = params["order_number"]
    try:
        with common.crm_session() as session:
            conversation = queries.get_or_create_conversation(
                session=session, sender_id=tracker.sender_id, customer_id=customer
            )
            refund, ticket = queries.request_refund(
                session=session,
                customer_id=customer,
                number=number,
                reason=params.get("reason"),
                conversation_id=conversation.id,
            )
    except queries.CrmRefusal:
        dispatcher.utter_message(
            response="utter_refund_not_possible_now", order_number=number
        )
        return []
    dispatcher.utter_message(
        response="utter_refund_requested",
        order_number=number,
        amount=common.money(refund.amount, refund.currency),
        ticket=ticket,
    )
    return common.resolved("request_refund")


@common.handles("refund_status")
class ActionRefundStatus(common.CrmAction):
    """Where is my refund: the customer's latest refunds."""

    def name(self) -> str:
        return "action_refund_status"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer = common.verified_customer(tracker)
        if customer is None:
            return []
        with common.crm_session() as session:
            refunds = queries.refunds_for(session=session, customer_id=customer)
        if not refunds:
            dispatcher.utter_message(response="utter_no_refunds")
            return []
        lang = common.language(tracker)
        lines = "\n".join(
            " · ".join(
                [
                    r.order_number,
                    common.money(r.amount, r.currency),
                    common.label(common.REFUND_STATUS, r.status, lang),
                    common.day(r.completed_at or r.requested_at, lang),
                ]
            )
            for r in refunds
        )
        dispatcher.utter_message(response="utter_refund_status", refunds=lines)
        return common.resolved("refund_status")


@common.handles("get_invoice")
class ActionListInvoices(common.CrmAction):
    """The latest invoices with their payment status."""

    def name(self) -> str:
        return "action_list_invoices"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer = common.verified_customer(tracker)
        if customer is None:
            return []
        with common.crm_session() as session:
            invoices = queries.invoices_for(session=session, customer_id=customer)
        if not invoices:
            dispatcher.utter_message(response="utter_no_invoices")
            return []
        lang = common.language(tracker)
        lines = "\n".join(
            " · ".join(
                [
                    i.number,
                    common.day(i.issued_on, lang),
                    common.money(i.amount),
                    common.label(common.INVOICE_STATUS, i.status, lang),
                ]
            )
            for i in invoices
        )
        dispatcher.utter_message(response="utter_invoices", invoices=lines)
        return common.resolved("get_invoice")


@common.handles("payment_issue")
class ActionPaymentStatus(common.CrmAction):
    """A payment problem: the latest failed payment and what to do, or all is well."""

    def name(self) -> str:
        return "action_payment_status"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer = common.verified_customer(tracker)
        if customer is None:
            return []
        with common.crm_session() as session:
            payments = queries.recent_payments(session=session, customer_id=customer)
        if not payments:
            dispatcher.utter_message(response="utter_no_payments")
            return []
        lang = common.language(tracker)
        latest = payments[0]
        if latest.status == "failed":
            dispatcher.utter_message(
                response="utter_payment_failed",
                amount=common.money(latest.amount),
                method=common.label(common.PAYMENT_METHOD, latest.method, lang),
                invoice=latest.invoice_number,
                date=common.day(latest.attempted_at, lang),
                reason=common.label(
                    FAILURE_REASON, latest.failure_reason or "processing_error", lang
                ),
            )
        else:
            dispatcher.utter_message(
                response="utter_payments_ok",
                amount=common.money(latest.amount),
                method=common.label(common.PAYMENT_METHOD, latest.method, lang),
                invoice=latest.invoice_number,
                date=common.day(latest.attempted_at, lang),
            )
        return common.resolved("payment_issue")
