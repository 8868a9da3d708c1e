"""Masking of contact details."""

from __future__ import annotations

import pytest

from crm.masking import mask_email, mask_phone, mask_text


def test_mask_email_and_phone() -> None:
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email(None) == "" and mask_email("nonsense") == "***"
    assert mask_phone("+1 415 555 0134") == "+* *** *** **34"
    assert mask_phone("13800001234") == "*********34"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me: a.b@c.co.uk thanks", "mail me: a***@c.co.uk thanks"),
        ("call 415-555-0134 now", "call ***-***-**34 now"),
        ("我的手机是13800001234", "我的手机是*********34"),
        (
            "order A1234567 on 2026-11-30 for 1234.50",
            "order A1234567 on 2026-11-30 for 1234.50",
        ),
        ("邮箱是jane@example.com", "邮箱是j***@example.com"),
        ("", ""),
    ],
)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected
