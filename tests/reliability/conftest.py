"""Faults, hostile input and scale-out against the real running stack.

The stack (Rasa, actions and web on test ports, against the test CRM in
DATABASE_URL) is the one of tests/stack/conftest.py, shared by every folder that
uses it. Tests that stop or restart a part of it put it back before they end.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
import socketio
import yaml
from sqlalchemy import select

from crm.db import get_engine
from crm.models import Customer, Order, Shipment, VerificationAttempt
from crm.settings import ROOT
from tests.stack import conftest as stack_conftest
from tests.stack.conftest import LOGS, RASA_TOKEN, Stack
from web.util import utcnow

Replies = list[dict[str, Any]]
T = TypeVar("T")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_ZH_STREET = re.compile(r"[区县]([\u4e00-\u9fff]{1,6}[路街道]\d+号)")
TRACEBACK = "Traceback (most recent call last)"


def sender(tag: str) -> str:
    """A conversation id of its own, so reruns against the same CRM never collide."""
    return f"rel-{tag}-{secrets.token_hex(4)}"


def texts(replies: Replies) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


def chinese(text: str) -> bool:
    return bool(_HAN.search(text))


def timed_say(
    stack: Stack, who: str, text: str, **extra: object
) -> tuple[Replies, float]:
    """The replies to one REST message and the seconds they took."""
    started = time.monotonic()
    replies = stack.say(who, text, **extra)
    return replies, time.monotonic() - started


# --- what the bot says, from the domain -----------------------------------------------


def response(name: str, language: str) -> str:
    """The text of a response in `language` ('en' or 'zh') as bot/domain.yml has it."""
    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    for variation in domain["responses"][name]:
        if language == "zh" and variation.get("condition"):
            return str(variation["text"])
        if language == "en" and not variation.get("condition"):
            return str(variation["text"])
    raise KeyError(f"{name} has no {language} variation")


# --- Rasa's tracker through its HTTP API ----------------------------------------------


def tracker(base_url: str, who: str) -> dict[str, Any]:
    reply = httpx.get(
        f"{base_url}/conversations/{quote(who, safe='')}/tracker",
        params={"include_events": "ALL", "token": RASA_TOKEN},
        timeout=30,
    )
    reply.raise_for_status()
    return reply.json()


def user_texts(state: dict[str, Any]) -> list[str]:
    """The text of every user event of a tracker, in order."""
    return [e.get("text") or "" for e in state["events"] if e["event"] == "user"]


def slots(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state["slots"].items() if v is not None}


# --- logs -----------------------------------------------------------------------------


@dataclass
class LogWindow:
    """What a stack component wrote to its log after the window was opened."""

    path: Path
    start: int = 0

    @classmethod
    def open(cls, name: str) -> LogWindow:
        path = LOGS / f"{name}.log"
        return cls(path, path.stat().st_size if path.exists() else 0)

    def text(self) -> str:
        if not self.path.exists():
            return ""
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", errors="replace")

    def tracebacks(self) -> list[str]:
        """Each traceback in the window with the log line before it."""
        lines = self.text().splitlines()
        return [
            "\n".join(lines[max(0, i - 1) : i + 12])
            for i, line in enumerate(lines)
            if TRACEBACK in line
        ]


# --- the test CRM ---------------------------------------------------------------------


def in_transit_order() -> str:
    """The number of an order in transit (its status is public by number)."""
    with get_engine().connect() as connection:
        number = connection.scalar(
            select(Order.number)
            .where(Order.status == "in_transit")
            .order_by(Order.id.desc())
        )
    assert number, "the test CRM has no order in transit"
    return number


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    phone: str | None
    names: tuple[str, ...]
    orders: tuple[str, ...]


def fresh_accounts(count: int, *, skip: int = 0) -> list[Account]:
    """Customers with orders and no failed verification in the last hour.

    Taken from the end of the table (other stack tests use the first customers), so
    earlier runs' deliberate failures never lock a test out.
    """
    since = utcnow() - timedelta(hours=1)
    failed = (
        select(VerificationAttempt.customer_id)
        .where(
            VerificationAttempt.succeeded.is_(False), VerificationAttempt.at >= since
        )
        .where(VerificationAttempt.customer_id.is_not(None))
    )
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(Customer)
            .where(Customer.erased_at.is_(None), Customer.id.not_in(failed))
            .where(Customer.id.in_(select(Order.customer_id)))
            .order_by(Customer.id.desc())
            .offset(skip)
            .limit(count)
        ).all()
        accounts = []
        for row in rows:
            orders = connection.scalars(
                select(Order.number)
                .where(Order.customer_id == row.id)
                .order_by(Order.id)
            ).all()
            names = tuple(n for n in (row.name_en, row.name_zh) if n)
            accounts.append(Account(row.id, row.email, row.phone, names, tuple(orders)))
    assert len(accounts) == count, "the test CRM has too few fresh customers"
    return accounts


@dataclass
class Personal:
    """Every customer's personal data in the test CRM, to find it in replies."""

    by_customer: dict[int, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Personal:
        found = cls()
        with get_engine().connect() as connection:
            people = connection.execute(
                select(
                    Customer.id,
                    Customer.email,
                    Customer.phone,
                    Customer.name_en,
                    Customer.name_zh,
                )
            )
            for person in people:
                found.add(person.id, *person[1:])
            addresses = connection.execute(
                select(Order.customer_id, Order.shipping_address)
            )
            for customer_id, address in addresses:
                street = address.split(",")[0]  # "1580 Main St"
                if not any(ch.isdigit() for ch in street):
                    street = ""
                chinese_street = _ZH_STREET.search(address)  # 长江路524号
                found.add(
                    customer_id,
                    address,
                    street,
                    chinese_street.group(1) if chinese_street else None,
                )
            parcels = connection.execute(
                select(Order.customer_id, Shipment.tracking_number).join(
                    Shipment, Shipment.order_id == Order.id
                )
            )
            for customer_id, tracking in parcels:
                found.add(customer_id, tracking)
        return found

    def add(self, customer_id: int, *values: str | None) -> None:
        items = self.by_customer.setdefault(customer_id, set())
        for value in values:
            if value and len(value.strip()) >= 2:
                items.add(value.strip().lower())

    def leaks(self, text: str, *, allowed: int | None = None) -> list[str]:
        """Personal values of any customer but `allowed` that appear in `text`."""
        lowered = text.lower()
        return sorted(
            f"customer {customer}: {value}"
            for customer, values in self.by_customer.items()
            if customer != allowed
            for value in values
            if value in lowered
        )


def attempts_of(sender_ids: list[str]) -> list[dict[str, Any]]:
    """The verification_attempts rows of these conversations, oldest first."""
    table = VerificationAttempt.__table__
    with get_engine().connect() as connection:
        rows = connection.execute(
            select(table).where(table.c.sender_id.in_(sender_ids)).order_by(table.c.id)
        ).all()
    return [dict(row._mapping) for row in rows]


# --- socket.io ------------------------------------------------------------------------


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end in a thread of its own: the browser tests leave
    Playwright's event loop running in this one, where asyncio.run() refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class SocketChat:
    """One widget-like socket.io session (python-socketio's AsyncClient)."""

    def __init__(self, url: str, session_id: str) -> None:
        self.url = url
        self.session_id = session_id
        self.client = socketio.AsyncClient(reconnection=False, request_timeout=60)
        self.replies: Replies = []
        self.confirmed = asyncio.Event()
        self.client.on("bot_uttered", self._bot_uttered)
        self.client.on("session_confirm", self._session_confirm)

    async def _bot_uttered(self, data: Any) -> None:
        self.replies.append(data if isinstance(data, dict) else {"text": str(data)})

    async def _session_confirm(self, _: Any) -> None:
        self.confirmed.set()

    async def __aenter__(self) -> SocketChat:
        await self.client.connect(self.url, transports=["websocket"], wait_timeout=30)
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self.confirmed.wait(), 30)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.disconnect()

    async def send(self, data: Any) -> Replies:
        """Emit `user_uttered` and wait for Rasa's acknowledgement; the replies."""
        before = len(self.replies)
        await self.client.call("user_uttered", data, timeout=60)
        await asyncio.sleep(0.1)  # replies are emitted before the ack; let them land
        return self.replies[before:]

    async def say(self, text: str, **metadata: object) -> Replies:
        return await self.send(
            {"message": text, "session_id": self.session_id, "metadata": metadata}
        )


stack = stack_conftest.stack
"""The running stack, shared with tests/stack (one per test session)."""


@pytest.fixture
def personal() -> Personal:
    return Personal.load()


# --- figures for docs/reliability.md --------------------------------------------------

FIGURES = ROOT / "var" / "test" / "reliability-figures.jsonl"


def record(test: str, **figures: object) -> None:
    """Append one test's measured figures (seconds, counts) to FIGURES."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    line = {"test": test, "at": utcnow().isoformat(timespec="seconds"), **figures}
    with FIGURES.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
