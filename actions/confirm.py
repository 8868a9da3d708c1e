"""Yes/no confirmations: an action asks ("Cancel order A1000123?") and remembers what
it asked; `action_confirm` carries it out on "yes" or drops it on "no"."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common

logger = logging.getLogger(__name__)

Handler = Callable[[CollectingDispatcher, Tracker, dict[str, Any]], list[EventType]]
CONFIRMED: dict[str, Handler] = {}
DECLINED: dict[str, Handler] = {}


def confirms(kind: str) -> Callable[[Handler], Handler]:
    """Register what a "yes" to a `kind` question does."""

    def register(handler: Handler) -> Handler:
        CONFIRMED[kind] = handler
        return handler

    return register


def declines(kind: str) -> Callable[[Handler], Handler]:
    """Register what a "no" does (default: say it was left as it is)."""

    def register(handler: Handler) -> Handler:
        DECLINED[kind] = handler
        return handler

    return register


def ask_confirmation(kind: str, **params: Any) -> list[EventType]:
    """Events that make the next yes/no answer `kind`'s."""
    return [
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_confirmation", {"kind": kind, **params}),
    ]


def settled() -> list[EventType]:
    return [
        SlotSet("awaiting_confirmation", False),
        SlotSet("pending_confirmation", None),
    ]


def just_asked(tracker: Tracker) -> bool:
    """True if the bot's last turn asked the question being answered now.

    A "yes" many turns after the question (the customer went on to something else)
    must not cancel an order.
    """
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return False
            seen_user = True
        elif (
            kind == "slot" and seen_user and event.get("name") == "pending_confirmation"
        ):
            return event.get("value") is not None
    return False


class ActionConfirm(common.CrmAction):
    """The customer said yes or no to the pending question."""

    def name(self) -> str:
        return "action_confirm"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_confirmation")
        kind = pending.get("kind") if isinstance(pending, dict) else None
        if (
            kind not in CONFIRMED
            or not just_asked(tracker)
            or common.verified_customer(tracker) is None
        ):
            dispatcher.utter_message(response="utter_anything_else")
            return settled()
        params = {k: v for k, v in pending.items() if k != "kind"}
        if common.latest_intent(tracker) == "affirm":
            return settled() + CONFIRMED[kind](dispatcher, tracker, params)
        if kind in DECLINED:
            return settled() + DECLINED[kind](dispatcher, tracker, params)
        dispatcher.utter_message(response="utter_left_unchanged")
        return settled()

    def when_unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        return super().when_unavailable(dispatcher, tracker) + settled()
