"""The widget's signature: the formula websites implement, expiry, and no secret."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from crm.signing import NoSigningSecret, sign_customer, signature_for, signature_valid

NOW = 1_790_000_000


def test_the_formula_is_hmac_sha256_hex() -> None:
    expected = hmac.new(b"s3cret", b"42:1764500000", hashlib.sha256).hexdigest()
    assert signature_for(42, 1764500000, secret="s3cret") == expected


def test_signatures_expire_and_do_not_transfer() -> None:
    good = sign_customer(7, timestamp=NOW, secret="s").signature
    ok = {"secret": "s", "max_age": 3600}
    assert signature_valid(7, NOW, good, now=NOW + 10, **ok)
    assert signature_valid("7", str(NOW), f" {good.upper()}", now=NOW, **ok)
    assert not signature_valid(8, NOW, good, now=NOW, **ok)
    assert not signature_valid(7, NOW + 1, good, now=NOW + 10, **ok)
    assert not signature_valid(7, NOW, good, now=NOW, secret="t", max_age=3600)
    assert not signature_valid(7, NOW, good, now=NOW + 3601, **ok)
    assert not signature_valid(7, NOW + 120, good, now=NOW, **ok)  # from the future
    assert not signature_valid(7, "soon", good, now=NOW, **ok)
    assert not signature_valid("7 OR 1=1", NOW, good, now=NOW, **ok)
    assert not signature_valid(7, NOW, None, now=NOW, **ok)


def test_without_a_secret_nothing_is_signed_or_valid() -> None:
    with pytest.raises(NoSigningSecret, match="make secrets"):
        sign_customer(7, secret="")
    made_with_nothing = signature_for(7, NOW, secret="")
    assert not signature_valid(7, NOW, made_with_nothing, secret="", now=NOW)
    assert signature_valid(
        7, NOW, signature_for(7, NOW, secret="s"), secret="s", now=NOW
    )
