"""Feedback through the real bot: offered at the end, or asked for by the customer."""

from __future__ import annotations

import secrets

import pytest

from tests.stack.conftest import Stack
from tests.stack.test_order_status import an_order

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


@pytest.mark.parametrize(
    ("question", "thanks", "rating", "comment_asked"),
    [
        ("where is my order {number}", "thanks!", "5", "Anything you'd like to add?"),
        ("我的订单{number}到哪了", "谢谢", "4分", "还有什么想补充的吗"),
    ],
)
def test_a_rating_typed_after_the_prompt_counts(
    stack: Stack, question: str, thanks: str, rating: str, comment_asked: str
) -> None:
    who = f"rating-{secrets.token_hex(8)}"
    stack.say(who, question.format(number=an_order("in_transit")))
    prompt = stack.say(who, thanks)
    assert any((r.get("custom") or {}).get("rating_prompt") for r in prompt), prompt
    said = " ".join(str(r.get("text") or "") for r in stack.say(who, rating))
    assert comment_asked in said, said
