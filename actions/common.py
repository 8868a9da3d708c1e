"""What every action shares: the customer's language, verified identity, CRM
sessions, localised labels, and one way of saying "the CRM is down"."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy.exc
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from crm.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "zh")

CRM_ERRORS: tuple[type[Exception], ...] = (
    DatabaseError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.TimeoutError,
)
"""The failures of an unreachable or overloaded database: answered politely."""

SessionScope = Callable[[], AbstractContextManager[Session]]
_session_scope: SessionScope = transaction


def crm_session() -> AbstractContextManager[Session]:
    """A CRM session in one transaction (committed when the block succeeds)."""
    return _session_scope()


@contextmanager
def sessions_from(scope: SessionScope) -> Iterator[None]:
    """Run actions against another session scope (tests use their own database)."""
    global _session_scope
    previous, _session_scope = _session_scope, scope
    try:
        yield
    finally:
        _session_scope = previous


# --- reading the tracker --------------------------------------------------------------


def language(tracker: Tracker) -> str:
    """The customer's language ('en' or 'zh') from the `language` slot."""
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else "en"


def verified_customer(tracker: Tracker) -> int | None:
    """The verified customer's id, or None before verification."""
    if tracker.get_slot("verified") is not True:
        return None
    try:
        return int(tracker.get_slot("customer_id"))
    except (TypeError, ValueError):
        return None


def require_customer(tracker: Tracker) -> int:
    """The verified customer's id where the rules guarantee one (else a bug)."""
    customer = verified_customer(tracker)
    if customer is None:
        raise RuntimeError(f"no verified customer for sender {tracker.sender_id}")
    return customer


def latest_entity(tracker: Tracker, name: str) -> str | None:
    """The first value of entity `name` in the latest user message."""
    value = next(tracker.get_latest_entity_values(name), None)
    return None if value is None else str(value)


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_user_event(tracker: Tracker) -> dict[str, Any]:
    """The newest `user` event (it carries the message metadata)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


def form_activating(tracker: Tracker) -> bool:
    """True while a form validates the message that started it.

    Rasa applies the form's ActiveLoop event before calling its validation action
    at activation, so `active_loop` is already set; what tells activation apart is
    that event coming after the latest user message.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name"):
            return True
    return False


@dataclass(frozen=True)
class Sentiment:
    label: str
    score: float | None
    confidence: float | None


def sentiment(tracker: Tracker) -> Sentiment | None:
    """The sentiment our NLU component wrote onto the latest message, if any."""
    raw = tracker.latest_message.get("sentiment")
    if not isinstance(raw, dict) or raw.get("label") not in (
        "negative",
        "neutral",
        "positive",
    ):
        return None
    return Sentiment(
        raw["label"], _number(raw.get("score")), _number(raw.get("confidence"))
    )


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def resolved(intent: str) -> list[EventType]:
    """Events that mark a customer request as answered (feedback may follow)."""
    return [SlotSet("request_resolved", True), SlotSet("last_request", intent)]


# --- localised labels and formats -----------------------------------------------------

ORDER_STATUS = {
    "pending": ("pending", "待处理"),
    "processing": ("being prepared", "备货中"),
    "shipped": ("shipped", "已发货"),
    "in_transit": ("in transit", "运输中"),
    "out_for_delivery": ("out for delivery", "派送中"),
    "delivered": ("delivered", "已签收"),
    "cancelled": ("cancelled", "已取消"),
    "returned": ("returned", "已退货"),
}
REFUND_STATUS = {
    "requested": ("requested, under review", "已申请，审核中"),
    "approved": ("approved, payment on its way", "已批准，正在退款"),
    "paid": ("paid back", "已退款"),
    "rejected": ("rejected", "已拒绝"),
}
INVOICE_STATUS = {
    "open": ("open", "待支付"),
    "paid": ("paid", "已支付"),
    "failed": ("payment failed", "支付失败"),
    "void": ("void", "已作废"),
}
SUBSCRIPTION_STATUS = {
    "active": ("active", "生效中"),
    "paused": ("paused", "已暂停"),
    "cancelled": ("cancelled", "已取消"),
}
PAYMENT_METHOD = {
    "card": ("card", "银行卡"),
    "paypal": ("PayPal", "PayPal"),
    "alipay": ("Alipay", "支付宝"),
    "wechat_pay": ("WeChat Pay", "微信支付"),
}
YES_NO = {"yes": ("Yes", "是的"), "no": ("No", "不用了")}


def label(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """`key` in the customer's language (the raw key if the table lacks it)."""
    pair = table.get(key)
    if pair is None:
        return key.replace("_", " ")
    return pair[1] if lang == "zh" else pair[0]


def day(value: date | datetime | None, lang: str) -> str:
    """A date the way each language writes it: 'Nov 3, 2026' / '2026年11月3日'."""
    if value is None:
        return "—"
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value:%b} {value.day}, {value.year}"


def money(amount: Decimal, currency: str = "USD") -> str:
    return f"{amount:,.2f} {currency}"


def yes_no_buttons(lang: str) -> list[dict[str, str]]:
    """Yes/No buttons that send the affirm and deny intents."""
    return [
        {"title": label(YES_NO, "yes", lang), "payload": "/affirm"},
        {"title": label(YES_NO, "no", lang), "payload": "/deny"},
    ]


# --- actions that talk to the CRM -----------------------------------------------------


def first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class CrmAction(Action, ABC):
    """An action whose work (`act`) reads or writes the CRM.

    `act` runs in a worker thread so a slow query never blocks other conversations.
    If the database is down, whatever `act` already said is withdrawn, the error is
    logged with the sender id, and the customer hears `utter_crm_unavailable` in
    their language; the conversation goes on.
    """

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abstractmethod
    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Do the work; runs in a thread, may use `crm_session()`."""

    def when_unavailable(self, tracker: Tracker) -> list[EventType]:
        """Events to return when the CRM is down (default: none)."""
        return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        said = len(dispatcher.messages)
        try:
            return await asyncio.to_thread(self.act, dispatcher, tracker, domain)
        except CRM_ERRORS as error:
            del dispatcher.messages[said:]
            logger.error(
                "CRM unavailable in %s for sender %s: %s",
                self.name(),
                tracker.sender_id,
                first_line(error),
            )
            dispatcher.utter_message(response="utter_crm_unavailable")
            return self.when_unavailable(tracker)


REQUEST_HANDLERS: dict[str, type[CrmAction]] = {}
"""Actions that answer a personal request, by intent: run again after verification."""


def handles(intent: str) -> Callable[[type[CrmAction]], type[CrmAction]]:
    """Register an action as the answer to `intent` once the customer is verified."""

    def register(cls: type[CrmAction]) -> type[CrmAction]:
        REQUEST_HANDLERS[intent] = cls
        return cls

    return register
