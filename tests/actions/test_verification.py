"""Verification: the widget's signature, and email plus order number (or phone)."""

from __future__ import annotations

import time

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.verification import (
    ActionAfterVerification,
    ActionAskEmail,
    ValidateVerifyCustomerForm,
    signature_events,
)
from crm.models import VerificationAttempt
from crm.settings import get_settings
from crm.signing import signature_for
from tests import factories
from tests.actions.conftest import make_tracker, run, user_event
from tests.actions.expected import render, said

SECRET = get_settings().signing_secret
FORM = "verify_customer_form"


def signed(customer_id: int, *, at: float | None = None, secret: str = SECRET) -> dict:
    when = int(time.time() if at is None else at)
    return {
        "customer_id": customer_id,
        "timestamp": when,
        "signature": signature_for(customer_id, when, secret=secret),
    }


def attempts(session: Session) -> list[tuple[str, int | None, str, bool]]:
    rows = session.scalars(select(VerificationAttempt).order_by(VerificationAttempt.id))
    return [(r.sender_id, r.customer_id, r.method, r.succeeded) for r in rows]


# --- the signature --------------------------------------------------------------------


def check(tracker) -> list:
    """Run the signature check the way actions do (inside the CRM thread)."""
    return signature_events(tracker)


def test_a_valid_signature_verifies_the_customer(crm: Session) -> None:
    customer = factories.customer(crm)
    claim = signed(customer.id)
    assert check(make_tracker(metadata=claim)) == [
        SlotSet("signature_checked", claim["signature"]),
        SlotSet("customer_id", customer.id),
        SlotSet("verified", True),
    ]
    assert attempts(crm) == [("test-sender", customer.id, "signature", True)]


def test_an_earlier_message_or_the_session_metadata_counts_too(crm: Session) -> None:
    customer = factories.customer(crm)
    claim = signed(customer.id)
    earlier = user_event("hi", "greet") | {"metadata": claim}
    assert SlotSet("verified", True) in check(make_tracker(history=[earlier]))
    session = make_tracker(session_started_metadata=claim)
    assert SlotSet("verified", True) in check(session)
    old_session = make_tracker(
        history=[earlier, {"event": "session_started", "timestamp": None}]
    )
    assert check(old_session) == []


def test_tampered_expired_and_forged_signatures_are_refused(crm: Session) -> None:
    victim = factories.customer(crm)
    tampered = signed(victim.id) | {"customer_id": victim.id + 1000}
    expired = signed(victim.id, at=time.time() - get_settings().signature_max_age - 5)
    forged = signed(victim.id, secret="guessed")
    for claim in (tampered, expired, forged):
        assert check(make_tracker(metadata=claim)) == [
            SlotSet("signature_checked", claim["signature"])
        ]
    assert attempts(crm) == [
        ("test-sender", None, "signature", False),
        ("test-sender", victim.id, "signature", False),
        ("test-sender", victim.id, "signature", False),
    ]


def test_a_signature_is_checked_once(crm: Session) -> None:
    claim = signed(factories.customer(crm).id)
    tracker = make_tracker(metadata=claim, signature_checked=claim["signature"])
    assert check(tracker) == []
    assert attempts(crm) == []


def test_no_signature_no_work(crm: Session) -> None:
    assert check(make_tracker(metadata={"foo": 1})) == []
    assert attempts(crm) == []


def test_a_signature_for_an_erased_customer_is_refused(crm: Session) -> None:
    from tests.factories import NOW

    customer = factories.customer(crm, erased_at=NOW)
    claim = signed(customer.id)
    assert check(make_tracker(metadata=claim)) == [
        SlotSet("signature_checked", claim["signature"])
    ]


def test_a_signed_in_customer_passes_the_form_without_a_question(
    crm: Session,
) -> None:
    customer = factories.customer(crm)
    claim = signed(customer.id)
    tracker = make_tracker(
        text="cancel my order", intent="cancel_order", metadata=claim, activating=FORM
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [
        SlotSet("pending_request", "cancel_order"),
        SlotSet("signature_checked", claim["signature"]),
        SlotSet("customer_id", customer.id),
        SlotSet("verified", True),
        SlotSet("verification_locked", False),
        SlotSet("requested_slot", None),
    ]
    assert messages == []


# --- the form -------------------------------------------------------------------------


def form_tracker(**kwargs) -> Tracker:
    return make_tracker(active_loop=FORM, **kwargs)


def form_answer(slot: str, value: str, **kwargs) -> Tracker:
    """`value` for `slot`, tagged by NLU, while the form asks for `requested_slot`
    (`slot` unless given)."""
    return form_tracker(
        text=value,
        intent="inform",
        entities={slot: value},
        extracted={slot: value},
        **{"requested_slot": slot} | kwargs,
    )


def test_activation_remembers_the_request_and_asks_for_the_email(crm: Session) -> None:
    tracker = make_tracker(
        text="i want a refund", intent="request_refund", activating=FORM
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [
        SlotSet("pending_request", "request_refund"),
        SlotSet("verification_locked", False),
        SlotSet("requested_slot", "email"),
    ]
    assert messages == []


def test_the_new_email_of_change_my_email_is_not_taken_as_proof(
    crm: Session,
) -> None:
    """Seen in a walkthrough: "change my email to new@..." started verification
    with the new address as the account's email."""
    tracker = make_tracker(
        text="change my email to nancy.new@example.org",
        intent="edit_account",
        entities={"email": "nancy.new@example.org"},
        extracted={"email": "nancy.new@example.org"},
        activating=FORM,
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert SlotSet("email", None) in events
    assert events[-1] == SlotSet("requested_slot", "email")
    assert messages == []


def test_email_and_order_number_verify(crm: Session) -> None:
    customer = factories.customer(crm, email="Ann@Example.com", name_zh="安")
    order = factories.order(crm, customer)
    tracker = form_answer(
        "order_number", order.number.lower(), email="ann@example.com", language="zh"
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [
        SlotSet("order_number", order.number),
        SlotSet("customer_id", customer.id),
        SlotSet("verified", True),
        SlotSet("requested_slot", None),
    ]
    assert messages == [said("utter_verified", name="安")]
    assert render(messages[0], "zh") == "谢谢，安，身份验证已通过。"
    assert attempts(crm) == [("test-sender", customer.id, "email_order", True)]


def test_email_and_phone_verify(crm: Session) -> None:
    customer = factories.customer(crm, phone="+1 415 555 0101")
    tracker = form_answer(
        "phone", "415-555-0101", email=customer.email, requested_slot="order_number"
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [
        SlotSet("phone", "415-555-0101"),
        SlotSet("customer_id", customer.id),
        SlotSet("verified", True),
        SlotSet("requested_slot", None),
    ]
    assert messages == [said("utter_verified", name=customer.name_en)]


def test_another_customers_order_fails_and_counts(crm: Session) -> None:
    ann = factories.customer(crm)
    bob = factories.customer(crm)
    bobs_order = factories.order(crm, bob)
    tracker = form_answer("order_number", bobs_order.number, email=ann.email)
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [
        SlotSet("order_number", bobs_order.number),
        SlotSet("email", None),
        SlotSet("order_number", None),
        SlotSet("phone", None),
        SlotSet("requested_slot", "email"),
    ]
    assert messages == [said("utter_verification_failed", remaining=2)]
    assert "attempts left: 2" in render(messages[0])
    assert attempts(crm) == [("test-sender", ann.id, "email_order", False)]


def wrong_guess(session: Session, sender: str, email: str) -> tuple[list, list]:
    tracker = form_answer("order_number", "A0000001", sender=sender, email=email)
    return run(ValidateVerifyCustomerForm(), tracker)


def test_three_failures_lock_the_sender_and_the_email(crm: Session) -> None:
    ann = factories.customer(crm)
    order = factories.order(crm, ann)
    wrong_guess(crm, "attacker", ann.email)
    wrong_guess(crm, "attacker", ann.email)
    events, messages = wrong_guess(crm, "attacker", ann.email)
    assert events[-2:] == [
        SlotSet("verification_locked", True),
        SlotSet("requested_slot", None),
    ]
    assert messages == []
    # a fresh conversation does not reset the count for that email ...
    fresh = form_answer(
        "order_number", order.number, sender="attacker-2", email=ann.email
    )
    events, _ = run(ValidateVerifyCustomerForm(), fresh)
    assert SlotSet("verified", True) not in events
    assert SlotSet("verification_locked", True) in events
    # ... and the locked sender is refused at once when it tries again
    again = make_tracker(
        sender="attacker", text="refund", intent="request_refund", activating=FORM
    )
    events, _ = run(ValidateVerifyCustomerForm(), again)
    assert events == [
        SlotSet("pending_request", "request_refund"),
        SlotSet("verification_locked", True),
        SlotSet("requested_slot", None),
    ]
    assert [a[3] for a in attempts(crm)] == [False, False, False, False]


def test_a_bad_email_is_asked_again(crm: Session) -> None:
    tracker = form_answer("email", "bob at home")
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [SlotSet("email", None), SlotSet("requested_slot", "email")]
    assert messages == [said("utter_invalid_email")]


def test_an_email_typed_without_an_entity_is_found(crm: Session) -> None:
    tracker = form_tracker(
        text="sure: carl@example.org", intent="inform", requested_slot="email"
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [
        SlotSet("email", "carl@example.org"),
        SlotSet("requested_slot", "order_number"),
    ]
    assert messages == []


def test_an_order_number_alone_is_enough_for_a_status_lookup(crm: Session) -> None:
    tracker = form_answer(
        "order_number",
        "A1234567",
        pending_request="order_status",
        requested_slot="email",
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events == [SlotSet("requested_slot", None)]
    assert messages == []


def test_the_database_down_ends_the_form_politely(crm_down: None) -> None:
    tracker = form_tracker(
        text="A1234567",
        intent="inform",
        email="ann@example.com",
        extracted={"order_number": "A1234567"},
        requested_slot="order_number",
    )
    events, messages = run(ValidateVerifyCustomerForm(), tracker)
    assert events[-1] == SlotSet("requested_slot", None)
    assert SlotSet("verified", True) not in events
    assert messages == [said("utter_crm_unavailable")]


def test_the_email_question_fits_the_request() -> None:
    status = make_tracker(pending_request="order_status")
    assert run(ActionAskEmail(), status) == (
        [],
        [said("utter_ask_email_or_order_number")],
    )
    refund = make_tracker(pending_request="request_refund")
    assert run(ActionAskEmail(), refund) == ([], [said("utter_ask_email")])


# --- after the form -------------------------------------------------------------------


def test_after_verification_the_request_is_answered(crm: Session) -> None:
    customer = factories.customer(crm)
    factories.subscription(crm, customer)
    tracker = make_tracker(
        pending_request="check_subscription", verified=True, customer_id=customer.id
    )
    events, messages = run(ActionAfterVerification(), tracker)
    assert events[0] == SlotSet("pending_request", None)
    assert [m["response"] for m in messages] == ["utter_subscription_details"]


def test_after_a_locked_attempt_a_person_is_offered(crm: Session) -> None:
    tracker = make_tracker(pending_request="request_refund", verification_locked=True)
    events, messages = run(ActionAfterVerification(), tracker)
    assert events == [SlotSet("pending_request", None), SlotSet("next_form", None)]
    assert messages == [said("utter_verification_locked")]
    buttons = [b["payload"] for b in _domain_buttons("utter_verification_locked")]
    assert "/human_handoff" in buttons


def test_after_a_status_lookup_the_status_is_shown(crm: Session) -> None:
    order = factories.order(crm, factories.customer(crm), status="pending")
    tracker = make_tracker(
        text=order.number,
        intent="inform",
        pending_request="order_status",
        order_number=order.number,
    )
    events, messages = run(ActionAfterVerification(), tracker)
    assert [m["response"] for m in messages] == ["utter_order_status_preparing"]
    assert events[0] == SlotSet("pending_request", None)


def test_address_change_continues_with_its_form(crm: Session) -> None:
    customer = factories.customer(crm)
    tracker = make_tracker(
        pending_request="change_shipping_address",
        verified=True,
        customer_id=customer.id,
    )
    assert run(ActionAfterVerification(), tracker) == (
        [
            SlotSet("pending_request", None),
            SlotSet("next_form", None),
            SlotSet("next_form", "address_form"),
        ],
        [],
    )


def _domain_buttons(response: str) -> list[dict]:
    from tests.actions.conftest import DOMAIN

    return DOMAIN["responses"][response][-1]["buttons"]


def test_an_order_number_typed_inside_chinese_is_found(crm: Session) -> None:
    tracker = form_tracker(
        text="订单号是A1000123谢谢", intent="inform", requested_slot="order_number"
    )
    events, _ = run(ValidateVerifyCustomerForm(), tracker)
    assert events[0] == SlotSet("order_number", "A1000123")
