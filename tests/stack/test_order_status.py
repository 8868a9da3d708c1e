"""The walking skeleton end to end: a real order's status through the REST channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.db import get_engine
from crm.models import Order
from tests.stack.conftest import Stack

pytestmark = pytest.mark.stack


def an_order(status: str) -> str:
    with get_engine().connect() as connection:
        number = connection.scalar(
            select(Order.number).where(Order.status == status).order_by(Order.id)
        )
    assert number, f"the test CRM has no {status} order"
    return number


def texts(replies: list[dict[str, object]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


def test_greeting_in_both_languages(stack: Stack) -> None:
    assert texts(stack.say("skeleton-greet-en", "hello"))
    chinese = texts(stack.say("skeleton-greet-zh", "你好"))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese)


@pytest.mark.parametrize(
    ("template", "status_word"),
    [
        ("where is my order {number}", "in transit"),
        ("我的订单{number}到哪了", "运输"),
    ],
)
def test_order_status_comes_from_the_crm(
    stack: Stack, template: str, status_word: str
) -> None:
    number = an_order("in_transit")
    replies = texts(
        stack.say(f"skeleton-{status_word}", template.format(number=number))
    )
    assert number in replies
    assert status_word in replies.lower()
