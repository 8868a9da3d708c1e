"""Human handoff: ticket, priority, conversation flag, holding, relaying, release."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.handoff import (
    ActionHandleComplaint,
    ActionHandoff,
    ActionHandoffHold,
    ActionHandoffReleased,
    ActionRelayAgentMessage,
    transcript,
)
from crm.models import Conversation, Ticket
from crm.queries import handoff_priority
from tests import factories
from tests.actions.conftest import bot_event, make_tracker, run, tracker_for, user_event
from tests.actions.expected import SETTLED, render, resolved, said

HOLD = [
    SlotSet("handoff_active", True),
    *SETTLED,
    SlotSet("awaiting", None),
    SlotSet("request_resolved", False),
    ActiveLoop(None),
]
ANGRY = {"label": "negative", "score": -0.8, "confidence": 0.9}
CALM = {"label": "neutral", "score": 0.0, "confidence": 0.7}


def test_priority_from_sentiment_and_value() -> None:
    assert handoff_priority("negative", True) == "urgent"
    assert handoff_priority("negative", False) == "high"
    assert handoff_priority("neutral", True) == "high"
    assert handoff_priority("positive", False) == "normal"
    assert handoff_priority(None, False) == "normal"


def test_handoff_opens_a_ticket_with_the_transcript(crm: Session) -> None:
    history = [
        user_event("where is my parcel", "order_status"),
        bot_event(
            "utter_ask_order_number_for_status", "Sure, what's the order number?"
        ),
    ]
    tracker = make_tracker(
        sender="h-1",
        text="get me a human",
        intent="human_handoff",
        sentiment=CALM,
        history=history,
    )
    events, messages = run(ActionHandoff(), tracker)
    ticket = crm.scalars(select(Ticket)).one()
    conversation = crm.scalars(select(Conversation)).one()
    assert messages == [said("utter_handoff", ticket=ticket.id)]
    assert events == HOLD
    assert (
        ticket.category,
        ticket.priority,
        ticket.conversation_id,
        ticket.customer_id,
    ) == ("handoff", "normal", conversation.id, None)
    assert ticket.transcript.splitlines() == [
        "[2026-09-21 14:13:00] customer: where is my parcel",
        "[2026-09-21 14:13:10] bot: Sure, what's the order number?",
        "[2026-09-21 14:13:20] customer: get me a human",
    ]
    assert (
        conversation.sender_id,
        conversation.handoff,
        conversation.needs_attention,
        conversation.outcome,
    ) == ("h-1", "requested", True, "escalated")


def test_an_upset_high_value_customer_is_urgent(crm: Session) -> None:
    me = factories.customer(crm, segment="vip")
    history = [
        user_event(
            "this is the third time!!", "complain", sentiment={"label": "negative"}
        )
    ]
    tracker = tracker_for(
        me.id,
        text="agent now",
        intent="human_handoff",
        sentiment=CALM,
        history=history,
        active_loop="verify_customer_form",
        language="zh",
    )
    events, messages = run(ActionHandoff(), tracker)
    ticket = crm.scalars(select(Ticket)).one()
    assert (ticket.priority, ticket.customer_id) == ("urgent", me.id)
    assert events == [*HOLD, SlotSet("requested_slot", None)]
    assert render(messages[0], "zh").startswith(
        f"已为您转接人工客服（工单号 #{ticket.id}）"
    )


def test_handoff_without_the_database_still_holds(crm_down: None) -> None:
    tracker = make_tracker(text="human please", intent="human_handoff")
    assert run(ActionHandoff(), tracker) == (HOLD, [said("utter_handoff_degraded")])


@pytest.mark.parametrize(
    ("mood", "expected"),
    [
        (ANGRY, (HOLD, [said("utter_handoff_degraded")])),
        (CALM, ([], [said("utter_crm_unavailable")])),
    ],
    ids=["angry: still a person", "calm: try later"],
)
def test_a_complaint_without_the_database(
    crm_down: None, mood: dict, expected: tuple
) -> None:
    tracker = make_tracker(text="this is broken", intent="complain", sentiment=mood)
    assert run(ActionHandleComplaint(), tracker) == expected


def test_an_angry_complaint_goes_to_a_person(crm: Session) -> None:
    tracker = make_tracker(
        text="your delivery service is a joke", intent="complain", sentiment=ANGRY
    )
    events, messages = run(ActionHandleComplaint(), tracker)
    ticket = crm.scalars(select(Ticket)).one()
    assert (ticket.category, ticket.priority) == ("handoff", "high")
    assert messages == [said("utter_handoff", ticket=ticket.id)]
    assert events == HOLD


def test_a_calm_complaint_becomes_a_ticket(crm: Session) -> None:
    me = factories.customer(crm)
    factories.order(crm, me, total=Decimal("10"))
    tracker = tracker_for(
        me.id, text="the box was a bit dented", intent="complain", sentiment=CALM
    )
    events, messages = run(ActionHandleComplaint(), tracker)
    ticket = crm.scalars(select(Ticket)).one()
    assert (ticket.category, ticket.customer_id, ticket.priority) == (
        "complaint",
        me.id,
        "normal",
    )
    assert messages == [said("utter_complaint_logged", ticket=ticket.id)]
    assert events == []
    assert crm.scalars(select(Conversation)).one().needs_attention is False


def test_holding_says_one_short_note_then_stays_quiet() -> None:
    after_handoff = [bot_event("utter_handoff")]
    first = make_tracker(text="hello?", history=after_handoff, handoff_active=True)
    assert run(ActionHandoffHold(), first) == ([], [said("utter_handoff_waiting")])
    second = make_tracker(
        text="anyone?",
        handoff_active=True,
        history=[
            *after_handoff,
            user_event("hello?", "greet"),
            bot_event("utter_handoff_waiting"),
        ],
    )
    assert run(ActionHandoffHold(), second) == ([], [])
    after_agent = make_tracker(
        text="thanks",
        handoff_active=True,
        history=[*after_handoff, bot_event(None, "Hi, I'm Mia", agent=True)],
    )
    assert run(ActionHandoffHold(), after_agent) == ([], [])


def test_the_agents_message_is_relayed() -> None:
    tracker = make_tracker(
        text="EXTERNAL: EXTERNAL_agent_message",
        intent="EXTERNAL_agent_message",
        entities={"agent_text": "  Hi, I'm Mia from support.  "},
        handoff_active=True,
    )
    assert run(ActionRelayAgentMessage(), tracker) == (
        [],
        [
            said(
                custom={"sender": "agent", "text": "Hi, I'm Mia from support."},
                agent=True,
            )
        ],
    )
    unheld = make_tracker(
        intent="EXTERNAL_agent_message", entities={"agent_text": "Hi"}
    )
    assert run(ActionRelayAgentMessage(), unheld)[0] == [
        SlotSet("handoff_active", True)
    ]
    empty = make_tracker(intent="EXTERNAL_agent_message")
    assert run(ActionRelayAgentMessage(), empty) == ([], [])


def test_release_hands_back_to_the_bot(crm: Session) -> None:
    factories.conversation(
        crm, sender_id="rel-1", handoff="taken", needs_attention=True
    )
    tracker = make_tracker(
        sender="rel-1", intent="EXTERNAL_handoff_released", handoff_active=True
    )
    events, messages = run(ActionHandoffReleased(), tracker)
    assert events == [SlotSet("handoff_active", False), *resolved("human_handoff")]
    assert messages == [said("utter_handoff_released")]
    conversation = crm.scalars(select(Conversation)).one()
    assert (conversation.handoff, conversation.needs_attention) == ("released", False)


def test_release_works_without_the_database(crm_down: None) -> None:
    tracker = make_tracker(intent="EXTERNAL_handoff_released", handoff_active=True)
    events, messages = run(ActionHandoffReleased(), tracker)
    assert events[0] == SlotSet("handoff_active", False)
    assert messages == [said("utter_handoff_released")]


def test_transcript_keeps_the_latest_messages() -> None:
    history = [user_event(f"message {n}", "inform") for n in range(80)]
    lines = transcript(make_tracker(text="last", history=history)).splitlines()
    assert len(lines) == 60
    assert lines[-1].endswith("customer: last")
