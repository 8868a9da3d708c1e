"""Erasure of one customer ("right to be forgotten") across the CRM, the conversation
log and Rasa's tracker store.

What happens to each kind of row:

- conversations of the customer (linked by `customer_id`, by a verification attempt,
  by a ticket or feedback, by a `customer_id` slot in Rasa's events, or anonymous ones
  in which their email or phone was typed): deleted with their messages, feedback,
  tickets, label corrections, verification attempts and Rasa events;
- retention offers and the customer's remaining tickets, feedback and verification
  attempts: deleted;
- the customer row: kept (orders, invoices and subscriptions point at it) but every
  personal field overwritten, derived profile fields (segment, churn score) cleared
  and `erased_at` set;
- orders, invoices, payments and subscriptions: kept for accounting, with the
  shipping address, tracking numbers, parcel locations and refund reasons wiped;
- other customers' conversations that mention the email or phone: only the mention
  is replaced by `[erased]` (names are not unique enough to redact elsewhere).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Text,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from crm.ingest import CURSOR, rasa_events
from crm.models import (
    Conversation,
    Customer,
    Feedback,
    IngestCursor,
    LabelCorrection,
    Message,
    Order,
    Refund,
    RetentionOffer,
    Shipment,
    ShipmentEvent,
    Ticket,
    VerificationAttempt,
)
from crm.queries import NotFound, digits, phone_matches, utcnow

logger = logging.getLogger(__name__)

ERASED_NAME = "Erased customer"
REDACTED = "[erased]"
CHUNK = 500
"""Ids per IN (...) list, well under every backend's parameter limit."""
PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,22}\d")


@dataclass(frozen=True)
class Identity:
    """What identifies the customer in free text, read before the row is wiped."""

    customer_id: int
    email: str
    phone: str | None

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the email and phone replaced."""
        pattern = re.compile(re.escape(self.email), re.IGNORECASE)
        text = pattern.sub(REDACTED, text)
        if not self.phone:
            return text
        return PHONE_LIKE.sub(
            lambda m: REDACTED if self.is_phone(m.group(0)) else m.group(0), text
        )

    def is_phone(self, found: str) -> bool:
        return len(digits(found)) >= 7 and phone_matches(self.phone, found)

    def mentioned_in(self, text: str | None) -> bool:
        return bool(text) and self.redact(text or "") != text

    def like_needles(self) -> list[str]:
        """Lower-case substrings a mentioning text must contain (SQL pre-filter)."""
        needles = [self.email.lower(), json.dumps(self.email.lower())[1:-1]]
        phone_digits = digits(self.phone or "")
        if len(phone_digits) >= 7:
            needles.append(phone_digits[-4:])
        return sorted(set(needles))


def erase_customer(
    session: Session, *, customer_id: int, now: datetime | None = None
) -> dict[str, int]:
    """Erase customer `customer_id` everywhere; return rows touched per table.

    Runs in the caller's transaction and does not commit. Running it again on an
    erased customer sweeps up anything that arrived since (counts are then small).
    """
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    _hold_ingest(session)
    identity = Identity(customer.id, customer.email, customer.phone)
    events = _has_events_table(session)
    senders = _senders_of(session, identity, events=events)
    counts = Counter(_delete_conversations(session, identity, senders, events=events))
    counts.update(_delete_customer_rows(session, identity.customer_id))
    counts.update(_wipe_orders(session, identity.customer_id))
    counts["redacted"] = _redact_mentions(session, identity, events=events)
    counts["customers"] = _wipe_customer(customer, now or utcnow())
    session.flush()
    logger.info("erased customer %s: %s", customer_id, dict(counts))
    return dict(counts)


def _hold_ingest(session: Session) -> None:
    """Lock ingest's cursor (PostgreSQL) so a concurrent pass cannot re-create what
    this transaction deletes; SQLite's write lock already serialises them."""
    session.execute(
        select(IngestCursor.name).where(IngestCursor.name == CURSOR).with_for_update()
    )


def _has_events_table(session: Session) -> bool:
    return inspect(session.connection()).has_table(rasa_events.name)


# --- whose conversations --------------------------------------------------------------


def _senders_of(session: Session, identity: Identity, *, events: bool) -> set[str]:
    """Every Rasa sender id whose conversation belongs to the customer."""
    cid = identity.customer_id
    linked = set(
        session.scalars(
            select(Conversation.sender_id).where(
                or_(
                    Conversation.customer_id == cid,
                    Conversation.id.in_(
                        select(Ticket.conversation_id).where(Ticket.customer_id == cid)
                    ),
                    Conversation.id.in_(
                        select(Feedback.conversation_id).where(
                            Feedback.customer_id == cid
                        )
                    ),
                )
            )
        )
    )
    linked |= set(
        session.scalars(
            select(VerificationAttempt.sender_id).where(
                VerificationAttempt.customer_id == cid
            )
        )
    )
    if events:
        linked |= _slot_senders(session, cid)
    mentioned = _mentioning_senders(session, identity, events=events) - linked
    return linked | {
        sender
        for sender in mentioned
        if not _owners(session, sender, events=events) - {cid}
    }


def _slot_senders(session: Session, customer_id: int) -> set[str]:
    """Senders whose Rasa events set the `customer_id` slot to this customer."""
    rows = session.execute(
        select(rasa_events.c.sender_id, rasa_events.c.data).where(
            rasa_events.c.type_name == "slot",
            rasa_events.c.data.contains('"customer_id"'),
            rasa_events.c.data.contains(str(customer_id)),
        )
    )
    return {s for s, data in rows if _slot_customer(data) == customer_id}


def _owners(session: Session, sender: str, *, events: bool) -> set[int]:
    """Every customer a conversation has been linked to (CRM row or Rasa slot)."""
    owner = session.scalar(
        select(Conversation.customer_id).where(Conversation.sender_id == sender)
    )
    owners = {owner} if owner is not None else set()
    if events:
        rows = session.scalars(
            select(rasa_events.c.data).where(
                rasa_events.c.sender_id == sender,
                rasa_events.c.type_name == "slot",
                rasa_events.c.data.contains('"customer_id"'),
            )
        )
        owners |= {c for c in map(_slot_customer, rows) if c is not None}
    return owners


def _slot_customer(data: str | None) -> int | None:
    event = _json(data)
    return _as_int(event.get("value")) if event.get("name") == "customer_id" else None


def _mentioning_senders(
    session: Session, identity: Identity, *, events: bool
) -> set[str]:
    """Senders whose messages (or Rasa user events) contain the email or phone."""
    senders: set[str] = set()
    rows = session.execute(
        select(Conversation.sender_id, Message.text)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(_any_needle(Message.text, identity))
    )
    senders |= {s for s, text in rows if identity.mentioned_in(text)}
    if events:
        rows = session.execute(
            select(rasa_events.c.sender_id, rasa_events.c.data).where(
                rasa_events.c.type_name == "user",
                _any_needle(rasa_events.c.data, identity),
            )
        )
        senders |= {
            s for s, data in rows if identity.mentioned_in(_json(data).get("text"))
        }
    return senders


# --- deleting -------------------------------------------------------------------------


def _delete_conversations(
    session: Session, identity: Identity, senders: set[str], *, events: bool
) -> dict[str, int]:
    """Delete the senders' conversations with everything hanging off them."""
    conversations = _ids(session, Conversation.id, Conversation.sender_id, senders)
    messages = _ids(session, Message.id, Message.conversation_id, conversations)
    feedback = _ids(session, Feedback.id, Feedback.conversation_id, conversations)
    feedback |= _ids(session, Feedback.id, Feedback.customer_id, {identity.customer_id})
    corrections = _delete_in(session, LabelCorrection.message_id, messages)
    corrections += _delete_in(session, LabelCorrection.feedback_id, feedback)
    return {
        "label_corrections": corrections,
        "feedback": _delete_in(session, Feedback.id, feedback),
        "tickets": _delete_in(session, Ticket.conversation_id, conversations),
        "messages": _delete_in(session, Message.id, messages),
        "conversations": _delete_in(session, Conversation.id, conversations),
        "verification_attempts": _delete_in(
            session, VerificationAttempt.sender_id, senders
        ),
        "events": _delete_in(session, rasa_events.c.sender_id, senders)
        if events
        else 0,
    }


def _ids(session: Session, id_column: Any, column: Any, values: set[Any]) -> set[Any]:
    """`id_column` of the rows whose `column` is one of `values`."""
    found: set[Any] = set()
    for chunk in _chunks(values):
        found |= set(session.scalars(select(id_column).where(column.in_(chunk))))
    return found


def _delete_customer_rows(session: Session, customer_id: int) -> dict[str, int]:
    """What is left that points at the customer and is not kept for accounting."""
    tickets = _rowcount(
        session.execute(delete(Ticket).where(Ticket.customer_id == customer_id))
    )
    attempts = _rowcount(
        session.execute(
            delete(VerificationAttempt).where(
                VerificationAttempt.customer_id == customer_id
            )
        )
    )
    offers = _rowcount(
        session.execute(
            delete(RetentionOffer).where(RetentionOffer.customer_id == customer_id)
        )
    )
    return {
        "tickets": tickets,
        "verification_attempts": attempts,
        "retention_offers": offers,
    }


def _delete_in(session: Session, column: Any, values: Iterable[Any]) -> int:
    total = 0
    for chunk in _chunks(values):
        statement = delete(column.class_ if _is_orm(column) else column.table)
        total += _rowcount(session.execute(statement.where(column.in_(chunk))))
    return total


def _is_orm(column: Any) -> bool:
    return isinstance(column, InstrumentedAttribute)


# --- wiping what is kept --------------------------------------------------------------


def _wipe_orders(session: Session, customer_id: int) -> dict[str, int]:
    orders = select(Order.id).where(Order.customer_id == customer_id)
    shipments = select(Shipment.id).where(Shipment.order_id.in_(orders))
    return {
        "orders": _rowcount(
            session.execute(
                update(Order)
                .where(Order.customer_id == customer_id)
                .values(shipping_address="")
            )
        ),
        "shipments": _rowcount(
            session.execute(
                update(Shipment)
                .where(Shipment.order_id.in_(orders))
                .values(tracking_number="")
            )
        ),
        "shipment_events": _rowcount(
            session.execute(
                update(ShipmentEvent)
                .where(ShipmentEvent.shipment_id.in_(shipments))
                .values(location=None)
            )
        ),
        "refunds": _rowcount(
            session.execute(
                update(Refund).where(Refund.order_id.in_(orders)).values(reason=None)
            )
        ),
    }


def _wipe_customer(customer: Customer, now: datetime) -> int:
    """Overwrite the customer's personal and profile fields; 1 if newly erased."""
    newly = customer.erased_at is None
    customer.email = f"erased-{customer.id}@erased.invalid"
    customer.phone = None
    customer.name_en = ERASED_NAME
    customer.name_zh = None
    customer.city = None
    customer.newsletter = False
    customer.segment = None
    customer.churn_score = None
    customer.churn_model_version = None
    customer.churn_scored_at = None
    customer.erased_at = customer.erased_at or now
    return int(newly)


REDACTABLE: tuple[tuple[Any, ...], ...] = (
    (Message, Message.text, Message.entities),
    (Feedback, Feedback.text),
    (Ticket, Ticket.subject, Ticket.transcript),
)
"""Free text (and JSON) columns of the conversation log that may mention someone."""


def _redact_mentions(session: Session, identity: Identity, *, events: bool) -> int:
    """Replace the email and phone where other people's rows mention them."""
    total = 0
    for model, *columns in REDACTABLE:
        matches = or_(*(_any_needle(_as_text(c), identity) for c in columns))
        for row in session.scalars(select(model).where(matches)):
            changed = False
            for column in columns:
                value = getattr(row, column.key)
                cleaned = _redact_json(value, identity)
                if cleaned != value:
                    setattr(row, column.key, cleaned)
                    changed = True
            total += changed
    if events:
        total += _redact_events(session, identity)
    return total


def _as_text(column: Any) -> Any:
    return cast(column, Text) if isinstance(column.type, JSON) else column


def _redact_events(session: Session, identity: Identity) -> int:
    table = rasa_events
    rows = session.execute(
        select(table.c.id, table.c.data).where(_any_needle(table.c.data, identity))
    ).all()
    total = 0
    for row_id, data in rows:
        event = _json(data)
        cleaned = _redact_json(event, identity)
        if cleaned != event:
            session.execute(
                update(table)
                .where(table.c.id == row_id)
                .values(data=json.dumps(cleaned))
            )
            total += 1
    return total


def _redact_json(value: Any, identity: Identity) -> Any:
    if isinstance(value, str):
        return identity.redact(value)
    if isinstance(value, list):
        return [_redact_json(item, identity) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(item, identity) for key, item in value.items()}
    return value


# --- helpers --------------------------------------------------------------------------


def _any_needle(column: Any, identity: Identity) -> ColumnElement[bool]:
    lowered = func.lower(column)
    return or_(
        *(
            lowered.contains(needle, autoescape=True)
            for needle in identity.like_needles()
        )
    )


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def _json(data: str | None) -> dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
