"""Handing a conversation to staff: a ticket with the transcript and a priority, the
conversation flagged for the console, and the bot holding back until released.

While the slot `handoff_active` is true the rules answer every customer message with
`action_handoff_hold` (a short note once, then silence). Staff talk through Rasa's
`trigger_intent` endpoint: `EXTERNAL_agent_message` (entity `agent_text`) is relayed
by `action_relay_agent_message`, and `EXTERNAL_handoff_released` hands back. Rasa's
own ConversationPaused is not used: a paused tracker runs no actions at all, so the
agent's external messages would never reach the customer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.confirm import settled
from actions.verification import identify
from crm import queries

logger = logging.getLogger(__name__)

TRANSCRIPT_MESSAGES = 60
HANDOFF_RESPONSES = ("utter_handoff", "utter_handoff_degraded")


def transcript(tracker: Tracker, limit: int = TRANSCRIPT_MESSAGES) -> str:
    """The conversation so far, one line per message, for the agent's ticket."""
    lines = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        when = datetime.fromtimestamp(event.get("timestamp") or 0, UTC)
        who = "customer" if kind == "user" else "bot"
        lines.append(f"[{when:%Y-%m-%d %H:%M:%S}] {who}: {text}")
    return "\n".join(lines[-limit:])


def recent_mood(tracker: Tracker, messages: int = 3) -> str | None:
    """'negative' if any of the last few messages was, else the latest label."""
    labels = []
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        found = ((event.get("parse_data") or {}).get("sentiment") or {}).get("label")
        labels.append(found)
        if len(labels) == messages:
            break
    current = common.sentiment(tracker)
    if current is not None:
        labels.insert(0, current.label)
    if "negative" in labels:
        return "negative"
    return next((label for label in labels if label), None)


def hold_events(tracker: Tracker) -> list[EventType]:
    """Stop whatever the bot was doing (a form, a question) and hold."""
    events: list[EventType] = [
        SlotSet("handoff_active", True),
        *settled(),
        SlotSet("awaiting", None),
        SlotSet("request_resolved", False),
        ActiveLoop(None),
    ]
    if tracker.active_loop.get("name"):
        events.append(SlotSet("requested_slot", None))
    return events


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
) -> list[EventType]:
    """Open the handoff ticket, flag the conversation, and tell the customer."""
    customer, signed = identify(tracker)
    mood = recent_mood(tracker)
    with common.crm_session() as session:
        high_value = customer is not None and queries.is_high_value(
            session=session, customer_id=customer
        )
        priority = queries.handoff_priority(mood, high_value)
        ticket = queries.request_handoff(
            session=session,
            sender_id=tracker.sender_id,
            subject=f"Chat handoff: {reason}",
            transcript=transcript(tracker),
            priority=priority,
            customer_id=customer,
            language=common.language(tracker),
        )
    logger.info(
        "handoff for sender %s: ticket %s, priority %s",
        tracker.sender_id,
        ticket,
        priority,
    )
    dispatcher.utter_message(response="utter_handoff", ticket=ticket)
    return signed + hold_events(tracker)


def degraded(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Without the CRM there is no ticket, but the customer still gets a person.

    The `handoff_active` slot reaches the conversation log through Rasa's tracker
    store, and the ingest step flags the conversation for staff from it.
    """
    dispatcher.utter_message(response="utter_handoff_degraded")
    return hold_events(tracker)


def upset(tracker: Tracker) -> bool:
    """True if the latest message was negative: then a person, not a ticket."""
    mood = common.sentiment(tracker)
    return mood is not None and mood.label == "negative"


class ActionHandoff(common.CrmAction):
    """The customer asked for a person (or the bot could not help)."""

    def name(self) -> str:
        return "action_handoff"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return hand_off(dispatcher, tracker, "customer asked for a person")

    def when_unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        return degraded(dispatcher, tracker)


class ActionHandleComplaint(common.CrmAction):
    """An upset complaint goes to a person; a calm one becomes a ticket."""

    def name(self) -> str:
        return "action_handle_complaint"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if upset(tracker):
            return hand_off(dispatcher, tracker, "complaint")
        customer, signed = identify(tracker)
        with common.crm_session() as session:
            ticket = common.open_ticket(
                session,
                tracker,
                customer,
                category="complaint",
                subject="Complaint from chat",
                transcript=transcript(tracker),
                language=common.language(tracker),
            )
        dispatcher.utter_message(response="utter_complaint_logged", ticket=ticket)
        return signed

    def when_unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        if upset(tracker):
            return degraded(dispatcher, tracker)
        return super().when_unavailable(dispatcher, tracker)


def _bot_action(event: dict[str, Any]) -> str | None:
    return (event.get("metadata") or {}).get("utter_action")


class ActionHandoffHold(Action):
    """A customer message while staff have the conversation: the bot stays quiet.

    The first message after the handoff gets a short "an agent will reply here";
    later ones, and any after an agent has written, are only logged.
    """

    def name(self) -> str:
        return "action_handoff_hold"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        for event in reversed(tracker.events):
            if event.get("event") != "bot":
                continue
            if _bot_action(event) in HANDOFF_RESPONSES:
                dispatcher.utter_message(response="utter_handoff_waiting")
                return []
            if _bot_action(event) == "utter_handoff_waiting" or (
                event.get("metadata") or {}
            ).get("agent"):
                return []
        return []


class ActionRelayAgentMessage(Action):
    """Say what the agent typed in the console (entity `agent_text`)."""

    def name(self) -> str:
        return "action_relay_agent_message"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = common.latest_entity(tracker, "agent_text")
        if not text or not text.strip():
            logger.warning(
                "agent message without text for sender %s", tracker.sender_id
            )
            return []
        # As a custom payload, so the widget shows it as the agent's (Rasa's channels
        # pass a message's `custom` on whole, its metadata not at all); `agent=True`
        # goes to the event's metadata for ActionHandoffHold. The console already
        # logged the text as the agent's, so the bot event carries no text to ingest.
        dispatcher.utter_message(
            json_message={"sender": "agent", "text": text.strip()}, agent=True
        )
        return (
            []
            if tracker.get_slot("handoff_active")
            else [SlotSet("handoff_active", True)]
        )


class ActionHandoffReleased(Action):
    """Staff handed the conversation back: the bot answers again."""

    def name(self) -> str:
        return "action_handoff_released"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            await asyncio.to_thread(self.release, tracker.sender_id)
        except common.CRM_ERRORS as error:
            common.log_unavailable(self.name(), tracker, error)
        dispatcher.utter_message(response="utter_handoff_released")
        return [SlotSet("handoff_active", False), *common.resolved("human_handoff")]

    @staticmethod
    def release(sender_id: str) -> None:
        with common.crm_session() as session:
            queries.release_handoff(session=session, sender_id=sender_id)
