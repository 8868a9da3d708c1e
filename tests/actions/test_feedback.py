"""Feedback: the rating prompt, the form, and the stored row."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.feedback import (
    ActionRateConversation,
    ActionSaveFeedback,
    ValidateFeedbackForm,
    rating_in_text,
)
from crm.models import Conversation, Feedback
from tests import factories
from tests.actions.conftest import DOMAIN, make_tracker, run, tracker_for
from tests.actions.expected import said

RESET = [
    SlotSet("rating", None),
    SlotSet("feedback_comment", None),
    SlotSet("request_resolved", False),
]


def test_the_rating_prompt_has_buttons_and_a_custom_payload() -> None:
    assert run(ActionRateConversation(), make_tracker(intent="thanks")) == (
        [SlotSet("request_resolved", False)],
        [said("utter_rate_conversation")],
    )
    prompts = ("utter_rate_conversation", "utter_ask_rating")  # the form's question
    for variation in (v for name in prompts for v in DOMAIN["responses"][name]):
        assert variation["custom"] == {"rating_prompt": True}
        assert [b["payload"] for b in variation["buttons"]] == [
            # doubled braces: Rasa's response templating turns them into single ones
            f'/give_feedback{{{{"rating": {n}}}}}'
            for n in range(1, 6)
        ]


def test_ratings_typed_in_either_language() -> None:
    texts = ("4", "4 stars", "Five Stars", "五星好评", "给三分", "满分", "10/10", "ok")
    assert [rating_in_text(t) for t in texts] == [4, 4, 5, 5, 3, 5, None, None]


def test_a_clicked_rating_goes_straight_to_the_comment() -> None:
    tracker = make_tracker(
        text='/give_feedback{"rating": 4}',
        intent="give_feedback",
        entities={"rating": 4},
        extracted={"rating": 4},
    )
    events, messages = run(ValidateFeedbackForm(), tracker)
    assert events == [SlotSet("rating", 4)]
    assert messages == []


def test_a_typed_rating_and_a_wrong_one() -> None:
    typed = make_tracker(
        text="五星",
        intent="inform",
        active_loop="feedback_form",
        requested_slot="rating",
    )
    assert run(ValidateFeedbackForm(), typed) == ([SlotSet("rating", 5)], [])
    wrong = make_tracker(
        intent="give_feedback",
        extracted={"rating": 9},
        active_loop="feedback_form",
        requested_slot="rating",
    )
    assert run(ValidateFeedbackForm(), wrong) == (
        [SlotSet("rating", None)],
        [said("utter_invalid_rating")],
    )


@pytest.mark.parametrize(("text", "rating"), [("5", 5), ("a solid 4", 4), ("三星", 3)])
def test_a_rating_typed_after_the_prompt_starts_the_form_with_it(
    text: str, rating: int
) -> None:
    """Seen in a walkthrough: "5" typed after "how did I do?" was not a rating."""
    starting = make_tracker(
        text=text, intent="give_feedback", activating="feedback_form"
    )
    assert run(ValidateFeedbackForm(), starting) == ([SlotSet("rating", rating)], [])
    asking = make_tracker(
        text="I'd like to leave feedback",
        intent="give_feedback",
        activating="feedback_form",
    )
    assert run(ValidateFeedbackForm(), asking) == ([], [])


@pytest.mark.parametrize("text", ["/deny", "没有"])
def test_the_comment_can_be_skipped(text: str) -> None:
    skip = make_tracker(
        text=text,
        intent="deny",
        extracted={"feedback_comment": text},
        active_loop="feedback_form",
        requested_slot="feedback_comment",
    )
    assert run(ValidateFeedbackForm(), skip)[0] == [SlotSet("feedback_comment", "")]


def test_feedback_is_stored_with_sentiment_intent_and_language(crm: Session) -> None:
    me = factories.customer(crm)
    tracker = tracker_for(
        me.id,
        sender="fb-1",
        text="很快就解决了，谢谢",
        intent="thanks",
        sentiment={"label": "positive", "score": 0.83, "confidence": 0.91},
        rating=5,
        feedback_comment="很快就解决了，谢谢",
        last_request="order_status",
        language="zh",
    )
    events, messages = run(ActionSaveFeedback(), tracker)
    row = crm.scalars(select(Feedback)).one()
    conversation = crm.scalars(select(Conversation)).one()
    assert (
        row.rating,
        row.text,
        row.intent,
        row.sentiment,
        row.sentiment_score,
        row.confidence,
        row.language,
        row.customer_id,
        row.conversation_id,
    ) == (
        5,
        "很快就解决了，谢谢",
        "order_status",
        "positive",
        0.83,
        0.91,
        "zh",
        me.id,
        conversation.id,
    )
    assert conversation.sender_id == "fb-1"
    assert messages == [said("utter_thanks_feedback")]
    assert events == RESET


def test_a_rating_without_a_comment_has_no_sentiment(crm: Session) -> None:
    tracker = make_tracker(
        text="/deny",
        intent="deny",
        rating=2,
        feedback_comment="",
        sentiment={"label": "negative", "score": -0.2, "confidence": 0.5},
    )
    run(ActionSaveFeedback(), tracker)
    row = crm.scalars(select(Feedback)).one()
    assert (row.rating, row.text, row.sentiment, row.intent, row.customer_id) == (
        2,
        None,
        None,
        "give_feedback",
        None,
    )


def test_feedback_when_the_database_is_down(crm_down: None) -> None:
    tracker = make_tracker(
        text="great", intent="inform", rating=5, feedback_comment="great"
    )
    assert run(ActionSaveFeedback(), tracker) == (
        RESET,
        [said("utter_crm_unavailable")],
    )
