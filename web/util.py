"""Small helpers shared by the views: the clock and id parsing."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException

MAX_ID = 2**31 - 1
"""Primary keys are 32-bit integers on PostgreSQL; anything larger cannot exist."""


def clean_text(value: str) -> str:
    """`value` without NUL and other control characters (PostgreSQL refuses NUL)."""
    return "".join(
        ch for ch in value if ch in "\t\n\r" or not (ord(ch) < 32 or ord(ch) == 127)
    )


def utcnow() -> datetime:
    """Naive UTC now, as every timestamp column of the CRM stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_id(raw: str | int) -> int:
    """A row id from a URL; anything that cannot be an id is a 404, not a 500."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        raise HTTPException(status_code=404, detail="not found")
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise HTTPException(status_code=404, detail="not found")
    return value
