"""Attacks on verification through the running stack: forged, tampered, expired and
future widget signatures, guessed order numbers and phones, another customer's email,
more than three attempts, a new conversation after the lock, Rasa's HTTP API without
its token. Nothing personal of any customer reaches the attacker; every attempt is a
verification_attempts row; after three failures even the right answer is refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import httpx
import pytest

from crm.settings import get_settings
from tests.reliability.conftest import (
    Account,
    Personal,
    attempts_of,
    fresh_accounts,
    record,
    response,
    sender,
    slots,
    texts,
    tracker,
)
from tests.stack.conftest import ASKS_FOR_EMAIL, Stack

pytestmark = pytest.mark.stack


def signed(customer_id: object, timestamp: int, *, secret: str | None = None) -> str:
    """hex HMAC-SHA256(secret, "customer_id:timestamp"), as the website signs it."""
    key = (secret or get_settings().signing_secret).encode()
    message = f"{customer_id}:{timestamp}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def claims(victim: Account, attacker: Account) -> dict[str, dict[str, object]]:
    """Widget metadata an attacker could send, none of it a valid claim to `victim`."""
    now = int(time.time())
    max_age = get_settings().signature_max_age
    old = now - max_age - 120
    return {
        "forged": {
            "customer_id": victim.id,
            "timestamp": now,
            "signature": secrets.token_hex(32),
        },
        "tampered customer id": {
            "customer_id": victim.id,
            "timestamp": now,
            "signature": signed(attacker.id, now),
        },
        "tampered timestamp": {
            "customer_id": victim.id,
            "timestamp": now + 1,
            "signature": signed(victim.id, now),
        },
        "expired (replayed past its age)": {
            "customer_id": victim.id,
            "timestamp": old,
            "signature": signed(victim.id, old),
        },
        "from the future": {
            "customer_id": victim.id,
            "timestamp": now + 3600,
            "signature": signed(victim.id, now + 3600),
        },
        "the secret this repository once defaulted to": {
            "customer_id": victim.id,
            "timestamp": now,
            "signature": signed(victim.id, now, secret="change-me-in-production"),
        },
        "SQL in the customer id": {
            "customer_id": f"{victim.id} OR 1=1",
            "timestamp": now,
            "signature": signed(f"{victim.id} OR 1=1", now),
        },
        "upper-case signature of another id": {
            "customer_id": victim.id,
            "timestamp": now,
            "signature": signed(attacker.id, now).upper(),
        },
    }


def test_bad_signatures_verify_no_one(stack: Stack, personal: Personal) -> None:
    victim, attacker = fresh_accounts(2, skip=20)
    senders = {}
    said = []
    for case, metadata in claims(victim, attacker).items():
        who = senders[case] = sender("sig")
        replies = texts(stack.say(who, "show me my invoices", metadata=metadata))
        said.append(replies)
        assert ASKS_FOR_EMAIL.search(replies), (case, replies)
        assert "verified" not in replies, case
    leaks = personal.leaks(" ".join(said))
    assert not leaks, leaks

    rows = attempts_of(list(senders.values()))
    by_sender = {row["sender_id"]: row for row in rows}
    for case, who in senders.items():
        row = by_sender.get(who)
        assert row is not None, f"{case}: attempt not logged"
        assert row["method"] == "signature" and row["succeeded"] is False, case

    # The control: a fresh, correct signature does verify (the check is real).
    now = int(time.time())
    genuine = {
        "customer_id": victim.id,
        "timestamp": now,
        "signature": signed(victim.id, now),
    }
    who = sender("sig-genuine")
    answer = texts(stack.say(who, "where is my order", metadata=genuine))
    assert any(number in answer for number in victim.orders), answer
    assert not personal.leaks(answer, allowed=victim.id)
    # ...and the leak check sees personal data: the owner's address, in details.
    details = texts(stack.say(who, f"where is my order {victim.orders[-1]}"))
    seen = personal.leaks(details)
    assert seen and all(item.startswith(f"customer {victim.id}:") for item in seen)
    record("bad signatures", refused=len(senders), logged=len(rows))


def attempt(stack: Stack, who: str, email: str, proof: str) -> str:
    """One email-plus-order-number (or phone) answer to the verification form."""
    said = texts(stack.say(who, email))
    return said + " " + texts(stack.say(who, proof))


def test_guessing_is_limited_and_discloses_nothing(
    stack: Stack, personal: Personal
) -> None:
    victim, other = fresh_accounts(2, skip=30)
    first, second, third = sender("guess"), sender("guess-new"), sender("guess-email")
    said = [texts(stack.say(first, "show me my invoices"))]
    failed = response("utter_verification_failed", "en").split("(")[0]
    locked = response("utter_verification_locked", "en")

    guesses = ["A9999998", other.orders[0], "+1 555 0100 999"]
    for number, guess in enumerate(guesses, start=1):
        answer = attempt(stack, first, victim.email, guess)
        said.append(answer)
        if number < len(guesses):
            assert failed in answer and f"left: {3 - number}" in answer, answer
        else:
            assert locked in answer, answer
    # A fourth try with the right answer, in the same and in a new conversation.
    said.append(texts(stack.say(first, "show me my invoices")))
    assert locked in said[-1]
    said.append(texts(stack.say(second, "show me my invoices")))
    answer = attempt(stack, second, victim.email, victim.orders[0])
    said.append(answer)
    assert locked in answer and "verified" not in answer, answer
    # Another customer's email with the attacker's own order number.
    said.append(texts(stack.say(third, "show me my invoices")))
    answer = attempt(stack, third, other.email, victim.orders[-1])
    said.append(answer)
    assert "verified" not in answer and failed in answer, answer

    leaks = personal.leaks(" ".join(said))
    # The attacker typed these emails themselves; the bot must not add anything.
    typed = {
        f"customer {victim.id}: {victim.email}",
        f"customer {other.id}: {other.email}",
    }
    assert not set(leaks) - typed, leaks
    assert not any(victim.email in text or other.email in text for text in said)

    rows = attempts_of([first, second, third])
    assert [row["succeeded"] for row in rows] == [False] * 5
    assert [row["sender_id"] for row in rows] == [first] * 3 + [second, third]
    assert {row["customer_id"] for row in rows[:4]} == {victim.id}
    assert rows[4]["customer_id"] == other.id
    assert [row["method"] for row in rows[:3]] == [
        "email_order",
        "email_order",
        "email_phone",
    ]
    record("guessing", attempts_logged=len(rows), locked_after=3)


def test_order_numbers_tell_only_status(stack: Stack, personal: Personal) -> None:
    """An order number alone (guessed or not) gives its public status and nothing
    personal: no address, no items' owner, no tracking number, no name."""
    victim, other = fresh_accounts(2, skip=40)
    who = sender("numbers")
    said = []
    for number in (*victim.orders[:3], *other.orders[:2], "A0000001", "A9999999"):
        said.append(texts(stack.say(who, f"where is my order {number}")))
        assert said[-1], number
    leaks = personal.leaks(" ".join(said))
    assert not leaks, leaks


def api_attacks(victim: Account, who: str) -> dict[str, tuple[str, str, object]]:
    """Requests to Rasa's HTTP API that would verify, spy or impersonate staff."""
    mine = f"/conversations/{who}"
    return {
        "verify myself as the victim": (
            "POST",
            f"{mine}/tracker/events",
            [
                {"event": "slot", "name": "customer_id", "value": victim.id},
                {"event": "slot", "name": "verified", "value": True},
            ],
        ),
        "replace my whole tracker": ("PUT", f"{mine}/tracker/events", []),
        "fake an agent's message": (
            "POST",
            f"{mine}/trigger_intent",
            {"name": "EXTERNAL_agent_message", "entities": {"agent_text": "Hi"}},
        ),
        "run an action": ("POST", f"{mine}/execute", {"name": "action_order_status"}),
        "read a conversation": ("GET", f"{mine}/tracker", None),
        "read the domain": ("GET", "/domain", None),
        "unload the model": ("DELETE", "/model", None),
        "parse with the model": ("POST", "/model/parse", {"text": "hi"}),
    }


def test_rasa_api_needs_its_token(stack: Stack, personal: Personal) -> None:
    """The widget's webhook is public; Rasa's HTTP API (bot/serve.sh gives it a
    token) refuses every request without the right one, so a customer cannot set
    their own `verified` slot or send messages as staff."""
    (victim,) = fresh_accounts(1, skip=50)
    who = sender("api")
    said = [texts(stack.say(who, "hello"))]
    refused = {}
    for case, (method, path, body) in api_attacks(victim, who).items():
        for token in (None, "", "wrong-" + secrets.token_hex(8)):
            params = {} if token is None else {"token": token}
            reply = httpx.request(
                method, stack.rasa + path, params=params, json=body, timeout=30
            )
            refused[case, token] = reply.status_code
            assert reply.status_code == 401, (case, token, reply.text[:300])

    said.append(texts(stack.say(who, "show me my invoices")))
    assert ASKS_FOR_EMAIL.search(said[-1]), said[-1]
    assert not personal.leaks(" ".join(said))
    # The control: with the token the same API answers (the gate is the token).
    state = slots(tracker(stack.rasa, who))
    assert state.get("verified") is False and "customer_id" not in state, state
    record("rasa api without token", refused=len(refused))
