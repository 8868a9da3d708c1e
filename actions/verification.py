"""Who is this customer? A signed customer id from the website, or email plus an
order number (or phone) checked against the CRM, with failed attempts limited."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from crm import queries
from crm.signing import signature_valid

logger = logging.getLogger(__name__)

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ORDER_NUMBER = re.compile(r"(?<![A-Za-z0-9])[Aa]\d{7}(?!\d)")
NEW_DETAILS_INTENTS = frozenset({"edit_account"})
"""Requests whose email or phone is the customer's new one."""


def new_details(tracker: Tracker) -> bool:
    """True while the form starts on "change my email to ...": the email or phone in
    that message is the new one, not proof of who the customer is."""
    return common.form_activating(tracker) and common.latest_intent(tracker) in (
        NEW_DETAILS_INTENTS
    )


# --- the website's signature ----------------------------------------------------------


def signed_claim(tracker: Tracker) -> dict[str, Any] | None:
    """The {customer_id, timestamp, signature} the widget sent in this session.

    The newest message carrying one wins; the session's start metadata counts too.
    """
    candidates = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            candidates.append(event.get("metadata"))
    candidates.append(tracker.get_slot("session_started_metadata"))
    for metadata in candidates:
        if isinstance(metadata, dict) and metadata.get("signature"):
            return {
                key: metadata.get(key)
                for key in ("customer_id", "timestamp", "signature")
            }
    return None


def signature_events(tracker: Tracker) -> list[EventType]:
    """Check the widget's signature, once per distinct signature, and log it.

    Returns the slots to set: always `signature_checked`, and `customer_id` plus
    `verified` when the signature is valid for a (not erased) customer. Runs only
    where identity matters (the verification form, order status, handoff), not on
    every message, so small talk costs no extra call to the CRM.
    """
    claim = signed_claim(tracker)
    if claim is None or claim["signature"] == tracker.get_slot("signature_checked"):
        return []
    valid = signature_valid(
        claim["customer_id"], claim["timestamp"], claim["signature"]
    )
    with common.crm_session() as session:
        customer = None
        if str(claim["customer_id"]).isdigit():
            customer = queries.get_customer(
                session=session, customer_id=int(claim["customer_id"])
            )
        queries.record_verification_attempt(
            session=session,
            sender_id=tracker.sender_id,
            customer_id=None if customer is None else customer.id,
            method="signature",
            succeeded=valid and customer is not None,
        )
    checked = SlotSet("signature_checked", str(claim["signature"]))
    if not valid or customer is None:
        logger.warning("rejected a widget signature for sender %s", tracker.sender_id)
        return [checked]
    logger.info("sender %s verified by the widget's signature", tracker.sender_id)
    return [checked, SlotSet("customer_id", customer.id), SlotSet("verified", True)]


def identify(tracker: Tracker) -> tuple[int | None, list[EventType]]:
    """The verified customer, trying the widget's signature if not yet verified.

    Returns (customer id or None, slot events to return). Updates the tracker's
    slots so that code running after it sees the customer as verified.
    """
    customer = common.verified_customer(tracker)
    if customer is not None:
        return customer, []
    events = signature_events(tracker)
    tracker.slots.update({event["name"]: event["value"] for event in events})
    return common.verified_customer(tracker), events


# --- email plus order number (or phone) -----------------------------------------------


class ValidateVerifyCustomerForm(common.CrmFormValidation):
    """Checks the form's answers against the CRM; three failures lock the attempt."""

    def name(self) -> str:
        return "validate_verify_customer_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("verified") is True or tracker.get_slot(
            "verification_locked"
        ):
            return []
        if (
            tracker.get_slot("pending_request") == "order_status"
            and tracker.get_slot("order_number")
            and not tracker.get_slot("email")
        ):
            return []  # a public status lookup needs no identity
        if tracker.get_slot("phone") and not tracker.get_slot("order_number"):
            return ["email", "phone"]
        return ["email", "order_number"]

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Take an email straight from the text when NLU did not tag one."""
        if tracker.get_slot("requested_slot") != "email" or common.latest_entity(
            tracker, "email"
        ):
            return {}
        found = EMAIL.search(common.latest_text(tracker))
        return {"email": found.group(0)} if found else {}

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if common.latest_entity(tracker, "order_number"):
            return {}
        found = ORDER_NUMBER.search(common.latest_text(tracker))
        return {"order_number": found.group(0).upper()} if found else {}

    def validate_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if new_details(tracker):
            return {"email": None}
        if isinstance(value, str) and EMAIL.fullmatch(value.strip()):
            return {"email": value.strip()}
        dispatcher.utter_message(response="utter_invalid_email")
        return {"email": None}

    def validate_order_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if isinstance(value, str) and ORDER_NUMBER.fullmatch(value.strip()):
            return {"order_number": value.strip().upper()}
        dispatcher.utter_message(response="utter_invalid_order_number")
        return {"order_number": None}

    def validate_phone(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if new_details(tracker):
            return {"phone": None}
        if isinstance(value, str) and len(queries.digits(value)) >= 7:
            return {"phone": value.strip()}
        return {"phone": None}

    async def on_activation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Remember what the customer asked for, and refuse a locked sender early."""
        events: list[EventType] = [
            SlotSet("pending_request", common.latest_intent(tracker))
        ]
        try:
            signed = await asyncio.to_thread(signature_events, tracker)
            failures = await asyncio.to_thread(self.failures, tracker.sender_id, None)
        except common.CRM_ERRORS as error:
            self.unavailable(dispatcher, tracker, error)
            return [*events, SlotSet("requested_slot", None)]
        locked = failures >= queries.MAX_VERIFICATION_FAILURES
        return [*events, *signed, SlotSet("verification_locked", locked)]

    @staticmethod
    def ready_to_check(tracker: Tracker) -> bool:
        return (
            tracker.get_slot("verified") is not True
            and not tracker.get_slot("verification_locked")
            and bool(tracker.get_slot("email"))
            and bool(tracker.get_slot("order_number") or tracker.get_slot("phone"))
        )

    @staticmethod
    def failures(sender_id: str, customer_id: int | None) -> int:
        with common.crm_session() as session:
            return queries.recent_verification_failures(
                session=session, sender_id=sender_id, customer_id=customer_id
            )

    async def check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Once there is an email plus an order number or phone: is it them?"""
        if not self.ready_to_check(tracker):
            return []
        try:
            outcome = await asyncio.to_thread(self.attempt, tracker)
        except common.CRM_ERRORS as error:
            self.unavailable(dispatcher, tracker, error)
            return [SlotSet("requested_slot", None)]
        customer, failures = outcome
        if customer is not None:
            name = customer.name_zh if common.language(tracker) == "zh" else None
            dispatcher.utter_message(
                response="utter_verified", name=name or customer.name_en
            )
            return [SlotSet("customer_id", customer.id), SlotSet("verified", True)]
        cleared = [SlotSet(slot, None) for slot in ("email", "order_number", "phone")]
        if failures >= queries.MAX_VERIFICATION_FAILURES:
            logger.warning("verification locked for sender %s", tracker.sender_id)
            return [*cleared, SlotSet("verification_locked", True)]
        remaining = queries.MAX_VERIFICATION_FAILURES - failures
        dispatcher.utter_message(
            response="utter_verification_failed", remaining=remaining
        )
        return cleared

    @staticmethod
    def attempt(tracker: Tracker) -> tuple[queries.CustomerInfo | None, int]:
        """Check the answers; log the attempt; return (customer or None, failures)."""
        email = tracker.get_slot("email")
        number = tracker.get_slot("order_number")
        phone = None if number else tracker.get_slot("phone")
        method = "email_order" if number else "email_phone"
        with common.crm_session() as session:
            owner = queries.customer_by_email(session=session, email=email)
            target = None if owner is None else owner.id
            before = queries.recent_verification_failures(
                session=session, sender_id=tracker.sender_id, customer_id=target
            )
            matched = queries.check_identity(
                session=session, email=email, order_number=number, phone=phone
            )
            ok = matched is not None and before < queries.MAX_VERIFICATION_FAILURES
            queries.record_verification_attempt(
                session=session,
                sender_id=tracker.sender_id,
                customer_id=target,
                method=method,
                succeeded=ok,
            )
            if ok:
                return owner, before
            return None, before + 1


class ActionAskEmail(Action):
    """Asks for the email; a status lookup may give just an order number instead."""

    def name(self) -> str:
        return "action_ask_email"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("pending_request") == "order_status":
            dispatcher.utter_message(response="utter_ask_email_or_order_number")
        else:
            dispatcher.utter_message(response="utter_ask_email")
        return []


class ActionAfterVerification(common.CrmAction):
    """After the form: answer what the customer asked, or say why we can't."""

    def name(self) -> str:
        return "action_after_verification"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_request")
        events: list[EventType] = [
            SlotSet("pending_request", None),
            SlotSet("next_form", None),
        ]
        handler = common.REQUEST_HANDLERS.get(pending or "")
        if common.verified_customer(tracker) is not None:
            return events + (
                handler().act(dispatcher, tracker, domain) if handler else []
            )
        if tracker.get_slot("verification_locked"):
            dispatcher.utter_message(response="utter_verification_locked")
            return events
        if pending == "order_status" and tracker.get_slot("order_number") and handler:
            return events + handler().act(dispatcher, tracker, domain)
        return events
