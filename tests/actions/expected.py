"""What the action tests expect actions to say and return: messages as
CollectingDispatcher records them, and the slot events of the common steps."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from tests.actions.conftest import DOMAIN

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
"""The buttons of a yes/no question, in English."""

SETTLED = [
    SlotSet("awaiting_confirmation", False),
    SlotSet("pending_confirmation", None),
]
"""The events of a yes/no question answered (or dropped)."""


def asked(pending: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of the bot asking the yes/no question `pending`."""
    return [
        SlotSet("awaiting_confirmation", True),
        SlotSet("pending_confirmation", pending),
    ]


def resolved(intent: str) -> list[dict[str, Any]]:
    """The events of the customer's request `intent` answered."""
    return [SlotSet("request_resolved", True), SlotSet("last_request", intent)]


def said(response: str | None = None, text: str | None = None, **kwargs: Any) -> dict:
    """A message as CollectingDispatcher records it."""
    return {
        "text": text,
        "buttons": kwargs.pop("buttons", []),
        "elements": [],
        "custom": kwargs.pop("custom", {}),
        "template": response,
        "response": response,
        "image": None,
        "attachment": None,
        **kwargs,
    }


def render(message: dict[str, Any], language: str = "en") -> str:
    """The text Rasa would send for a dispatched response, every placeholder filled.

    Fails if the response is missing, has no variation for `language`, or uses a
    placeholder the action did not provide.
    """
    variations = DOMAIN["responses"][message["response"]]
    chosen = [v for v in variations if (language == "zh") == bool(v.get("condition"))]
    assert chosen, f"{message['response']} has no {language} variation"
    values = {k: v for k, v in message.items() if k not in said()}
    return chosen[0]["text"].format(**values)
