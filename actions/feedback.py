"""Feedback: a 1-5 rating (buttons) and an optional comment, asked at the end of a
resolved conversation or whenever the customer offers it. Each row keeps the text,
the intent it is about, the comment's sentiment and the customer's language."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import common
from actions.verification import identify
from crm import queries

logger = logging.getLogger(__name__)

SAVE_ATTEMPTS = 3
SKIP_INTENTS = frozenset({"deny"})
SKIP_WORDS = frozenset(
    {"skip", "no", "nope", "nothing", "n/a", "跳过", "没有", "不用", "无"}
)
RATING_WORDS = {
    **{"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "满": 5},
    **{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5},
}
RATING_IN_TEXT = re.compile(
    r"(?<!\d)([1-5])(?!\d)"
    r"|([一二两三四五满])\s*[星分颗]"
    r"|\b(one|two|three|four|five)\s+stars?\b",
    re.IGNORECASE,
)


def rating_in_text(text: str) -> int | None:
    """A rating typed instead of clicked: "4", "4 stars", "five stars", "五星",
    "给三分", "满分"."""
    found = RATING_IN_TEXT.search(text)
    if not found:
        return None
    digit, word, english = found.groups()
    return int(digit) if digit else RATING_WORDS[(word or english).lower()]


def as_rating(value: Any) -> int | None:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 5 else None


class ActionRateConversation(Action):
    """End of a resolved conversation: ask for a rating (buttons plus a custom
    `rating_prompt` payload the widget shows as stars). Not `action_ask_rating`:
    Rasa's forms ask for a slot with an action of that name before the response
    `utter_ask_rating`, so the feedback form would open with "Glad I could help!"."""

    def name(self) -> str:
        return "action_rate_conversation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_rate_conversation")
        return [SlotSet("request_resolved", False)]


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_feedback_form"

    async def extract_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # the question's answer, or the message that starts the form ("5" typed
        # after the rating prompt, "3 stars for the speaker")
        asked = tracker.get_slot("requested_slot") in (None, "rating")
        if not asked or common.latest_entity(tracker, "rating"):
            return {}
        rating = rating_in_text(common.latest_text(tracker))
        return {} if rating is None else {"rating": rating}

    def validate_rating(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        rating = as_rating(value)
        if rating is None:
            dispatcher.utter_message(response="utter_invalid_rating")
        return {"rating": rating}

    def validate_feedback_comment(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        skipped = (
            common.latest_intent(tracker) in SKIP_INTENTS
            or text.lower().strip(".!。！") in SKIP_WORDS
            or text.startswith("/")
        )
        return {"feedback_comment": "" if skipped else text[:2000]}


class ActionSaveFeedback(common.CrmAction):
    """Store the feedback row and thank the customer."""

    def name(self) -> str:
        return "action_save_feedback"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rating = as_rating(tracker.get_slot("rating"))
        comment = tracker.get_slot("feedback_comment") or None
        mood = common.sentiment(tracker) if comment else None
        _, signed = identify(tracker)
        for attempt in range(SAVE_ATTEMPTS):
            try:
                self.save(tracker, rating, comment, mood)
                break
            except common.CRM_ERRORS:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        dispatcher.utter_message(response="utter_thanks_feedback")
        return signed + self.reset()

    @staticmethod
    def save(
        tracker: Tracker,
        rating: int | None,
        comment: str | None,
        mood: common.Sentiment | None,
    ) -> None:
        """One feedback row (retried by `act`: feedback is not to be lost to a blip)."""
        with common.crm_session() as session:
            queries.save_feedback(
                session=session,
                sender_id=tracker.sender_id,
                rating=rating,
                text=comment,
                intent=tracker.get_slot("last_request") or "give_feedback",
                sentiment=None if mood is None else mood.label,
                sentiment_score=None if mood is None else mood.score,
                confidence=None if mood is None else mood.confidence,
                language=common.language(tracker),
                customer_id=common.verified_customer(tracker),
            )

    @staticmethod
    def reset() -> list[EventType]:
        return [
            SlotSet("rating", None),
            SlotSet("feedback_comment", None),
            SlotSet("request_resolved", False),
        ]

    def when_unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        return super().when_unavailable(dispatcher, tracker) + self.reset()
