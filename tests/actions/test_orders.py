"""Orders: public status by number, the customer's own orders, cancel, change."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.account import ActionHandleInform
from actions.confirm import ActionConfirm
from actions.fallback import ActionUnclearAnswer
from actions.orders import (
    ActionAskAddressFormOrderNumber,
    ActionCancelOrder,
    ActionChangeOrder,
    ActionChangeShippingAddress,
    ActionCheckOrderStatus,
    ValidateAddressForm,
)
from crm.models import Order, Ticket
from tests import factories
from tests.actions import factories as more
from tests.actions.conftest import (
    DOMAIN,
    answer,
    make_tracker,
    run,
    tracker_for,
    user_event,
)
from tests.actions.expected import SETTLED, YES_NO, asked, render, resolved, said
from tests.factories import NOW


def shipped_order(session: Session, eta: date = date(2026, 11, 4), **fields):
    owner = factories.customer(session)
    order = factories.order(session, owner, status="in_transit", **fields)
    more.order_item(
        session,
        order,
        factories.product(session, name_en="Auralis Buds", name_zh="奥拉耳机"),
        quantity=2,
    )
    factories.shipment(session, order, carrier="UPS", estimated_delivery=eta)
    return owner, order


def status_question(number: str, **slots) -> object:
    return make_tracker(
        text=f"where is my order {number}",
        intent="order_status",
        entities={"order_number": number},
        order_number=number,
        **slots,
    )


def test_status_by_number_is_public_but_shows_nothing_personal(crm: Session) -> None:
    _, order = shipped_order(crm)
    events, messages = run(ActionCheckOrderStatus(), status_question(order.number))
    assert events == [
        SlotSet("awaiting", None),
        SlotSet("order_number", order.number),
        *resolved("order_status"),
    ]
    assert messages == [
        said(
            "utter_order_status_on_the_way",
            order_number=order.number,
            status="in transit",
            carrier="UPS",
            eta="Nov 4, 2026",
        )
    ]
    assert render(messages[0]) == (
        f"Order {order.number} is in transit with UPS. Expected delivery: Nov 4, 2026."
    )


def test_status_in_chinese(crm: Session) -> None:
    _, order = shipped_order(crm)
    tracker = status_question(order.number, language="zh")
    _, messages = run(ActionCheckOrderStatus(), tracker)
    assert render(messages[0], "zh") == (
        f"订单 {order.number} 当前状态：运输中，承运商为 UPS，"
        "预计送达时间：2026年11月4日。"
    )


@pytest.mark.parametrize(("mood", "offered"), [("negative", True), ("neutral", False)])
def test_an_upset_customer_gets_the_status_and_the_offer_of_a_person(
    crm: Session, mood: str, offered: bool
) -> None:
    """Seen in a walkthrough: "my order hasn't arrived and it's been 2 weeks, this is
    unacceptable" got the status and nothing else."""
    _, order = shipped_order(crm)
    tracker = status_question(order.number, sentiment={"label": mood, "score": 0.9})
    _, messages = run(ActionCheckOrderStatus(), tracker)
    responses = [m["response"] for m in messages]
    assert responses[0] == "utter_order_status_on_the_way"
    assert ("utter_sorry_offer_person" in responses) is offered
    offer = DOMAIN["responses"]["utter_sorry_offer_person"]
    assert all(
        [b["payload"] for b in v["buttons"]] == ["/human_handoff", "/deny"]
        for v in offer
    )


def test_the_owner_also_sees_items_address_and_tracking(crm: Session) -> None:
    owner, order = shipped_order(crm)
    tracker = status_question(order.number, verified=True, customer_id=owner.id)
    _, messages = run(ActionCheckOrderStatus(), tracker)
    assert [m["response"] for m in messages] == [
        "utter_order_status_on_the_way",
        "utter_order_details",
        "utter_order_tracking",
    ]
    assert render(messages[1]) == (
        "Items: Auralis Buds ×2 (total 79.00 USD), ordered on Oct 29, 2026, "
        "going to 1 Market St, San Francisco."
    )
    assert "Latest update: in transit, Nov 1, 2026." in render(messages[2])


def test_a_signed_in_owner_sees_the_details_without_verifying(crm: Session) -> None:
    import time

    from crm.settings import get_settings
    from crm.signing import signature_for

    owner, order = shipped_order(crm)
    now = int(time.time())
    claim = {
        "customer_id": owner.id,
        "timestamp": now,
        "signature": signature_for(owner.id, now, secret=get_settings().signing_secret),
    }
    tracker = status_question(order.number, metadata=claim)
    events, messages = run(ActionCheckOrderStatus(), tracker)
    assert [m["response"] for m in messages] == [
        "utter_order_status_on_the_way",
        "utter_order_details",
        "utter_order_tracking",
    ]
    assert events[:3] == [
        SlotSet("signature_checked", claim["signature"]),
        SlotSet("customer_id", owner.id),
        SlotSet("verified", True),
    ]


def test_someone_elses_order_shows_only_the_public_status(crm: Session) -> None:
    _, order = shipped_order(crm)
    other = factories.customer(crm)
    tracker = status_question(order.number, verified=True, customer_id=other.id)
    _, messages = run(ActionCheckOrderStatus(), tracker)
    assert [m["response"] for m in messages] == ["utter_order_status_on_the_way"]


def late_order(session: Session, eta: date = date(2026, 10, 30)):
    """An order in transit, placed nine days ago and expected on `eta`."""
    return shipped_order(session, eta, placed_at=NOW - timedelta(days=9))


def chase(number: str) -> dict:
    question = {"response": "utter_ask_chase_delivery", "carrier": "UPS"}
    return {
        "kind": "chase_delivery",
        "question": question,
        "order_number": number,
        "carrier": "UPS",
    }


def test_a_late_order_gets_an_apology_and_an_offer_to_chase_the_carrier(
    crm: Session,
) -> None:
    """Seen in a walkthrough: an order a week overdue was reported like any other
    ("Expected delivery: Nov 30"), with no apology and nothing offered."""
    owner, order = late_order(crm)
    tracker = status_question(order.number, verified=True, customer_id=owner.id)
    events, messages = run(ActionCheckOrderStatus(), tracker)
    assert [m["response"] for m in messages] == [
        "utter_order_status_late",
        "utter_order_details",
        "utter_order_tracking",
        "utter_ask_chase_delivery",
    ]
    assert render(messages[0]) == (
        f"I'm sorry, order {order.number} is late: it was expected on Oct 30, 2026. "
        "It's in transit with UPS."
    )
    assert render(messages[0], "zh").startswith(f"非常抱歉，订单 {order.number} 晚了")
    assert messages[-1]["buttons"] == YES_NO
    assert events == [
        SlotSet("awaiting", None),
        SlotSet("order_number", order.number),
        *asked(chase(order.number)),
    ]


def test_yes_opens_one_chase_ticket_and_asking_again_finds_it(crm: Session) -> None:
    owner, order = late_order(crm)
    events, messages = run(
        ActionConfirm(), answer(owner.id, "affirm", chase(order.number))
    )
    ticket = crm.scalars(select(Ticket).where(Ticket.customer_id == owner.id)).one()
    assert (ticket.category, ticket.status) == ("delivery", "open")
    assert order.number in ticket.subject
    assert events == [*SETTLED, *resolved("order_status")]
    assert render(messages[0]) == (
        f"Done: ticket #{ticket.id} is open. Our team will chase UPS and email you "
        "within one working day."
    )
    again = status_question(order.number, verified=True, customer_id=owner.id)
    events, messages = run(ActionCheckOrderStatus(), again)
    assert messages[-1] == said("utter_delivery_already_chased", ticket=ticket.id)
    assert events[-2:] == resolved("order_status")
    assert crm.scalars(select(Ticket).where(Ticket.customer_id == owner.id)).all() == [
        ticket
    ]


def test_no_to_chasing_opens_nothing(crm: Session) -> None:
    owner, order = late_order(crm)
    events, messages = run(
        ActionConfirm(), answer(owner.id, "deny", chase(order.number))
    )
    assert messages == [said("utter_delivery_not_chased")]
    assert events == [*SETTLED, *resolved("order_status")]
    assert crm.scalars(select(Ticket).where(Ticket.customer_id == owner.id)).all() == []


def test_a_late_order_asked_about_by_number_only_gets_the_apology(
    crm: Session,
) -> None:
    """Anyone with the number learns it is late; only its owner can have it chased."""
    _, order = late_order(crm)
    events, messages = run(ActionCheckOrderStatus(), status_question(order.number))
    assert [m["response"] for m in messages] == ["utter_order_status_late"]
    assert events[-2:] == resolved("order_status")


def test_an_order_due_today_is_not_late(crm: Session) -> None:
    owner, order = late_order(crm, eta=NOW.date())
    tracker = status_question(order.number, verified=True, customer_id=owner.id)
    _, messages = run(ActionCheckOrderStatus(), tracker)
    assert messages[0]["response"] == "utter_order_status_on_the_way"
    assert "utter_ask_chase_delivery" not in [m["response"] for m in messages]


def test_delivered_preparing_and_cancelled(crm: Session) -> None:
    owner = factories.customer(crm)
    delivered = factories.order(crm, owner, status="delivered")
    factories.shipment(crm, delivered, status="delivered", delivered_at=NOW)
    pending = factories.order(crm, owner, status="pending")
    cancelled = factories.order(crm, owner, status="cancelled")
    found = [
        run(ActionCheckOrderStatus(), status_question(o.number))[1][0]
        for o in (delivered, pending, cancelled)
    ]
    assert [render(m) for m in found] == [
        f"Order {delivered.number} was delivered by UPS on Nov 1, 2026.",
        f"Order {pending.number} is pending: it was placed on Oct 29, 2026 and "
        "hasn't shipped yet.",
        f"Order {cancelled.number} is cancelled.",
    ]


def test_an_unknown_number(crm: Session) -> None:
    events, messages = run(ActionCheckOrderStatus(), status_question("A0000000"))
    assert events == [SlotSet("awaiting", None), SlotSet("order_number", None)]
    assert messages == [said("utter_order_not_found", order_number="A0000000")]


def test_no_number_and_not_verified_asks_for_it(crm: Session) -> None:
    tracker = make_tracker(text="where is my order", intent="order_status")
    assert run(ActionCheckOrderStatus(), tracker) == (
        [SlotSet("awaiting", "order_status")],
        [said("utter_ask_order_number_for_status")],
    )


def test_recent_orders_once_verified(crm: Session) -> None:
    owner = factories.customer(crm)
    older = factories.order(crm, owner, placed_at=NOW - timedelta(days=20))
    newer = factories.order(crm, owner, status="delivered", total=Decimal("1249.5"))
    tracker = tracker_for(owner.id, text="my orders", intent="order_status")
    events, messages = run(ActionCheckOrderStatus(), tracker)
    assert events == [SlotSet("awaiting", None), *resolved("order_status")]
    assert messages == [
        said(
            "utter_recent_orders",
            orders=f"{newer.number} · Oct 29, 2026 · delivered · 1,249.50 USD\n"
            f"{older.number} · Oct 12, 2026 · being prepared · 79.00 USD",
        )
    ]


def test_database_down_is_answered_politely(crm_down: None) -> None:
    assert run(ActionCheckOrderStatus(), status_question("A1000123")) == (
        [],
        [said("utter_crm_unavailable")],
    )


# --- cancelling -----------------------------------------------------------------------


def test_cancel_asks_to_confirm_then_cancels(crm: Session) -> None:
    owner = factories.customer(crm)
    order = factories.order(crm, owner, status="processing")
    ask = tracker_for(owner.id, text="cancel my order", intent="cancel_order")
    events, messages = run(ActionCancelOrder(), ask)
    question = {
        "response": "utter_confirm_cancel_order",
        "order_number": order.number,
        "items": "—",
        "total": "79.00 USD",
    }
    pending = {
        "kind": "cancel_order",
        "question": question,
        "order_number": order.number,
    }
    assert events == [
        SlotSet("order_number", order.number),
        SlotSet("awaiting", None),
        *asked(pending),
    ]
    assert messages == [
        said(
            "utter_confirm_cancel_order",
            order_number=order.number,
            items="—",
            total="79.00 USD",
            buttons=YES_NO,
        )
    ]
    events, messages = run(ActionConfirm(), answer(owner.id, "affirm", pending))
    assert events == [*SETTLED, *resolved("cancel_order")]
    assert messages == [
        said("utter_order_cancelled", order_number=order.number, total="79.00 USD")
    ]
    crm.refresh(order)
    assert order.status == "cancelled"


def test_no_keeps_the_order(crm: Session) -> None:
    owner = factories.customer(crm)
    order = factories.order(crm, owner, status="pending")
    pending = {"kind": "cancel_order", "order_number": order.number}
    events, messages = run(ActionConfirm(), answer(owner.id, "deny", pending))
    assert messages == [said("utter_left_unchanged")]
    assert events == SETTLED
    crm.refresh(order)
    assert order.status == "pending"


def test_a_late_yes_confirms_nothing_and_asks_again(crm: Session) -> None:
    """Seen in a walkthrough: "yes" two turns after "Request a refund?" got "Okay,
    anything else?", so the customer believed the refund was on its way."""
    owner = factories.customer(crm)
    order = factories.order(crm, owner)
    question = {"response": "utter_confirm_cancel_order", "order_number": order.number}
    pending = {
        "kind": "cancel_order",
        "question": question,
        "order_number": order.number,
    }
    meanwhile = [user_event("what are your delivery options", "faq")]
    late = answer(owner.id, "affirm", pending, meanwhile=meanwhile)
    events, messages = run(ActionConfirm(), late)
    assert messages == [
        said("utter_answer_question_first"),
        said("utter_confirm_cancel_order", order_number=order.number, buttons=YES_NO),
    ]
    assert events == asked(pending)
    crm.refresh(order)
    assert order.status == "processing"
    late_no = answer(owner.id, "deny", pending, meanwhile=meanwhile)
    assert run(ActionConfirm(), late_no) == (SETTLED, [said("utter_anything_else")])


def cancel_request(customer_id: int, number: str) -> Tracker:
    return tracker_for(
        customer_id,
        text=f"cancel {number}",
        intent="cancel_order",
        entities={"order_number": number},
    )


def test_a_shipped_order_cannot_be_cancelled(crm: Session) -> None:
    owner, order = shipped_order(crm)
    events, messages = run(ActionCancelOrder(), cancel_request(owner.id, order.number))
    assert events == [SlotSet("order_number", order.number), SlotSet("awaiting", None)]
    assert messages == [
        said(
            "utter_order_cannot_change", order_number=order.number, status="in transit"
        )
    ]


def test_someone_elses_order_cannot_be_cancelled(crm: Session) -> None:
    _, order = shipped_order(crm)
    me = factories.customer(crm)
    factories.order(crm, me)
    factories.order(crm, me)
    events, messages = run(ActionCancelOrder(), cancel_request(me.id, order.number))
    assert messages == [said("utter_order_not_on_account", order_number=order.number)]
    assert events == [SlotSet("order_number", None), SlotSet("awaiting", None)]


def test_which_order_to_cancel(crm: Session) -> None:
    me = factories.customer(crm)
    first = factories.order(crm, me, placed_at=NOW - timedelta(days=5))
    second = factories.order(crm, me, status="pending")
    tracker = tracker_for(me.id, text="取消订单", intent="cancel_order", language="zh")
    events, messages = run(ActionCancelOrder(), tracker)
    assert events == [SlotSet("awaiting", "cancel_order")]
    assert messages == [
        said(
            "utter_which_order",
            buttons=[
                {
                    "title": f"{o.number} · —",
                    "payload": f'/cancel_order{{"order_number": "{o.number}"}}',
                }
                for o in (second, first)
            ],
        )
    ]


def test_nothing_left_to_cancel(crm: Session) -> None:
    me = factories.customer(crm)
    factories.order(crm, me, status="delivered")
    tracker = tracker_for(me.id, intent="cancel_order")
    assert run(ActionCancelOrder(), tracker) == (
        [SlotSet("awaiting", None)],
        [said("utter_no_orders_to_cancel_order")],
    )


def test_change_items_opens_a_ticket(crm: Session) -> None:
    me = factories.customer(crm)
    order = factories.order(crm, me)
    tracker = tracker_for(
        me.id, text="can i change the size in my order to XL", intent="change_order"
    )
    events, messages = run(ActionChangeOrder(), tracker)
    ticket = crm.scalars(select(Ticket)).one()
    assert (ticket.category, ticket.customer_id, ticket.subject, ticket.transcript) == (
        "order_change",
        me.id,
        f"Change to order {order.number}",
        "can i change the size in my order to XL",
    )
    assert messages == [
        said(
            "utter_order_change_requested", order_number=order.number, ticket=ticket.id
        )
    ]
    assert events == [
        SlotSet("order_number", order.number),
        SlotSet("awaiting", None),
        SlotSet("request_resolved", True),
        SlotSet("last_request", "change_order"),
    ]


# --- the shipping address -------------------------------------------------------------


def address_tracker(customer_id: int, **kwargs) -> Tracker:
    return tracker_for(customer_id, active_loop="address_form", **kwargs)


def test_address_form_picks_the_only_unshipped_order(crm: Session) -> None:
    me = factories.customer(crm)
    order = factories.order(crm, me)
    factories.order(crm, me, status="delivered")
    tracker = make_tracker(
        text="change my address",
        intent="change_shipping_address",
        verified=True,
        customer_id=me.id,
        activating="address_form",
    )
    events, messages = run(ValidateAddressForm(), tracker)
    assert events == [
        SlotSet("address_stopped", False),
        SlotSet("new_address", None),
        SlotSet("next_form", None),
        SlotSet("order_number", order.number),
    ]
    assert messages == []


def test_address_form_refuses_a_shipped_order(crm: Session) -> None:
    me, order = shipped_order(crm)
    factories.order(crm, me)
    tracker = address_tracker(
        me.id,
        text=order.number,
        intent="inform",
        extracted={"order_number": order.number},
        requested_slot="order_number",
    )
    events, messages = run(ValidateAddressForm(), tracker)
    assert events == [
        SlotSet("order_number", order.number),
        SlotSet("order_number", None),
    ]
    assert messages == [
        said(
            "utter_order_cannot_change", order_number=order.number, status="in transit"
        )
    ]


def test_address_form_without_the_database(crm_down: None) -> None:
    tracker = address_tracker(
        1,
        text="A1000123",
        intent="inform",
        extracted={"order_number": "A1000123"},
        requested_slot="order_number",
    )
    events, messages = run(ValidateAddressForm(), tracker)
    assert SlotSet("address_stopped", True) in events
    assert messages == [said("utter_crm_unavailable")]


def test_address_form_asks_which_order(crm: Session) -> None:
    me = factories.customer(crm)
    a = factories.order(crm, me)
    b = factories.order(crm, me, placed_at=NOW - timedelta(days=9))
    events, messages = run(ActionAskAddressFormOrderNumber(), address_tracker(me.id))
    assert events == []
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        f'/inform{{"order_number": "{a.number}"}}',
        f'/inform{{"order_number": "{b.number}"}}',
    ]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        (
            "home",
            "inform",
            ([SlotSet("new_address", None)], [said("utter_invalid_address")]),
        ),
        *(
            (
                text,
                "inform",
                ([SlotSet("new_address", None)], [said("utter_invalid_address")]),
            )
            for text in (
                "A1000177",
                "my email is nancy@example.org",
                "+44 20 7946 0958",
            )
        ),
        (
            "no forget it",
            "deny",
            (
                [
                    SlotSet("new_address", None),
                    SlotSet("address_stopped", True),
                    SlotSet("requested_slot", None),
                ],
                [],
            ),
        ),
    ],
    ids=["too short", "order number", "email", "phone", "stopped"],
)
def test_address_form_checks_the_address(
    crm: Session, text: str, intent: str, expected: tuple
) -> None:
    me = factories.customer(crm)
    order = factories.order(crm, me)
    tracker = address_tracker(
        me.id,
        text=text,
        intent=intent,
        extracted={"new_address": text},
        order_number=order.number,
        requested_slot="new_address",
    )
    assert run(ValidateAddressForm(), tracker) == expected


def address_question(number: str, address: str) -> tuple[dict, dict]:
    """ "Send order `number` to: `address`?": what the bot remembers, what it says."""
    question = {
        "response": "utter_confirm_new_address",
        "order_number": number,
        "address": address,
    }
    pending = {"kind": "change_address", "question": question} | question
    del pending["response"]
    return pending, said(**question, buttons=YES_NO)


def test_address_change_confirmed(crm: Session) -> None:
    me = factories.customer(crm)
    order = factories.order(crm, me)
    new = "22 Rue de la Paix, 75002 Paris"
    done = tracker_for(
        me.id, text=new, intent="inform", order_number=order.number, new_address=new
    )
    events, messages = run(ActionChangeShippingAddress(), done)
    pending, question = address_question(order.number, new)
    assert events == [SlotSet("address_stopped", False), *asked(pending)]
    assert messages == [question]
    events, messages = run(ActionConfirm(), answer(me.id, "affirm", pending))
    assert messages == [
        said("utter_address_changed", order_number=order.number, address=new)
    ]
    assert SlotSet("last_request", "change_shipping_address") in events
    assert crm.get(Order, order.id).shipping_address == new


@pytest.mark.parametrize(
    ("action", "intent"),
    [
        (ActionUnclearAnswer(), "nlu_fallback"),
        (ActionHandleInform(), "inform"),
        (ActionConfirm(), "deny"),
    ],
    ids=["unreadable", "a detail", "a no"],
)
@pytest.mark.parametrize(
    ("typed", "new"),
    [
        ("12 Baker Street, London NW1 6XE", "12 Baker Street, London NW1 6XE"),
        ("sorry, actually 12  Baker Street, London", "12 Baker Street, London"),
        ("不对，是北京市朝阳区建国路99号", "北京市朝阳区建国路99号"),
    ],
    ids=["address", "with correction words", "Chinese"],
)
def test_an_address_typed_to_the_question_revises_it(
    crm: Session, action: Action, intent: str, typed: str, new: str
) -> None:
    """Seen in a walkthrough: the address typed to correct the one asked about got
    "Did you mean: leaving feedback?"."""
    me = factories.customer(crm)
    order = factories.order(crm, me)
    pending, _ = address_question(order.number, "1 Old Road, Leeds LS1 1AA")
    revised, question = address_question(order.number, new)
    events, messages = run(action, answer(me.id, intent, pending, text=typed))
    assert events == asked(revised)
    assert messages == [question]


@pytest.mark.parametrize(
    "typed", ["no", "no, keep the old one please", "不用了，还是原来的地址"]
)
def test_a_no_without_a_new_address_leaves_it(crm: Session, typed: str) -> None:
    """A no is a correction only when what follows it reads as an address with a
    number in it; anything else is a plain no."""
    me = factories.customer(crm)
    order = factories.order(crm, me)
    pending, _ = address_question(order.number, "1 Old Road, Leeds LS1 1AA")
    events, messages = run(ActionConfirm(), answer(me.id, "deny", pending, text=typed))
    assert events[:2] == SETTLED
    assert messages == [said("utter_left_unchanged")]
    assert crm.get(Order, order.id).shipping_address == "1 Market St, San Francisco"


def test_address_change_stopped(crm: Session) -> None:
    me = factories.customer(crm)
    tracker = tracker_for(me.id, text="no", intent="deny", address_stopped=True)
    assert run(ActionChangeShippingAddress(), tracker) == (
        [SlotSet("address_stopped", False)],
        [said("utter_address_unchanged")],
    )


@pytest.mark.parametrize(
    ("pending", "events"),
    [
        ({"kind": "cancel_order"}, []),
        (
            {"kind": "change_address", "address": "22 Rue de la Paix, 75002 Paris"},
            [SlotSet("new_address", None)],
        ),
    ],
    ids=["cancel", "change address"],
)
def test_a_yes_after_the_order_shipped_changes_nothing(
    crm: Session, pending: dict, events: list
) -> None:
    owner, order = shipped_order(crm)
    pending = pending | {"order_number": order.number}
    assert run(ActionConfirm(), answer(owner.id, "affirm", pending)) == (
        [*SETTLED, *events],
        [
            said(
                "utter_order_cannot_change",
                order_number=order.number,
                status="in transit",
            )
        ],
    )
    assert crm.get(Order, order.id).status == "in_transit"


def test_a_yes_without_the_database_is_settled(crm_down: None) -> None:
    pending = {"kind": "cancel_order", "order_number": "A1000123"}
    assert run(ActionConfirm(), answer(1, "affirm", pending)) == (
        SETTLED,
        [said("utter_crm_unavailable")],
    )
