"""Feedback through the real bot: offered at the end, or asked for by the customer."""

from __future__ import annotations

import secrets

import pytest

from tests.stack.conftest import Stack

pytestmark = pytest.mark.stack


def test_a_customer_who_offers_feedback_is_not_thanked_for_being_helped(
    stack: Stack,
) -> None:
    """The feedback form's question is `utter_ask_rating`, not the end-of-conversation
    prompt (Rasa's forms would take an action named `action_ask_rating` first)."""
    for text, expected in (
        ("I'd like to leave some feedback", "How would you rate this conversation"),
        ("我想给你们提点意见", "请为本次服务打分"),
    ):
        replies = stack.say(f"feedback-{secrets.token_hex(8)}", text)
        said = " ".join(str(r.get("text") or "") for r in replies)
        assert expected in said and "Glad I could help" not in said, said
        assert "很高兴能帮到您" not in said, said
        buttons = [b["payload"] for r in replies for b in r.get("buttons") or []]
        assert buttons[-1] == '/give_feedback{"rating": 5}', replies
