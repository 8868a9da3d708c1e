"""What every action shares: the customer's language, verified identity, CRM
sessions and tickets, localised labels, one way of saying "the CRM is down", and
the base classes of the actions and forms that use the CRM."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import sqlalchemy.exc
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from crm import queries
from crm.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

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


def crm_call(query: Callable[..., T], customer: int, **params: Any) -> T:
    """One CRM query about `customer`, in a transaction of its own."""
    with crm_session() as session:
        return query(session=session, customer_id=customer, **params)


def conversation_id(
    session: Session,
    tracker: Tracker,
    customer: int | None,
    language: str | None = None,
) -> int:
    """The CRM row of this conversation (created on first sight)."""
    conversation = queries.get_or_create_conversation(
        session=session,
        sender_id=tracker.sender_id,
        customer_id=customer,
        language=language,
    )
    return conversation.id


def open_ticket(
    session: Session,
    tracker: Tracker,
    customer: int | None,
    *,
    category: str,
    subject: str,
    transcript: str | None = None,
    language: str | None = None,
) -> int:
    """A ticket for staff on this conversation; returns its id."""
    return queries.create_ticket(
        session=session,
        customer_id=customer,
        conversation_id=conversation_id(session, tracker, customer, language),
        category=category,
        subject=subject,
        transcript=transcript,
    )


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


def request_message(tracker: Tracker, intent: str) -> dict[str, Any]:
    """The parse of the latest message with `intent`: the request itself, when
    verification came in between (its answers are proofs, not the request)."""
    for event in reversed(tracker.events):
        parse = event.get("parse_data") or {}
        if (
            event.get("event") == "user"
            and (parse.get("intent") or {}).get("name") == intent
        ):
            return parse
    return {}


def entity(message: dict[str, Any], name: str) -> str | None:
    """The first value of entity `name` in a message's parse."""
    for found in message.get("entities") or []:
        if found.get("entity") == name and found.get("value") is not None:
            return str(found["value"])
    return None


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


def today() -> date:
    """The actions' today (UTC); action tests set it to their fixed date."""
    return queries.utcnow().date()


def day(value: date | datetime | None, lang: str) -> str:
    """A date the way each language writes it: 'Nov 3, 2026' / '2026年11月3日'."""
    if value is None:
        return "—"
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value:%b} {value.day}, {value.year}"


def money(amount: Decimal, currency: str = "USD") -> str:
    return f"{amount:,.2f} {currency}"


def line(*fields: str) -> str:
    """One item of a list, or of a button: 'A1000123 · Nov 3, 2026 · shipped'."""
    return " · ".join(fields)


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


def log_unavailable(where: str, tracker: Tracker, error: BaseException) -> None:
    """Log a CRM that is down, with the action and the sender id."""
    logger.error(
        "CRM unavailable in %s for sender %s: %s",
        where,
        tracker.sender_id,
        first_line(error),
    )


class CrmAction(Action, ABC):
    """An action whose work (`act`) reads or writes the CRM.

    `act` runs in a worker thread so a slow query never blocks other conversations.
    If the database is down, whatever `act` already said is withdrawn, the error is
    logged with the sender id, and `when_unavailable` answers the customer (by
    default with `utter_crm_unavailable` in their language); the conversation goes on.
    """

    intent: ClassVar[str] = ""
    """The request this action answers once the customer is verified (see `handles`)."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abstractmethod
    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Do the work; runs in a thread, may use `crm_session()`."""

    def when_unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Answer when the CRM is down; returns the events (default: none)."""
        dispatcher.utter_message(response="utter_crm_unavailable")
        return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        said = len(dispatcher.messages)
        try:
            return await asyncio.to_thread(self.act, dispatcher, tracker, domain)
        except CRM_ERRORS as error:
            del dispatcher.messages[said:]
            log_unavailable(self.name(), tracker, error)
            return self.when_unavailable(dispatcher, tracker)


class CustomerAction(CrmAction):
    """An action on the verified customer's own data: nothing happens before
    verification (the rules run the verification form first)."""

    @abstractmethod
    def act_for(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, customer: int
    ) -> list[EventType]:
        """Do the work for `customer`; runs in a thread, may use `crm_session()`."""

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        customer = verified_customer(tracker)
        if customer is None:
            return []
        return self.act_for(dispatcher, tracker, customer)


REQUEST_HANDLERS: dict[str, type[CrmAction]] = {}
"""Actions that answer a personal request, by intent: run again after verification."""


def handles(intent: str) -> Callable[[type[CrmAction]], type[CrmAction]]:
    """Register an action as the answer to `intent` once the customer is verified."""

    def register(cls: type[CrmAction]) -> type[CrmAction]:
        cls.intent = intent
        REQUEST_HANDLERS[intent] = cls
        return cls

    return register


# --- forms that check their answers with the CRM --------------------------------------


class CrmFormValidation(FormValidationAction, ABC):
    """A form's validation that sets slots as the form starts, then checks the
    validated answers with the CRM."""

    @abstractmethod
    def name(self) -> str:
        """The validation action's name in the domain: `validate_<form>`."""

    @abstractmethod
    async def on_activation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Slots to set as the form starts (the validation already sees them)."""

    @abstractmethod
    async def check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        """Check the validated answers with the CRM, when there is enough to check."""

    def unavailable(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, error: BaseException
    ) -> None:
        """Log a CRM that is down and tell the customer politely."""
        log_unavailable(self.name(), tracker, error)
        dispatcher.utter_message(response="utter_crm_unavailable")

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if form_activating(tracker):
            events += await self.on_activation(dispatcher, tracker)
            tracker.slots.update({e["name"]: e["value"] for e in events})
        events += await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        return events + await self.check(dispatcher, tracker)
