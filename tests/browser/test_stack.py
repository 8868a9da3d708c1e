"""End to end against the running stack (Rasa, actions, web on test ports, started by
tests/stack/conftest.py against the test CRM): a customer in the widget, staff in the
console. Marked `stack`; skipped when there is no trained model.

The bot's exact wording is not asserted, only what must be there: the order's real
status, in the customer's language, and the agent's reply reaching the widget."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crm.db import get_engine, transaction
from crm.ingest import ingest
from crm.models import Conversation, Customer, Order
from tests.browser.conftest import PASSWORD, screenshot
from tests.stack.conftest import ASKS_FOR_EMAIL, Stack
from web.security import create_staff
from web.util import utcnow

pytestmark = [pytest.mark.stack, pytest.mark.browser]

STATUS_WORDS = {"en": "in transit", "zh": "运输"}
ASKS_ORDER = re.compile(r"order number|订单号", re.IGNORECASE)


def in_transit_order() -> tuple[str, str]:
    with get_engine().connect() as connection:
        found = connection.execute(
            select(Order.number, Customer.email)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.status == "in_transit")
            .order_by(Order.id)
        ).first()
    assert found, "the test CRM has no order in transit"
    return found[0], found[1]


@pytest.fixture(scope="module")
def staff_logins(stack: Stack) -> dict[str, str]:
    """An agent and an analyst of our own in the test CRM."""
    tag = secrets.token_hex(4)
    emails = {}
    with transaction() as session:
        for role in ("agent", "analyst"):
            user = create_staff(
                session=session,
                email=f"stack-{role}-{tag}@example.com",
                name=f"Stack {role}",
                password=PASSWORD,
                role=role,
                now=utcnow(),
            )
            emails[role] = user.email
    return emails


@pytest.fixture
def chat(stack: Stack, new_page: Any) -> Iterator[Any]:
    def open_chat(locale: str) -> Any:
        page = new_page(locale=locale)
        page.goto(f"{stack.web}/chat")
        script = page.locator("script[data-rasa]")
        assert script.get_attribute("data-rasa") == stack.rasa, (
            "the web app's RASA_URL must point at the stack's Rasa"
        )
        page.locator("#kefu-widget #kefu-panel").wait_for(state="visible")
        page.wait_for_function(
            "window.kefuWidget && document.querySelector('#kefu-widget').shadowRoot"
            ".querySelector('#kefu-banner').hidden"
        )
        return page

    yield open_chat


def bot_texts(page: Any) -> list[str]:
    return page.locator("#kefu-widget .msg.bot .text").all_inner_texts()


def say(page: Any, text: str, timeout: float = 60) -> str:
    """Type `text` into the widget; return the bot's new messages, joined."""
    before = len(bot_texts(page))
    box = page.locator("#kefu-widget #kefu-input")
    box.fill(text)
    box.press("Enter")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        now = bot_texts(page)
        if len(now) > before and page.locator("#kefu-widget #kefu-typing").is_hidden():
            page.wait_for_timeout(700)  # the rest of a multi-part answer
            return " ".join(bot_texts(page)[before:])
    pytest.fail(f"no answer to {text!r} within {timeout} s")


def ask_order_status(page: Any, language: str) -> str:
    number, email = in_transit_order()
    question = (
        f"where is my order {number}" if language == "en" else f"我的订单{number}到哪了"
    )
    answer = say(page, question)
    for _ in range(4):
        if STATUS_WORDS[language] in answer.lower():
            break
        if ASKS_FOR_EMAIL.search(answer):
            answer = say(page, email)
        elif ASKS_ORDER.search(answer):
            answer = say(page, number)
        else:
            break
    assert STATUS_WORDS[language] in answer.lower(), answer
    return number


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("zh-CN", "zh")])
def test_customer_asks_for_an_order_and_a_reload_keeps_it(
    chat: Any, locale: str, language: str
) -> None:
    page = chat(locale)
    number = ask_order_status(page, language)
    screenshot(page, f"stack-widget-order-{language}")
    ingest(get_engine())
    count = page.locator("#kefu-widget .msg").count()
    page.reload()
    page.locator("#kefu-widget .msg").nth(count - 1).wait_for()
    assert number in " ".join(page.locator("#kefu-widget .msg .text").all_inner_texts())


def log_in(page: Any, stack: Stack, email: str) -> None:
    page.goto(f"{stack.web}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{stack.web}/inbox")


def test_staff_find_the_conversation_correct_it_and_export(
    chat: Any,
    stack: Stack,
    new_page: Any,
    staff_logins: dict[str, str],
) -> None:
    customer = chat("en-US")
    ask_order_status(customer, "en")
    session_id = customer.evaluate("window.kefuWidget.sessionId()")
    ingest(get_engine())
    page = new_page()
    log_in(page, stack, staff_logins["analyst"])
    page.get_by_label("Text").fill(session_id)
    page.get_by_role("button", name="Filter").click()
    page.locator("table.inbox a").first.click()
    message = page.locator("li.msg.user").first
    message.locator("summary").click()
    message.get_by_label("Intent").fill("order_status")
    message.get_by_label("Sentiment").select_option("negative")
    message.get_by_role("button", name="Save labels").click()
    assert "Saved" in page.get_by_role("status").first.inner_text()
    screenshot(page, "stack-console-conversation")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    exported = httpx.get(f"{stack.web}/corrections/export/en.yml", cookies=cookies)
    assert exported.status_code == 200 and "metadata:" in exported.text


def test_agent_takes_over_and_the_customer_sees_the_reply(
    chat: Any,
    stack: Stack,
    new_page: Any,
    staff_logins: dict[str, str],
) -> None:
    customer = chat("en-US")
    say(customer, "I want to talk to a human agent")
    session_id = customer.evaluate("window.kefuWidget.sessionId()")
    ingest(get_engine())
    with get_engine().connect() as connection:
        row = connection.execute(
            select(Conversation.id, Conversation.handoff).where(
                Conversation.sender_id == session_id
            )
        ).one()
    assert row.handoff == "requested"
    agent = new_page()
    log_in(agent, stack, staff_logins["agent"])
    agent.goto(f"{stack.web}/conversations/{row.id}")
    agent.get_by_role("button", name="Take this conversation").click()
    agent.get_by_label("Message to the customer").fill("Hi, this is Sam from support.")
    agent.get_by_role("button", name="Send to customer").click()
    customer.locator(
        "#kefu-widget .msg.agent .text", has_text="Sam from support"
    ).wait_for(timeout=30_000)
    screenshot(customer, "stack-widget-agent-reply")
    agent.get_by_role("button", name="Release to the bot").click()
    assert "Released" in agent.get_by_role("status").first.inner_text()
    assert say(customer, "hello")  # the bot answers again


def test_refused_where_they_do_not_belong(
    stack: Stack,
    new_page: Any,
    staff_logins: dict[str, str],
) -> None:
    assert httpx.get(f"{stack.web}/admin/staff").status_code == 303
    page = new_page()
    log_in(page, stack, staff_logins["agent"])
    assert page.goto(f"{stack.web}/admin/staff").status == 403
