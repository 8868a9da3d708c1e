"""Yes/no confirmations: an action asks (`ask`: "Cancel order A1000123?") and
remembers what it asked; `action_confirm` carries it out on "yes" or drops it on
"no". An answer that is not a plain yes or no right after the question (a late yes,
"just cancel it", words the bot cannot read) gets the question again, never a
guess; a detail that revises it (another address, also after "no,") gets the
revised question."""

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
Reviser = Callable[[Tracker, dict[str, Any]], dict[str, Any] | None]
CONFIRMED: dict[str, Handler] = {}
DECLINED: dict[str, Handler] = {}
REVISED: dict[str, Reviser] = {}


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


def revises(kind: str) -> Callable[[Reviser], Reviser]:
    """Register what reads a `kind` question's revised values (params) from an
    answer that is neither yes nor no; the reviser returns None when there are none."""

    def register(reviser: Reviser) -> Reviser:
        REVISED[kind] = reviser
        return reviser

    return register


def ask(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    kind: str,
    question: dict[str, Any],
    **params: Any,
) -> list[EventType]:
    """Ask `question` (a response name and its values) with Yes/No buttons; the
    events make the next yes or no answer `kind`'s, carried out with `params`."""
    lang = common.language(tracker)
    dispatcher.utter_message(**question, buttons=common.yes_no_buttons(lang))
    pending = {"kind": kind, "question": question, **params}
    return [
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_confirmation", pending),
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


def carry_out(
    dispatcher: CollectingDispatcher, tracker: Tracker, yes: bool
) -> list[EventType]:
    """Do what a yes (or a no) to the pending question does, and settle it."""
    pending = dict(tracker.get_slot("pending_confirmation"))
    kind = pending.pop("kind")
    pending.pop("question", None)
    if yes:
        return settled() + CONFIRMED[kind](dispatcher, tracker, pending)
    if kind in DECLINED:
        return settled() + DECLINED[kind](dispatcher, tracker, pending)
    dispatcher.utter_message(response="utter_left_unchanged")
    return settled()


def question_just_asked(tracker: Tracker) -> dict[str, Any] | None:
    """The pending question, if the bot's last turn asked it."""
    pending = tracker.get_slot("pending_confirmation")
    return pending if isinstance(pending, dict) and just_asked(tracker) else None


CANCELLATIONS = frozenset({"cancel_order", "cancel_subscription", "retention_offer"})
"""Questions that a request to cancel could be the answer to."""


def answer_by_cancel_request(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """A request to cancel that names no order, made right after a cancellation
    question, answers it: to an offer to stay it is a no; to "Cancel ...?" it is
    unclear, so the question is asked again ("no thanks, just cancel it" to "Cancel
    your subscription?" must not start cancelling the order given to verify). None
    when no such question was just asked or the message names an order."""
    pending = question_just_asked(tracker)
    if pending is None:
        return None
    kind = pending.get("kind")
    if kind not in CANCELLATIONS or common.latest_entity(tracker, "order_number"):
        return None
    if kind == "retention_offer":
        return carry_out(dispatcher, tracker, yes=False)
    return ask_again(dispatcher, tracker) if "question" in pending else None


def answer_by_its_order_number(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """An order number alone, right after a question about that order ("Request a
    refund for A1000448?" then "A1000448"), is no new request: the question is asked
    again. None otherwise."""
    pending = question_just_asked(tracker)
    number = common.latest_entity(tracker, "order_number")
    if pending is None or "question" not in pending or not number:
        return None
    if number.strip().upper() != pending.get("order_number"):
        return None
    return ask_again(dispatcher, tracker)


def answer_by_new_details(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """A message that is neither yes nor no right after a question: the question
    revised by it ("Send order A1000123 to: <the address just typed>?"), else the
    same question again. None when no question was just asked."""
    pending = question_just_asked(tracker)
    if pending is None or "question" not in pending:
        return None
    revised = ask_revised(dispatcher, tracker, pending)
    return ask_again(dispatcher, tracker) if revised is None else revised


def ask_revised(
    dispatcher: CollectingDispatcher, tracker: Tracker, pending: dict[str, Any]
) -> list[EventType] | None:
    """The question of `pending` revised by details in this message ("no, 14 Baker
    Street"); None when the message has none its kind's reviser can read."""
    params = dict(pending)
    kind, question = params.pop("kind"), params.pop("question")
    revise = REVISED.get(kind)
    revised = revise(tracker, params) if revise else None
    if revised is None:
        return None
    question = question | {key: revised[key] for key in question if key in revised}
    return ask(dispatcher, tracker, kind, question, **revised)


def ask_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The pending question once more, after "please answer this first"."""
    pending = dict(tracker.get_slot("pending_confirmation"))
    kind, question = pending.pop("kind"), pending.pop("question")
    dispatcher.utter_message(response="utter_answer_question_first")
    return ask(dispatcher, tracker, kind, question, **pending)


class ActionConfirm(common.CrmAction):
    """The customer said yes or no to the pending question."""

    def name(self) -> str:
        return "action_confirm"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_confirmation")
        kind = pending.get("kind") if isinstance(pending, dict) else None
        yes = common.latest_intent(tracker) == "affirm"
        if kind not in CONFIRMED or common.verified_customer(tracker) is None:
            dispatcher.utter_message(response="utter_anything_else")
            return settled()
        if not just_asked(tracker):
            # A late yes may mean the question, or what came in between: ask again.
            if yes and "question" in pending:
                return ask_again(dispatcher, tracker)
            dispatcher.utter_message(response="utter_anything_else")
            return settled()
        if not yes and "question" in pending:
            revised = ask_revised(dispatcher, tracker, pending)
            if revised is not None:
                return revised
        return carry_out(dispatcher, tracker, yes)

    def when_unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        return super().when_unavailable(dispatcher, tracker) + settled()
