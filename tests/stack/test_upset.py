"""An upset customer is offered a person, whatever the bot understood."""

from __future__ import annotations

import secrets

import pytest

from tests.stack.conftest import Stack
from tests.stack.test_order_status import an_order

pytestmark = pytest.mark.stack

OFFER = ("I can get you a person", "我可以为您转接人工客服")


@pytest.mark.parametrize(
    "text",
    [
        "my order {number} hasn't arrived and it's been 2 weeks, this is unacceptable",
        "我的订单{number}都两个星期了还没到，太离谱了",
        "😡😡😡",
    ],
)
def test_an_upset_customer_is_offered_a_person(stack: Stack, text: str) -> None:
    replies = stack.say(
        f"upset-{secrets.token_hex(8)}", text.format(number=an_order("in_transit"))
    )
    said = " ".join(str(r.get("text") or "") for r in replies)
    assert any(offer in said for offer in OFFER), said
    payloads = [b["payload"] for r in replies for b in r.get("buttons") or []]
    assert payloads == ["/human_handoff", "/deny"], replies
