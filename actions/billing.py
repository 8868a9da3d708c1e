"""Money: refund requests and their status, invoices, payments (failed ones too)."""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import common
from actions.confirm import ask, confirms
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

    only_unshipped = False

    def name(self) -> str:
        return "action_request_refund"

    def candidates(self, customer: int) -> list[OrderInfo]:
        orders = common.crm_call(queries.recent_orders, customer, limit=10)
        return [o for o in orders if o.status in queries.REFUNDABLE]

    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderInfo
    ) -> list[EventType]:
        lang = common.language(tracker)
        try:
            amount = common.crm_call(
                queries.refundable_amount, order.customer_id, number=order.number
            )
        except queries.RefundExists as refusal:
            dispatcher.utter_message(
                response="utter_refund_exists",
                order_number=order.number,
                status=common.label(common.REFUND_STATUS, refusal.detail, lang),
            )
            return []
        except queries.NotRefundable:
            response = (
                "utter_refund_not_shipped"
                if order.status in queries.NOT_SHIPPED
                else "utter_refund_not_possible"
            )
            dispatcher.utter_message(
                response=response,
                order_number=order.number,
                status=common.label(common.ORDER_STATUS, order.status, lang),
            )
            return []
        question = {
            "response": "utter_confirm_refund",
            "order_number": order.number,
            "amount": common.money(amount, order.currency),
        }
        return ask(
            dispatcher,
            tracker,
            "request_refund",
            question,
            order_number=order.number,
            reason=request_text(tracker),
        )


@confirms("request_refund")
def refund_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    number = params["order_number"]
    try:
        with common.crm_session() as session:
            refund, ticket = queries.request_refund(
                session=session,
                customer_id=customer,
                number=number,
                reason=params.get("reason"),
                conversation_id=common.conversation_id(session, tracker, customer),
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


class ListAction(common.CustomerAction):
    """Lists the customer's latest rows of one kind, a line each, in the `placeholder`
    of `response`; says `empty_response` when there are none."""

    response: ClassVar[str]
    placeholder: ClassVar[str]
    empty_response: ClassVar[str]

    @abstractmethod
    def lines(self, customer: int, lang: str) -> list[str]:
        """The customer's rows, newest first, each as one line in `lang`."""

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        lines = self.lines(customer, common.language(tracker))
        return self.say(dispatcher, lines, self.response, self.empty_response)

    def say(
        self,
        dispatcher: CollectingDispatcher,
        lines: list[str],
        response: str,
        empty_response: str,
        **values: Any,
    ) -> list[EventType]:
        """`lines` in `response` (with `values`), or `empty_response` if none."""
        if not lines:
            dispatcher.utter_message(response=empty_response, **values)
            return []
        listed = {self.placeholder: "\n".join(lines)}
        dispatcher.utter_message(response=response, **values, **listed)
        return common.resolved(self.intent)


@common.handles("refund_status")
class ActionRefundStatus(ListAction):
    """Where is my refund: the customer's latest refunds."""

    response = "utter_refund_status"
    placeholder = "refunds"
    empty_response = "utter_no_refunds"

    def name(self) -> str:
        return "action_refund_status"

    def lines(self, customer: int, lang: str) -> list[str]:
        refunds = common.crm_call(queries.refunds_for, customer)
        return [
            common.line(
                refund.order_number,
                common.money(refund.amount, refund.currency),
                common.label(common.REFUND_STATUS, refund.status, lang),
                common.day(refund.completed_at or refund.requested_at, lang),
            )
            for refund in refunds
        ]


@common.handles("get_invoice")
class ActionListInvoices(ListAction):
    """The latest invoices with their payment status."""

    response = "utter_invoices"
    placeholder = "invoices"
    empty_response = "utter_no_invoices"

    def name(self) -> str:
        return "action_list_invoices"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        """The invoices of the order the request names, else the latest ones."""
        request = common.request_message(tracker, "get_invoice")
        number = common.entity(request, "order_number")
        if number is None:
            return super().act_for(dispatcher, tracker, customer)
        number = queries.normalise_order_number(number)
        return self.say(
            dispatcher,
            self.lines(customer, common.language(tracker), number),
            "utter_order_invoices",
            "utter_no_invoices_for_order",
            order_number=number,
        )

    def lines(
        self, customer: int, lang: str, order_number: str | None = None
    ) -> list[str]:
        invoices = common.crm_call(
            queries.invoices_for, customer, order_number=order_number
        )
        return [
            common.line(
                invoice.number,
                common.day(invoice.issued_on, lang),
                common.money(invoice.amount),
                common.label(common.INVOICE_STATUS, invoice.status, lang),
            )
            for invoice in invoices
        ]


@common.handles("payment_issue")
class ActionPaymentStatus(common.CustomerAction):
    """A payment problem: the latest failed payment and what to do, or all is well."""

    def name(self) -> str:
        return "action_payment_status"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        payments = common.crm_call(queries.recent_payments, customer)
        if not payments:
            dispatcher.utter_message(response="utter_no_payments")
            return []
        lang = common.language(tracker)
        latest = payments[0]
        details = {
            "amount": common.money(latest.amount),
            "method": common.label(common.PAYMENT_METHOD, latest.method, lang),
            "invoice": latest.invoice_number,
            "date": common.day(latest.attempted_at, lang),
        }
        if latest.status == "failed":
            reason = latest.failure_reason or "processing_error"
            dispatcher.utter_message(
                response="utter_payment_failed",
                reason=common.label(FAILURE_REASON, reason, lang),
                **details,
            )
        else:
            dispatcher.utter_message(response="utter_payments_ok", **details)
        return common.resolved("payment_issue")
