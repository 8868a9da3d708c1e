"""Orders: status and tracking, recent orders, cancelling, changing the address or
the items. Status alone is public (like a carrier's tracking page); everything
else needs a verified customer and only ever shows their own orders."""

from __future__ import annotations

import asyncio
import logging
import re
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.confirm import (
    answer_by_cancel_request,
    ask,
    confirms,
    declines,
    revises,
)
from actions.handoff import upset
from actions.verification import EMAIL, ORDER_NUMBER, identify
from crm import queries
from crm.queries import OrderInfo

logger = logging.getLogger(__name__)

ON_THE_WAY = ("shipped", "in_transit", "out_for_delivery")


def order_number_asked(tracker: Tracker) -> str | None:
    """The order number in this message, else the one the conversation is about."""
    number = common.latest_entity(tracker, "order_number") or tracker.get_slot(
        "order_number"
    )
    return queries.normalise_order_number(number) if number else None


def items_text(order: OrderInfo, lang: str) -> str:
    names = [
        f"{item.name_zh if lang == 'zh' else item.name_en} ×{item.quantity}"
        for item in order.items
    ]
    return ("、" if lang == "zh" else ", ").join(names) or "—"


def order_line(order: OrderInfo, lang: str) -> str:
    """One order in a list: number · date · status · total."""
    return common.line(
        order.number,
        common.day(order.placed_at, lang),
        common.label(common.ORDER_STATUS, order.status, lang),
        common.money(order.total, order.currency),
    )


def choice_buttons(
    orders: list[OrderInfo], intent: str, lang: str
) -> list[dict[str, str]]:
    """One button per order that repeats `intent` for that order."""
    return [
        {
            "title": common.line(o.number, items_text(o, lang))[:60],
            "payload": f'/{intent}{{"order_number": "{o.number}"}}',
        }
        for o in orders
    ]


def late(order: OrderInfo) -> bool:
    """On its way and past the day it was expected."""
    shipment = order.shipment
    return (
        order.status in ON_THE_WAY
        and shipment is not None
        and shipment.estimated_delivery is not None
        and shipment.estimated_delivery < common.today()
    )


def chase_subject(number: str) -> str:
    """The ticket subject for chasing a late order's carrier (one ticket per order)."""
    return f"Late delivery: chase the carrier for order {number}"


def offer_to_chase(
    dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderInfo
) -> list[EventType]:
    """Ask to open a ticket that chases the carrier, unless one is already open."""
    assert order.shipment is not None
    ticket = common.crm_call(
        queries.open_ticket_about,
        order.customer_id,
        category="delivery",
        subject=chase_subject(order.number),
    )
    if ticket is not None:
        dispatcher.utter_message(
            response="utter_delivery_already_chased", ticket=ticket
        )
        return common.resolved("order_status")
    question = {
        "response": "utter_ask_chase_delivery",
        "carrier": order.shipment.carrier,
    }
    return ask(
        dispatcher,
        tracker,
        "chase_delivery",
        question,
        order_number=order.number,
        carrier=order.shipment.carrier,
    )


@confirms("chase_delivery")
def chase_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    with common.crm_session() as session:
        ticket = common.open_ticket(
            session,
            tracker,
            customer,
            category="delivery",
            subject=chase_subject(params["order_number"]),
        )
    dispatcher.utter_message(
        response="utter_delivery_chase_opened",
        ticket=ticket,
        carrier=params["carrier"],
    )
    return common.resolved("order_status")


@declines("chase_delivery")
def chase_declined(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    dispatcher.utter_message(response="utter_delivery_not_chased")
    return common.resolved("order_status")


def say_status(
    dispatcher: CollectingDispatcher, order: OrderInfo, lang: str, *, full: bool
) -> None:
    """Status, carrier and dates; with `full`, also items, address and tracking."""
    status = common.label(common.ORDER_STATUS, order.status, lang)
    shipment = order.shipment
    if order.status == "delivered" and shipment is not None:
        dispatcher.utter_message(
            response="utter_order_status_delivered",
            order_number=order.number,
            carrier=shipment.carrier,
            delivered_on=common.day(shipment.delivered_at or shipment.shipped_at, lang),
        )
    elif late(order):
        assert shipment is not None
        dispatcher.utter_message(
            response="utter_order_status_late",
            order_number=order.number,
            status=status,
            carrier=shipment.carrier,
            eta=common.day(shipment.estimated_delivery, lang),
        )
    elif order.status in ON_THE_WAY and shipment is not None:
        dispatcher.utter_message(
            response="utter_order_status_on_the_way",
            order_number=order.number,
            status=status,
            carrier=shipment.carrier,
            eta=common.day(shipment.estimated_delivery, lang),
        )
    elif order.status in queries.NOT_SHIPPED:
        dispatcher.utter_message(
            response="utter_order_status_preparing",
            order_number=order.number,
            status=status,
            placed_on=common.day(order.placed_at, lang),
        )
    else:
        dispatcher.utter_message(
            response="utter_order_status_closed",
            order_number=order.number,
            status=status,
        )
    if full:
        say_details(dispatcher, order, lang)


def say_cannot_change(
    dispatcher: CollectingDispatcher, tracker: Tracker, number: str, status: str
) -> None:
    """The order has shipped (it is `status` now): too late to change it."""
    dispatcher.utter_message(
        response="utter_order_cannot_change",
        order_number=number,
        status=common.label(common.ORDER_STATUS, status, common.language(tracker)),
    )


def say_details(dispatcher: CollectingDispatcher, order: OrderInfo, lang: str) -> None:
    dispatcher.utter_message(
        response="utter_order_details",
        items=items_text(order, lang),
        total=common.money(order.total, order.currency),
        placed_on=common.day(order.placed_at, lang),
        address=order.shipping_address,
    )
    shipment = order.shipment
    if shipment is None:
        return
    where = f" ({shipment.last_location})" if shipment.last_location else ""
    latest = common.label(
        common.ORDER_STATUS, shipment.last_event or shipment.status, lang
    )
    dispatcher.utter_message(
        response="utter_order_tracking",
        tracking_number=shipment.tracking_number,
        carrier=shipment.carrier,
        shipped_on=common.day(shipment.shipped_at, lang),
        last_update=f"{latest}{where}, {common.day(shipment.last_event_at, lang)}",
    )


@common.handles("order_status")
class ActionCheckOrderStatus(common.CrmAction):
    """Where is my order: by number for anyone, all recent ones once verified."""

    def name(self) -> str:
        return "action_check_order_status"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = common.language(tracker)
        customer, signed = identify(tracker)
        number = order_number_asked(tracker)
        if number is None and customer is None:
            dispatcher.utter_message(response="utter_ask_order_number_for_status")
            return [*signed, SlotSet("awaiting", "order_status")]
        with common.crm_session() as session:
            if number is None:
                assert customer is not None
                orders = queries.recent_orders(session=session, customer_id=customer)
                order = None
            else:
                order = queries.find_order(session=session, number=number)
                orders = []
        events: list[EventType] = [*signed, SlotSet("awaiting", None)]
        if number is None:
            if not orders:
                dispatcher.utter_message(response="utter_no_orders")
                return events
            lines = "\n".join(order_line(o, lang) for o in orders)
            dispatcher.utter_message(response="utter_recent_orders", orders=lines)
            return events + common.resolved("order_status")
        if order is None:
            dispatcher.utter_message(
                response="utter_order_not_found", order_number=number
            )
            return [*events, SlotSet("order_number", None)]
        own = customer is not None and order.customer_id == customer
        say_status(dispatcher, order, lang, full=own)
        events.append(SlotSet("order_number", order.number))
        if own and late(order):
            return events + offer_to_chase(dispatcher, tracker, order)
        if upset(tracker):  # "it's been 2 weeks, this is unacceptable"
            dispatcher.utter_message(response="utter_sorry_offer_person")
        return events + common.resolved("order_status")


class OwnOrderAction(common.CustomerAction):
    """An action on one of the verified customer's orders, chosen if not given.

    `act_on` does the work once the order is known, and only for an order that has
    not shipped unless `only_unshipped` is turned off.
    """

    only_unshipped = True

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        picked = self.pick(dispatcher, tracker, customer, self.candidates(customer))
        if not isinstance(picked, OrderInfo):
            return picked
        chosen = [SlotSet("order_number", picked.number), SlotSet("awaiting", None)]
        if self.only_unshipped and picked.shipped:
            say_cannot_change(dispatcher, tracker, picked.number, picked.status)
            return chosen
        return chosen + self.act_on(dispatcher, tracker, picked)

    def pick(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        customer: int,
        candidates: list[OrderInfo],
    ) -> OrderInfo | list[EventType]:
        """The order to act on, or events asking the customer which one."""
        lang = common.language(tracker)
        number = order_number_asked(tracker)
        if number is None and len(candidates) == 1:
            return candidates[0]
        if number is None:
            if not candidates:
                dispatcher.utter_message(response=f"utter_no_orders_to_{self.intent}")
                return [SlotSet("awaiting", None)]
            dispatcher.utter_message(
                response="utter_which_order",
                buttons=choice_buttons(candidates, self.intent, lang),
            )
            return [SlotSet("awaiting", self.intent)]
        order = common.crm_call(queries.customer_order, customer, number=number)
        if order is None:
            dispatcher.utter_message(
                response="utter_order_not_on_account", order_number=number
            )
            return [SlotSet("order_number", None), SlotSet("awaiting", None)]
        return order

    def candidates(self, customer: int) -> list[OrderInfo]:
        """The orders to choose from when none is named."""
        return common.crm_call(queries.unshipped_orders, customer)

    @abstractmethod
    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderInfo
    ) -> list[EventType]:
        """Do the work on the customer's `order` (its `customer_id` is theirs)."""


@common.handles("cancel_order")
class ActionCancelOrder(OwnOrderAction):
    """Cancel an order that has not shipped, after the customer confirms."""

    def name(self) -> str:
        return "action_cancel_order"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        answered = answer_by_cancel_request(dispatcher, tracker)
        if answered is not None:
            return answered
        return super().act_for(dispatcher, tracker, customer)

    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderInfo
    ) -> list[EventType]:
        question = {
            "response": "utter_confirm_cancel_order",
            "order_number": order.number,
            "items": items_text(order, common.language(tracker)),
            "total": common.money(order.total, order.currency),
        }
        return ask(
            dispatcher, tracker, "cancel_order", question, order_number=order.number
        )


def change_unshipped(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    change: Callable[..., OrderInfo],
    number: str,
    **details: Any,
) -> OrderInfo | None:
    """Make a confirmed `change` to the customer's order, or say why it cannot be."""
    customer = common.require_customer(tracker)
    try:
        return common.crm_call(change, customer, number=number, **details)
    except queries.AlreadyShipped as refusal:
        say_cannot_change(dispatcher, tracker, number, refusal.detail)
    except queries.NotFound:
        dispatcher.utter_message(
            response="utter_order_not_on_account", order_number=number
        )
    return None


@confirms("cancel_order")
def cancel_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    number = params["order_number"]
    order = change_unshipped(dispatcher, tracker, queries.cancel_order, number)
    if order is None:
        return []
    dispatcher.utter_message(
        response="utter_order_cancelled",
        order_number=order.number,
        total=common.money(order.total, order.currency),
    )
    return common.resolved("cancel_order")


@common.handles("change_order")
class ActionChangeOrder(OwnOrderAction):
    """Items, quantity or size: staff make the change, so the bot opens a ticket."""

    def name(self) -> str:
        return "action_change_order"

    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderInfo
    ) -> list[EventType]:
        with common.crm_session() as session:
            ticket = common.open_ticket(
                session,
                tracker,
                order.customer_id,
                category="order_change",
                subject=f"Change to order {order.number}",
                transcript=request_text(tracker),
            )
        dispatcher.utter_message(
            response="utter_order_change_requested",
            order_number=order.number,
            ticket=ticket,
        )
        return common.resolved("change_order")


def request_text(tracker: Tracker) -> str | None:
    """The customer's own words of their latest typed (not clicked) message."""
    for event in reversed(tracker.events):
        text = event.get("text") or ""
        if event.get("event") == "user" and text and not text.startswith("/"):
            return text
    return None


# --- the shipping address -------------------------------------------------------------


CORRECTION_WORDS = re.compile(
    r"^(?:(?:(?:no|nope|sorry|actually|oops|wait|i mean|make that|it's|it is|"
    r"(?:it )?should be|send it to)\b|不对|不是|错了|抱歉|应该是|改成|改为|是)"
    r"[\s,.:;!，。：；！-]*)+",
    re.IGNORECASE,
)
"""What a customer puts before a corrected address: "sorry, actually 14 Baker St"."""


def readable_address(text: str) -> str | None:
    """`text` as a delivery address, or None when it cannot be one: too short or too
    long, without a letter (a phone number), with an order number or an email."""
    address = " ".join(text.split())
    if not 8 <= len(address) <= 300 or not any(c.isalpha() for c in address):
        return None
    if ORDER_NUMBER.search(address) or EMAIL.search(address):
        return None
    return address


class ValidateAddressForm(common.CrmFormValidation):
    """Which unshipped order, and the new address (free text)."""

    def name(self) -> str:
        return "validate_address_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("address_stopped"):
            return []
        return domain_slots

    def validate_order_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return {}  # checked with the CRM in `check`

    def validate_new_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if common.latest_intent(tracker) in ("deny", "human_handoff"):
            return {"new_address": None, "address_stopped": True}
        address = readable_address(str(value or ""))
        if address is not None:
            return {"new_address": address}
        dispatcher.utter_message(response="utter_invalid_address")
        return {"new_address": None}

    async def on_activation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """A fresh start: no address yet, and nothing stopped."""
        return [
            SlotSet("address_stopped", False),
            SlotSet("new_address", None),
            SlotSet("next_form", None),
        ]

    async def check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Until there is an address: pick the order (the only unshipped one, or the
        one given) or refuse it."""
        if tracker.get_slot("new_address") is not None:
            return []
        customer = common.verified_customer(tracker)
        if customer is None:
            return [SlotSet("address_stopped", True)]
        number = tracker.get_slot("order_number")
        try:
            unshipped, chosen = await asyncio.to_thread(self.lookup, customer, number)
        except common.CRM_ERRORS as error:
            self.unavailable(dispatcher, tracker, error)
            return [SlotSet("address_stopped", True)]
        if not unshipped:
            dispatcher.utter_message(
                response="utter_no_orders_to_change_shipping_address"
            )
            return [SlotSet("address_stopped", True)]
        if number and chosen is None:
            dispatcher.utter_message(
                response="utter_order_not_on_account", order_number=number
            )
            return [SlotSet("order_number", None)]
        if chosen is not None and chosen.shipped:
            say_cannot_change(dispatcher, tracker, chosen.number, chosen.status)
            return [SlotSet("order_number", None)]
        if chosen is None and len(unshipped) == 1:
            return [SlotSet("order_number", unshipped[0].number)]
        return []

    @staticmethod
    def lookup(
        customer: int, number: str | None
    ) -> tuple[list[OrderInfo], OrderInfo | None]:
        with common.crm_session() as session:
            unshipped = queries.unshipped_orders(session=session, customer_id=customer)
            chosen = (
                queries.customer_order(
                    session=session, customer_id=customer, number=number
                )
                if number
                else None
            )
        return unshipped, chosen


class ActionAskAddressFormOrderNumber(common.CustomerAction):
    """Which order should go to the new address? One button per unshipped order."""

    def name(self) -> str:
        return "action_ask_address_form_order_number"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        unshipped = common.crm_call(queries.unshipped_orders, customer)
        dispatcher.utter_message(
            response="utter_which_order",
            buttons=choice_buttons(unshipped, "inform", common.language(tracker)),
        )
        return []


@common.handles("change_shipping_address")
class ActionContinueWithAddressForm(common.CrmAction):
    """After verification: the rules continue with the address form."""

    def name(self) -> str:
        return "action_continue_with_address_form"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet("next_form", "address_form")]


class ActionChangeShippingAddress(common.CrmAction):
    """The address form is done: confirm the new address before saving it."""

    def name(self) -> str:
        return "action_change_shipping_address"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = tracker.get_slot("order_number")
        address = tracker.get_slot("new_address")
        reset = [SlotSet("address_stopped", False)]
        if tracker.get_slot("address_stopped") or not number or not address:
            if common.latest_intent(tracker) == "deny":
                dispatcher.utter_message(response="utter_address_unchanged")
            return reset
        question = {
            "response": "utter_confirm_new_address",
            "order_number": number,
            "address": address,
        }
        return reset + ask(
            dispatcher,
            tracker,
            "change_address",
            question,
            order_number=number,
            address=address,
        )


@confirms("change_address")
def address_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    order = change_unshipped(
        dispatcher,
        tracker,
        queries.change_shipping_address,
        params["order_number"],
        address=params["address"],
    )
    if order is None:
        return [SlotSet("new_address", None)]
    dispatcher.utter_message(
        response="utter_address_changed",
        order_number=order.number,
        address=order.shipping_address,
    )
    return [SlotSet("new_address", None), *common.resolved("change_shipping_address")]


@revises("change_address")
def address_corrected(
    tracker: Tracker, params: dict[str, Any]
) -> dict[str, Any] | None:
    """An address typed in answer to "Send order A1000123 to: ...?" replaces the one
    asked about, less the words that said so ("actually", "不对，是")."""
    text = CORRECTION_WORDS.sub("", common.latest_text(tracker).strip())
    address = readable_address(text)
    if address is None:
        return None
    if common.latest_intent(tracker) == "deny" and not any(map(str.isdigit, address)):
        return None  # "no, keep the old one" is a no; "no, 14 Baker St" an address
    return params | {"address": address}
