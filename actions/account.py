"""The account: contact details, newsletter, and deleting the account (a ticket, as
staff must check open orders and legal holds before erasing anything)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.confirm import (
    answer_by_its_order_number,
    answer_by_new_details,
    ask,
    confirms,
)
from actions.verification import EMAIL
from crm import queries

logger = logging.getLogger(__name__)

FIELD = {"email": ("email address", "邮箱"), "phone": ("phone number", "手机号")}


def new_contact(tracker: Tracker) -> tuple[str, str] | None:
    """("email" | "phone", value) given in the request: the latest message, or right
    after verification (whose answers were proofs) the message that asked."""
    message = tracker.latest_message
    if tracker.get_slot("pending_request") == "edit_account":
        message = common.request_message(tracker, "edit_account")
    email = common.entity(message, "email")
    if email is None:
        found = EMAIL.search(message.get("text") or "")
        email = found.group(0) if found else None
    if email:
        return "email", email.strip()
    phone = common.entity(message, "phone")
    if phone and len(queries.digits(phone)) >= 7:
        return "phone", phone.strip()
    return None


@common.handles("edit_account")
class ActionEditAccount(common.CustomerAction):
    """Update the email or phone: ask for the new one, then confirm it."""

    def name(self) -> str:
        return "action_edit_account"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        change = new_contact(tracker)
        lang = common.language(tracker)
        if change is None:
            dispatcher.utter_message(response="utter_ask_new_contact")
            return [SlotSet("awaiting", "edit_account")]
        field, value = change
        question = {
            "response": "utter_confirm_contact_change",
            "field": common.label(FIELD, field, lang),
            "value": value,
        }
        return [
            SlotSet("awaiting", None),
            *ask(
                dispatcher,
                tracker,
                "update_contact",
                question,
                field=field,
                value=value,
            ),
        ]


@confirms("update_contact")
def contact_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    field, value = params["field"], params["value"]
    lang = common.language(tracker)
    try:
        with common.crm_session() as session:
            queries.update_contact(
                session=session, customer_id=customer, **{field: value}
            )
    except queries.EmailTaken:
        dispatcher.utter_message(response="utter_email_taken", value=value)
        return []
    dispatcher.utter_message(
        response="utter_contact_updated",
        field=common.label(FIELD, field, lang),
        value=value,
    )
    return common.resolved("edit_account")


class NewsletterAction(common.CustomerAction):
    subscribe = True

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        unchanged = common.crm_call(
            queries.set_newsletter, customer, subscribed=self.subscribe
        )
        state = "on" if self.subscribe else "off"
        response = (
            f"utter_newsletter_already_{state}"
            if unchanged
            else f"utter_newsletter_{state}"
        )
        dispatcher.utter_message(response=response)
        return common.resolved(self.intent)


@common.handles("newsletter_subscribe")
class ActionNewsletterSubscribe(NewsletterAction):
    def name(self) -> str:
        return "action_newsletter_subscribe"


@common.handles("newsletter_unsubscribe")
class ActionNewsletterUnsubscribe(NewsletterAction):
    subscribe = False

    def name(self) -> str:
        return "action_newsletter_unsubscribe"


@common.handles("delete_account")
class ActionDeleteAccount(common.CustomerAction):
    """Confirm first: deleting the account cannot be undone."""

    def name(self) -> str:
        return "action_delete_account"

    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        question = {"response": "utter_confirm_delete_account"}
        return ask(dispatcher, tracker, "delete_account", question)


@confirms("delete_account")
def deletion_confirmed(
    dispatcher: CollectingDispatcher, tracker: Tracker, params: dict[str, Any]
) -> list[EventType]:
    customer = common.require_customer(tracker)
    with common.crm_session() as session:
        ticket = common.open_ticket(
            session,
            tracker,
            customer,
            category="account_deletion",
            subject="Delete my account and personal data",
        )
    dispatcher.utter_message(response="utter_delete_account_requested", ticket=ticket)
    return common.resolved("delete_account")


class ActionHandleInform(common.CrmAction):
    """A bare detail (order number, email, phone): use it for what was asked last."""

    def name(self) -> str:
        return "action_handle_inform"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        awaiting = tracker.get_slot("awaiting")
        handler = common.REQUEST_HANDLERS.get(awaiting or "")
        verified = common.verified_customer(tracker) is not None
        if handler is not None and (verified or awaiting == "order_status"):
            return handler().act(dispatcher, tracker, domain)
        answered = answer_by_its_order_number(dispatcher, tracker)
        if answered is not None:
            return answered
        if common.latest_entity(tracker, "order_number"):
            return common.REQUEST_HANDLERS["order_status"]().act(
                dispatcher, tracker, domain
            )
        answered = answer_by_new_details(dispatcher, tracker)
        if answered is not None:
            return answered
        dispatcher.utter_message(response="utter_what_for")
        return []
