"""Account: contact details, newsletter, deletion, and bare details (inform)."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.account import (
    ActionDeleteAccount,
    ActionEditAccount,
    ActionHandleInform,
    ActionNewsletterSubscribe,
    ActionNewsletterUnsubscribe,
)
from actions.confirm import ActionConfirm
from crm.models import Customer, Ticket
from tests import factories
from tests.actions.conftest import (
    answer,
    make_tracker,
    run,
    tracker_for,
    user_event,
)
from tests.actions.expected import YES_NO, asked, render, resolved, said


def test_new_email_is_confirmed_then_saved(crm: Session) -> None:
    me = factories.customer(crm)
    ask = tracker_for(
        me.id,
        text="change my email to new.me@example.org",
        intent="edit_account",
        entities={"email": "new.me@example.org"},
    )
    events, messages = run(ActionEditAccount(), ask)
    question = {
        "response": "utter_confirm_contact_change",
        "field": "email address",
        "value": "new.me@example.org",
    }
    pending = {
        "kind": "update_contact",
        "question": question,
        "field": "email",
        "value": "new.me@example.org",
    }
    assert events == [SlotSet("awaiting", None), *asked(pending)]
    assert messages == [
        said(
            "utter_confirm_contact_change",
            field="email address",
            value="new.me@example.org",
            buttons=YES_NO,
        )
    ]
    events, messages = run(ActionConfirm(), answer(me.id, "affirm", pending))
    assert crm.get(Customer, me.id).email == "new.me@example.org"
    assert messages == [
        said("utter_contact_updated", field="email address", value="new.me@example.org")
    ]
    assert events[-1] == SlotSet("last_request", "edit_account")


def test_after_verification_the_new_email_comes_from_the_request(
    crm: Session,
) -> None:
    """The latest message is the order number that proved who they are; the new
    email is in the message that asked for the change."""
    me = factories.customer(crm)
    request = user_event(
        "change my email to new.me@example.org",
        "edit_account",
        entities=[{"entity": "email", "value": "new.me@example.org"}],
    )
    proof = user_event(
        me.email, "inform", entities=[{"entity": "email", "value": me.email}]
    )
    tracker = tracker_for(
        me.id,
        text="A1000001",
        intent="inform",
        entities={"order_number": "A1000001"},
        pending_request="edit_account",
        history=[request, proof],
    )
    _, messages = run(ActionEditAccount(), tracker)
    assert messages == [
        said(
            "utter_confirm_contact_change",
            field="email address",
            value="new.me@example.org",
            buttons=YES_NO,
        )
    ]


def test_an_email_of_another_account_is_refused(crm: Session) -> None:
    me = factories.customer(crm)
    other = factories.customer(crm)
    pending = {"kind": "update_contact", "field": "email", "value": other.email.upper()}
    _, messages = run(ActionConfirm(), answer(me.id, "affirm", pending))
    assert messages == [said("utter_email_taken", value=other.email.upper())]
    assert crm.get(Customer, me.id).email != other.email


def test_without_a_new_value_the_bot_asks_then_uses_the_answer(crm: Session) -> None:
    me = factories.customer(crm)
    ask = tracker_for(me.id, text="修改手机号", intent="edit_account", language="zh")
    assert run(ActionEditAccount(), ask) == (
        [SlotSet("awaiting", "edit_account")],
        [said("utter_ask_new_contact")],
    )
    detail = tracker_for(
        me.id,
        text="+86 138 0013 8000",
        intent="inform",
        entities={"phone": "+86 138 0013 8000"},
        awaiting="edit_account",
        language="zh",
    )
    events, messages = run(ActionHandleInform(), detail)
    assert render(messages[0], "zh") == "确认将您的手机号修改为 +86 138 0013 8000 吗？"
    assert events[0] == SlotSet("awaiting", None)
    pending = events[-1]["value"]
    run(ActionConfirm(), answer(me.id, "affirm", pending, language="zh"))
    assert crm.get(Customer, me.id).phone == "+86 138 0013 8000"


def test_a_bare_order_number_is_a_status_question(crm: Session) -> None:
    order = factories.order(crm, factories.customer(crm), status="pending")
    tracker = make_tracker(
        text=order.number, intent="inform", entities={"order_number": order.number}
    )
    _, messages = run(ActionHandleInform(), tracker)
    assert [m["response"] for m in messages] == ["utter_order_status_preparing"]


def test_the_order_number_of_the_question_just_asked_asks_it_again(
    crm: Session,
) -> None:
    """Seen in a walkthrough: "Request a refund for order A...?" answered with the
    order number got the order's status, and the question was gone."""
    me = factories.customer(crm)
    order = factories.order(crm, me, status="delivered")
    question = {"response": "utter_confirm_refund", "order_number": order.number}
    pending = {
        "kind": "request_refund",
        "question": question,
        "order_number": order.number,
    }
    tracker = answer(
        me.id,
        "inform",
        pending,
        text=order.number.lower(),
        entities={"order_number": order.number.lower()},
    )
    events, messages = run(ActionHandleInform(), tracker)
    assert [m["response"] for m in messages] == [
        "utter_answer_question_first",
        "utter_confirm_refund",
    ]
    assert events == asked(pending)


def test_a_bare_detail_without_context(crm: Session) -> None:
    tracker = make_tracker(
        text="bob@example.com", intent="inform", entities={"email": "bob@example.com"}
    )
    assert run(ActionHandleInform(), tracker) == ([], [said("utter_what_for")])


def test_newsletter_on_and_off(crm: Session) -> None:
    me = factories.customer(crm, newsletter=False)
    on = tracker_for(me.id, intent="newsletter_subscribe")
    events, messages = run(ActionNewsletterSubscribe(), on)
    assert messages == [said("utter_newsletter_on")]
    assert events == resolved("newsletter_subscribe")
    assert crm.get(Customer, me.id).newsletter is True
    _, messages = run(ActionNewsletterSubscribe(), on)
    assert messages == [said("utter_newsletter_already_on")]
    off = tracker_for(me.id, intent="newsletter_unsubscribe")
    events, messages = run(ActionNewsletterUnsubscribe(), off)
    assert messages == [said("utter_newsletter_off")]
    assert events == resolved("newsletter_unsubscribe")
    assert crm.get(Customer, me.id).newsletter is False


def test_delete_account_becomes_a_ticket(crm: Session) -> None:
    me = factories.customer(crm)
    ask = tracker_for(me.id, sender="del-1", intent="delete_account")
    events, messages = run(ActionDeleteAccount(), ask)
    pending = {
        "kind": "delete_account",
        "question": {"response": "utter_confirm_delete_account"},
    }
    assert events == asked(pending)
    assert messages == [said("utter_confirm_delete_account", buttons=YES_NO)]
    _, messages = run(ActionConfirm(), answer(me.id, "affirm", pending, sender="x"))
    ticket = crm.scalars(select(Ticket)).one()
    assert (ticket.category, ticket.customer_id, ticket.status) == (
        "account_deletion",
        me.id,
        "open",
    )
    assert messages == [said("utter_delete_account_requested", ticket=ticket.id)]


def test_account_actions_need_verification(crm: Session) -> None:
    for action in (
        ActionEditAccount(),
        ActionDeleteAccount(),
        ActionNewsletterSubscribe(),
    ):
        assert run(action, make_tracker(intent="edit_account")) == ([], [])
