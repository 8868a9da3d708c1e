"""Cancelling through the real bot: a vague "cancel it" answers the question asked,
it never starts cancelling the order the customer gave to prove who they are."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import queries
from crm.db import get_engine
from crm.models import Customer, Order, Subscription
from tests.stack.conftest import Stack

pytestmark = pytest.mark.stack


def subscriber_with_an_unshipped_order(session: Session) -> tuple[Customer, Order]:
    """The first customer with an active subscription, no retention offer due (so
    the bot asks "Cancel your subscription?" at once) and an order not yet shipped."""
    rows = session.execute(
        select(Customer, Order)
        .join(Order, Order.customer_id == Customer.id)
        .join(Subscription, Subscription.customer_id == Customer.id)
        .where(Subscription.status == "active", Order.status == "processing")
        .where(Customer.erased_at.is_(None))
        .order_by(Customer.id, Order.id)
    ).all()
    for customer, order in rows:
        if not queries.retention_offer_due(session=session, customer_id=customer.id):
            return customer, order
    pytest.fail("the test CRM has no such subscriber")


def test_cancel_it_to_the_subscription_question_never_cancels_an_order(
    stack: Stack,
) -> None:
    with Session(get_engine()) as session:
        customer, order = subscriber_with_an_unshipped_order(session)
        email, number = customer.email, order.number
    who = f"cancel-{secrets.token_hex(8)}"
    stack.say(who, "I want to cancel my subscription")
    stack.say(who, email)
    asked = " ".join(r.get("text") or "" for r in stack.say(who, number))
    assert "subscription?" in asked, asked

    again = " ".join(
        r.get("text") or "" for r in stack.say(who, "no thanks, just cancel it")
    )
    assert "please answer this first" in again and "subscription?" in again, again
    assert number not in again, again

    done = " ".join(r.get("text") or "" for r in stack.say(who, "yes"))
    with Session(get_engine()) as session:
        status = session.scalar(select(Order.status).where(Order.number == number))
        active = queries.current_subscription(session=session, customer_id=customer.id)
    assert status == "processing", done
    assert active is None, done
