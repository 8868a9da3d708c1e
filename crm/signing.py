"""Signing a customer id for the chat widget, and checking such a signature.

A website where the customer is logged in signs their CRM id so the bot can trust
it without asking for an email and order number. The formula::

    signature = hex(HMAC-SHA256(key=SIGNING_SECRET, msg=f"{customer_id}:{timestamp}"))

`timestamp` is Unix seconds (an integer) when the page was rendered; a signature is
valid for `SIGNATURE_MAX_AGE` seconds after it (and 60 s before it, for clock skew).
The web app signs (the demo page), the action server checks; with no secret set
nothing is signed and no signature is valid.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from crm.settings import get_settings

CLOCK_SKEW = 60
"""Seconds a timestamp may lie in the future (the website's clock runs ahead)."""


class NoSigningSecret(RuntimeError):
    """SIGNING_SECRET is empty: `make secrets` (or `crm secrets`) makes one."""


@dataclass(frozen=True)
class SignedCustomer:
    """What the embed snippet carries (data-customer-id, -timestamp, -signature)."""

    customer_id: str
    timestamp: int
    signature: str


def signature_for(customer_id: str | int, timestamp: int, *, secret: str) -> str:
    """The hex HMAC-SHA256 of f"{customer_id}:{timestamp}" under `secret`."""
    message = f"{customer_id}:{int(timestamp)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_customer(
    customer_id: str | int, *, timestamp: int | None = None, secret: str | None = None
) -> SignedCustomer:
    """Sign `customer_id` now (or at `timestamp`) with the configured secret."""
    key = get_settings().signing_secret if secret is None else secret
    if not key:
        raise NoSigningSecret("no SIGNING_SECRET is set; run `make secrets`")
    when = int(time.time()) if timestamp is None else int(timestamp)
    return SignedCustomer(
        str(customer_id), when, signature_for(customer_id, when, secret=key)
    )


def signature_valid(
    customer_id: Any,
    timestamp: Any,
    signature: Any,
    *,
    secret: str | None = None,
    max_age: int | None = None,
    now: float | None = None,
) -> bool:
    """True if `signature` signs `customer_id` at `timestamp` and is still fresh."""
    settings = get_settings()
    key = settings.signing_secret if secret is None else secret
    age_limit = settings.signature_max_age if max_age is None else max_age
    try:
        when = int(timestamp)
        int(customer_id)
    except (TypeError, ValueError):
        return False
    if not key or not isinstance(signature, str):
        return False
    current = time.time() if now is None else now
    if when > current + CLOCK_SKEW or current - when > age_limit:
        return False
    expected = signature_for(customer_id, when, secret=key)
    return hmac.compare_digest(expected, signature.strip().lower())
