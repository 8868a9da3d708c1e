"""Masking of personal data where the reader does not need it: the console's
transcripts and CRM summaries, the analytics report, exports."""

from __future__ import annotations

import re

EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+"
)
PHONE = re.compile(r"(?<![A-Za-z0-9_])\+?\d[\d\s().-]{6,18}\d(?![A-Za-z0-9_])")
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
    return PHONE.sub(
        lambda m: mask_phone(m.group(0)) if is_phone(m.group(0)) else m.group(0),
        masked,
    )


DATE_OR_AMOUNT = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d+\.\d{1,2}")


def is_phone(found: str) -> bool:
    """True if a PHONE match is a phone number, not a date or an amount."""
    digits = sum(ch.isdigit() for ch in found)
    return 7 <= digits <= 15 and not DATE_OR_AMOUNT.fullmatch(found)


def mask_name(name: str | None) -> str:
    """First character of each word, the rest starred: "Pat Lee" -> "P** L**"."""
    if not name:
        return ""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def mask_id(value: str) -> str:
    """An analyst's id with its middle hidden: "7590-VHVEG" -> "75******EG"."""
    text = str(value)
    if len(text) <= 4:
        return text[:1] + "*" * (len(text) - 1)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]
