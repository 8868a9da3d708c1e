"""Masking of email addresses and phone numbers where the reader does not need them."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{6,18}\d(?![\w])")
"""Seven or more digits, optionally with +, spaces, dots, dashes or brackets."""


def mask_email(email: str | None) -> str:
    """`jane.doe@example.com` -> `j***@example.com`."""
    if not email:
        return ""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str:
    """Every digit but the last two replaced: `+1 415 555 0134` -> `+* *** *** **34`."""
    if not phone:
        return ""
    digits = sum(ch.isdigit() for ch in phone)
    seen = 0
    out = []
    for ch in phone:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_text(text: str | None) -> str:
    """Free text with every email address and phone number in it masked."""
    if not text:
        return ""
    masked = EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return PHONE.sub(lambda m: _mask_phone_match(m.group(0)), masked)


DATE_OR_AMOUNT = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d+\.\d{1,2}")


def _mask_phone_match(found: str) -> str:
    digits = sum(ch.isdigit() for ch in found)
    if digits < 7 or digits > 15 or DATE_OR_AMOUNT.fullmatch(found):
        return found
    return mask_phone(found)
