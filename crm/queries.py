"""Customer-service queries the bot's actions run against the CRM.

Every function takes a keyword-only `session` and never commits: the caller owns the
transaction. Reads return small frozen records rather than ORM rows, so an action can
use them after its session has closed. Functions that act for a customer take that
customer's id and refuse rows that belong to anyone else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from crm.models import (
    NOT_SHIPPED,
    Conversation,
    Customer,
    Feedback,
    Invoice,
    Order,
    OrderItem,
    Payment,
    Plan,
    Refund,
    RetentionOffer,
    Shipment,
    Subscription,
    Ticket,
    VerificationAttempt,
)

logger = logging.getLogger(__name__)

HIGH_CHURN_SCORE = 0.5
"""Customers at or above this churn score get a retention offer before cancelling."""
HIGH_VALUE_SPEND = Decimal("1000")
"""Spend over the last year (orders plus a year of subscription) of a high-value
customer; the segment "vip" counts as high value too."""
HIGH_VALUE_SEGMENTS = frozenset({"vip", "high_value"})
VERIFICATION_WINDOW = timedelta(hours=1)
MAX_VERIFICATION_FAILURES = 3
REFUNDABLE = ("shipped", "in_transit", "out_for_delivery", "delivered", "returned")


class CrmRefusal(Exception):
    """A request the CRM refuses for a reason the customer should hear."""

    reason = "refused"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)
        self.detail = detail


class NotFound(CrmRefusal):
    reason = "not_found"


class AlreadyShipped(CrmRefusal):
    reason = "already_shipped"


class NotRefundable(CrmRefusal):
    reason = "not_refundable"


class RefundExists(CrmRefusal):
    reason = "refund_exists"


class EmailTaken(CrmRefusal):
    reason = "email_taken"


def utcnow() -> datetime:
    """Naive UTC now, the way every timestamp in the CRM is stored."""
    return datetime.now(UTC).replace(tzinfo=None)


# --- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    email: str
    phone: str | None
    name_en: str
    name_zh: str | None
    language: str
    segment: str | None
    churn_score: float | None
    newsletter: bool


@dataclass(frozen=True)
class ShipmentInfo:
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime
    estimated_delivery: date | None
    delivered_at: datetime | None
    last_event: str | None
    last_event_at: datetime | None
    last_location: str | None


@dataclass(frozen=True)
class ItemInfo:
    name_en: str
    name_zh: str
    quantity: int


@dataclass(frozen=True)
class OrderInfo:
    number: str
    customer_id: int
    status: str
    placed_at: datetime
    total: Decimal
    currency: str
    shipping_address: str
    items: tuple[ItemInfo, ...]
    shipment: ShipmentInfo | None

    @property
    def shipped(self) -> bool:
        return self.status not in NOT_SHIPPED


@dataclass(frozen=True)
class RefundInfo:
    id: int
    order_number: str
    amount: Decimal
    currency: str
    status: str
    requested_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class PaymentInfo:
    invoice_number: str
    amount: Decimal
    method: str
    status: str
    failure_reason: str | None
    attempted_at: datetime


@dataclass(frozen=True)
class InvoiceInfo:
    number: str
    issued_on: date
    due_on: date
    amount: Decimal
    status: str
    last_payment: PaymentInfo | None


@dataclass(frozen=True)
class SubscriptionInfo:
    id: int
    plan_code: str
    plan_en: str
    plan_zh: str
    status: str
    monthly_price: Decimal
    started_on: date
    renews_on: date | None
    cancelled_on: date | None


@dataclass(frozen=True)
class PlanInfo:
    code: str
    name_en: str
    name_zh: str
    monthly_price: Decimal


# --- customers and verification -------------------------------------------------------


def _customer_info(row: Customer) -> CustomerInfo:
    return CustomerInfo(
        id=row.id,
        email=row.email,
        phone=row.phone,
        name_en=row.name_en,
        name_zh=row.name_zh,
        language=row.language,
        segment=row.segment,
        churn_score=row.churn_score,
        newsletter=row.newsletter,
    )


def _live_customer(session: Session, customer_id: int) -> Customer:
    row = session.get(Customer, customer_id)
    if row is None or row.erased_at is not None:
        raise NotFound(f"customer {customer_id}")
    return row


def get_customer(*, session: Session, customer_id: int) -> CustomerInfo | None:
    """The customer with this id, unless unknown or erased."""
    row = session.get(Customer, customer_id)
    if row is None or row.erased_at is not None:
        return None
    return _customer_info(row)


def customer_by_email(*, session: Session, email: str) -> CustomerInfo | None:
    """The (not erased) customer whose email this is, case-insensitively."""
    row = session.scalar(
        select(Customer).where(
            func.lower(Customer.email) == email.strip().lower(),
            Customer.erased_at.is_(None),
        )
    )
    return None if row is None else _customer_info(row)


def digits(phone: str) -> str:
    """The digits of a phone number, for comparing numbers written differently."""
    return "".join(ch for ch in phone if ch.isdigit())


def phone_matches(stored: str | None, given: str) -> bool:
    """True if two phone numbers agree on their last nine (or all) digits."""
    a, b = digits(stored or ""), digits(given)
    if len(a) < 7 or len(b) < 7:
        return False
    tail = min(len(a), len(b), 9)
    return a[-tail:] == b[-tail:]


def check_identity(
    *,
    session: Session,
    email: str,
    order_number: str | None = None,
    phone: str | None = None,
) -> int | None:
    """The customer id if `email` and an order number (or phone) on it match."""
    customer = customer_by_email(session=session, email=email)
    if customer is None:
        return None
    if order_number:
        owner = session.scalar(
            select(Order.customer_id).where(
                func.upper(Order.number) == order_number.strip().upper()
            )
        )
        return customer.id if owner == customer.id else None
    if phone and phone_matches(customer.phone, phone):
        return customer.id
    return None


def record_verification_attempt(
    *,
    session: Session,
    sender_id: str,
    method: str,
    succeeded: bool,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Log one verification attempt (for the limit and the audit trail)."""
    session.add(
        VerificationAttempt(
            sender_id=sender_id[:128],
            customer_id=customer_id,
            method=method,
            succeeded=succeeded,
            at=now or utcnow(),
        )
    )
    session.flush()


def recent_verification_failures(
    *,
    session: Session,
    sender_id: str,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Failed attempts in the last hour from this sender or against this customer.

    Counting per customer as well as per conversation stops an attacker from simply
    opening a new conversation after three wrong guesses.
    """
    since = (now or utcnow()) - VERIFICATION_WINDOW
    who = VerificationAttempt.sender_id == sender_id[:128]
    if customer_id is not None:
        who = or_(who, VerificationAttempt.customer_id == customer_id)
    return (
        session.scalar(
            select(func.count())
            .select_from(VerificationAttempt)
            .where(who, VerificationAttempt.succeeded.is_(False))
            .where(VerificationAttempt.at >= since)
        )
        or 0
    )


def update_contact(
    *,
    session: Session,
    customer_id: int,
    email: str | None = None,
    phone: str | None = None,
) -> CustomerInfo:
    """Change the customer's email and/or phone; an email in use elsewhere refuses."""
    row = _live_customer(session, customer_id)
    if email:
        taken = customer_by_email(session=session, email=email)
        if taken is not None and taken.id != customer_id:
            raise EmailTaken(email)
        row.email = email.strip()
    if phone:
        row.phone = phone.strip()[:32]
    session.flush()
    return _customer_info(row)


def set_newsletter(*, session: Session, customer_id: int, subscribed: bool) -> bool:
    """Switch the newsletter on or off; returns whether it was already so."""
    row = _live_customer(session, customer_id)
    unchanged = row.newsletter == subscribed
    row.newsletter = subscribed
    session.flush()
    return unchanged


def customer_spend(
    *, session: Session, customer_id: int, now: datetime | None = None
) -> Decimal:
    """Last year's order spend plus twelve months of active subscriptions."""
    since = (now or utcnow()) - timedelta(days=365)
    orders = session.scalar(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.customer_id == customer_id,
            Order.placed_at >= since,
            Order.status != "cancelled",
        )
    )
    monthly = session.scalar(
        select(func.coalesce(func.sum(Subscription.monthly_price), 0)).where(
            Subscription.customer_id == customer_id, Subscription.status == "active"
        )
    )
    return Decimal(orders or 0) + Decimal(monthly or 0) * 12


def is_high_value(
    *, session: Session, customer_id: int, now: datetime | None = None
) -> bool:
    """A customer whose loss would hurt: a "vip" segment or a big spender."""
    customer = get_customer(session=session, customer_id=customer_id)
    if customer is None:
        return False
    if (customer.segment or "").lower() in HIGH_VALUE_SEGMENTS:
        return True
    spend = customer_spend(session=session, customer_id=customer_id, now=now)
    return spend >= HIGH_VALUE_SPEND


# --- orders ---------------------------------------------------------------------------


def _order_query() -> Select[Any]:
    return select(Order).options(
        selectinload(Order.items).selectinload(OrderItem.product),
        selectinload(Order.shipments).selectinload(Shipment.events),
    )


def _order_info(row: Order) -> OrderInfo:
    shipment = max(row.shipments, key=lambda s: s.shipped_at, default=None)
    return OrderInfo(
        number=row.number,
        customer_id=row.customer_id,
        status=row.status,
        placed_at=row.placed_at,
        total=row.total,
        currency=row.currency,
        shipping_address=row.shipping_address,
        items=tuple(
            ItemInfo(item.product.name_en, item.product.name_zh, item.quantity)
            for item in row.items
        ),
        shipment=None if shipment is None else _shipment_info(shipment),
    )


def _shipment_info(row: Shipment) -> ShipmentInfo:
    last = row.events[-1] if row.events else None
    return ShipmentInfo(
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        status=row.status,
        shipped_at=row.shipped_at,
        estimated_delivery=row.estimated_delivery,
        delivered_at=row.delivered_at,
        last_event=None if last is None else last.status,
        last_event_at=None if last is None else last.at,
        last_location=None if last is None else last.location,
    )


def normalise_order_number(number: str) -> str:
    """ "a1000123 " → "A1000123"."""
    return number.strip().upper()


def find_order(*, session: Session, number: str) -> OrderInfo | None:
    """Any order by its number (callers decide how much of it to show)."""
    row = session.scalar(
        _order_query().where(Order.number == normalise_order_number(number))
    )
    return None if row is None else _order_info(row)


def customer_order(
    *, session: Session, customer_id: int, number: str
) -> OrderInfo | None:
    """The order with this number if it belongs to the customer, else None."""
    order = find_order(session=session, number=number)
    if order is None or order.customer_id != customer_id:
        return None
    return order


def recent_orders(
    *, session: Session, customer_id: int, limit: int = 5
) -> list[OrderInfo]:
    """The customer's latest orders, newest first."""
    rows = session.scalars(
        _order_query()
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return [_order_info(row) for row in rows]


def unshipped_orders(*, session: Session, customer_id: int) -> list[OrderInfo]:
    """The customer's orders that can still be cancelled or re-addressed."""
    rows = session.scalars(
        _order_query()
        .where(Order.customer_id == customer_id, Order.status.in_(NOT_SHIPPED))
        .order_by(Order.placed_at.desc(), Order.id.desc())
    )
    return [_order_info(row) for row in rows]


def _own_order_row(session: Session, customer_id: int, number: str) -> Order:
    row = session.scalar(
        select(Order).where(Order.number == normalise_order_number(number))
    )
    if row is None or row.customer_id != customer_id:
        raise NotFound(number)
    return row


def cancel_order(*, session: Session, customer_id: int, number: str) -> OrderInfo:
    """Cancel the customer's order if it has not shipped yet."""
    row = _own_order_row(session, customer_id, number)
    if row.status not in NOT_SHIPPED:
        raise AlreadyShipped(row.status)
    row.status = "cancelled"
    session.flush()
    return _order_info(row)


def change_shipping_address(
    *, session: Session, customer_id: int, number: str, address: str
) -> OrderInfo:
    """Send the customer's not-yet-shipped order to a new address."""
    row = _own_order_row(session, customer_id, number)
    if row.status not in NOT_SHIPPED:
        raise AlreadyShipped(row.status)
    row.shipping_address = " ".join(address.split())[:300]
    session.flush()
    return _order_info(row)


# --- refunds, invoices, payments ------------------------------------------------------


def _refund_info(row: Refund, order: Order) -> RefundInfo:
    return RefundInfo(
        id=row.id,
        order_number=order.number,
        amount=row.amount,
        currency=order.currency,
        status=row.status,
        requested_at=row.requested_at,
        completed_at=row.completed_at,
    )


def refundable_amount(*, session: Session, customer_id: int, number: str) -> Decimal:
    """What a refund of this order would pay back; refuses what can't be refunded."""
    row = _own_order_row(session, customer_id, number)
    if row.status not in REFUNDABLE:
        raise NotRefundable(row.status)
    open_refund = session.scalar(
        select(Refund.status).where(
            Refund.order_id == row.id, Refund.status != "rejected"
        )
    )
    if open_refund is not None:
        raise RefundExists(open_refund)
    return row.total


def request_refund(
    *,
    session: Session,
    customer_id: int,
    number: str,
    reason: str | None = None,
    conversation_id: int | None = None,
    now: datetime | None = None,
) -> tuple[RefundInfo, int]:
    """Open a refund ('requested') and a 'refund' ticket; returns both."""
    amount = refundable_amount(session=session, customer_id=customer_id, number=number)
    row = _own_order_row(session, customer_id, number)
    when = now or utcnow()
    refund = Refund(
        order_id=row.id,
        amount=amount,
        status="requested",
        reason=(reason or "")[:200] or None,
        requested_at=when,
    )
    session.add(refund)
    session.flush()
    ticket = create_ticket(
        session=session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        category="refund",
        subject=f"Refund request for order {row.number}",
        transcript=reason,
        now=when,
    )
    return _refund_info(refund, row), ticket


def refunds_for(
    *, session: Session, customer_id: int, limit: int = 5
) -> list[RefundInfo]:
    """The customer's latest refunds, newest first."""
    rows = session.execute(
        select(Refund, Order)
        .join(Order, Refund.order_id == Order.id)
        .where(Order.customer_id == customer_id)
        .order_by(Refund.requested_at.desc(), Refund.id.desc())
        .limit(limit)
    ).all()
    return [_refund_info(refund, order) for refund, order in rows]


def _payment_info(row: Payment, invoice_number: str) -> PaymentInfo:
    return PaymentInfo(
        invoice_number=invoice_number,
        amount=row.amount,
        method=row.method,
        status=row.status,
        failure_reason=row.failure_reason,
        attempted_at=row.attempted_at,
    )


def invoices_for(
    *,
    session: Session,
    customer_id: int,
    order_number: str | None = None,
    limit: int = 5,
) -> list[InvoiceInfo]:
    """The customer's latest invoices (only those of their order `order_number`, if
    given) with their latest payment attempt."""
    query = (
        select(Invoice)
        .options(selectinload(Invoice.payments))
        .where(Invoice.customer_id == customer_id)
        .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
        .limit(limit)
    )
    if order_number is not None:
        query = query.join(Order, Order.id == Invoice.order_id).where(
            Order.number == normalise_order_number(order_number)
        )
    rows = session.scalars(query)
    result = []
    for row in rows:
        last = max(row.payments, key=lambda p: (p.attempted_at, p.id), default=None)
        result.append(
            InvoiceInfo(
                number=row.number,
                issued_on=row.issued_on,
                due_on=row.due_on,
                amount=row.amount,
                status=row.status,
                last_payment=None if last is None else _payment_info(last, row.number),
            )
        )
    return result


def recent_payments(
    *, session: Session, customer_id: int, limit: int = 5
) -> list[PaymentInfo]:
    """The customer's latest payment attempts (failed ones included), newest first."""
    rows = session.execute(
        select(Payment, Invoice.number)
        .join(Invoice, Payment.invoice_id == Invoice.id)
        .where(Invoice.customer_id == customer_id)
        .order_by(Payment.attempted_at.desc(), Payment.id.desc())
        .limit(limit)
    ).all()
    return [_payment_info(payment, number) for payment, number in rows]


# --- subscriptions and retention ------------------------------------------------------


def _subscription_info(row: Subscription) -> SubscriptionInfo:
    return SubscriptionInfo(
        id=row.id,
        plan_code=row.plan.code,
        plan_en=row.plan.name_en,
        plan_zh=row.plan.name_zh,
        status=row.status,
        monthly_price=row.monthly_price,
        started_on=row.started_on,
        renews_on=row.renews_on,
        cancelled_on=row.cancelled_on,
    )


def current_subscription(
    *, session: Session, customer_id: int
) -> SubscriptionInfo | None:
    """The customer's active (or paused) subscription, the newest if several."""
    row = session.scalar(
        select(Subscription)
        .options(selectinload(Subscription.plan))
        .where(
            Subscription.customer_id == customer_id,
            Subscription.status.in_(("active", "paused")),
        )
        .order_by(Subscription.started_on.desc(), Subscription.id.desc())
    )
    return None if row is None else _subscription_info(row)


def plans(*, session: Session) -> list[PlanInfo]:
    """Every plan, cheapest first."""
    rows = session.scalars(select(Plan).order_by(Plan.monthly_price, Plan.code))
    return [PlanInfo(r.code, r.name_en, r.name_zh, r.monthly_price) for r in rows]


def retention_offer_due(
    *, session: Session, customer_id: int, now: datetime | None = None
) -> bool:
    """Offer before cancelling: a high churn score or a high-value customer."""
    customer = get_customer(session=session, customer_id=customer_id)
    if customer is None:
        return False
    if (customer.churn_score or 0.0) >= HIGH_CHURN_SCORE:
        return True
    return is_high_value(session=session, customer_id=customer_id, now=now)


def record_retention_offer(
    *,
    session: Session,
    customer_id: int,
    subscription_id: int,
    offer: str,
    now: datetime | None = None,
) -> int:
    """Log an offer made (outcome unknown yet); returns its id."""
    own = session.get(Subscription, subscription_id)
    if own is None or own.customer_id != customer_id:
        raise NotFound(f"subscription {subscription_id}")
    customer = _live_customer(session, customer_id)
    row = RetentionOffer(
        customer_id=customer_id,
        subscription_id=subscription_id,
        offer=offer[:40],
        churn_score=customer.churn_score,
        accepted=None,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row.id


def set_retention_outcome(
    *, session: Session, customer_id: int, offer_id: int, accepted: bool
) -> None:
    """Record whether the customer took the offer."""
    row = session.get(RetentionOffer, offer_id)
    if row is None or row.customer_id != customer_id:
        raise NotFound(f"retention offer {offer_id}")
    row.accepted = accepted
    session.flush()


def cancel_subscription(
    *,
    session: Session,
    customer_id: int,
    subscription_id: int,
    today: date | None = None,
) -> SubscriptionInfo:
    """End the subscription now; the customer churns if nothing else is active."""
    row = session.scalar(
        select(Subscription)
        .options(selectinload(Subscription.plan))
        .where(Subscription.id == subscription_id)
    )
    if row is None or row.customer_id != customer_id or row.status == "cancelled":
        raise NotFound(f"subscription {subscription_id}")
    day = today or utcnow().date()
    row.status = "cancelled"
    row.cancelled_on = day
    row.renews_on = None
    session.flush()
    still_active = session.scalar(
        select(func.count())
        .select_from(Subscription)
        .where(
            Subscription.customer_id == customer_id,
            Subscription.status.in_(("active", "paused")),
        )
    )
    if not still_active:
        _live_customer(session, customer_id).churned_on = day
    session.flush()
    return _subscription_info(row)


# --- tickets, conversations, feedback -------------------------------------------------


def create_ticket(
    *,
    session: Session,
    category: str,
    subject: str,
    customer_id: int | None = None,
    conversation_id: int | None = None,
    priority: str = "normal",
    transcript: str | None = None,
    now: datetime | None = None,
) -> int:
    """Open a chat ticket; returns its id."""
    row = Ticket(
        customer_id=customer_id,
        conversation_id=conversation_id,
        category=category[:40],
        subject=subject[:200],
        status="open",
        priority=priority,
        channel="chat",
        transcript=transcript,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row.id


def open_ticket_about(
    *, session: Session, customer_id: int, category: str, subject: str
) -> int | None:
    """The id of this customer's open or pending ticket on `subject`, if any."""
    return session.scalar(
        select(Ticket.id)
        .where(
            Ticket.customer_id == customer_id,
            Ticket.category == category,
            Ticket.subject == subject[:200],
            Ticket.status.in_(("open", "pending")),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )


def get_or_create_conversation(
    *,
    session: Session,
    sender_id: str,
    customer_id: int | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> Conversation:
    """The conversations row of a Rasa sender id, created on first sight.

    Fills in the customer and language when they become known. Safe against a
    concurrent insert of the same sender (the action server and the ingest step).
    """
    when = now or utcnow()
    statement = select(Conversation).where(Conversation.sender_id == sender_id)
    row = session.scalar(statement)
    if row is None:
        try:
            with session.begin_nested():
                row = Conversation(
                    sender_id=sender_id, started_at=when, last_message_at=when
                )
                session.add(row)
        except IntegrityError:
            row = session.scalars(statement).one()
    if customer_id is not None and row.customer_id is None:
        row.customer_id = customer_id
    if language in ("en", "zh"):
        row.language = language
    session.flush()
    return row


def request_handoff(
    *,
    session: Session,
    sender_id: str,
    subject: str,
    transcript: str,
    priority: str,
    customer_id: int | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> int:
    """Flag the conversation for staff and open a 'handoff' ticket; returns its id."""
    conversation = get_or_create_conversation(
        session=session,
        sender_id=sender_id,
        customer_id=customer_id,
        language=language,
        now=now,
    )
    conversation.handoff = "requested"
    conversation.needs_attention = True
    conversation.outcome = "escalated"
    session.flush()
    return create_ticket(
        session=session,
        category="handoff",
        subject=subject,
        customer_id=customer_id,
        conversation_id=conversation.id,
        priority=priority,
        transcript=transcript,
        now=now,
    )


def release_handoff(*, session: Session, sender_id: str) -> None:
    """Staff handed the conversation back to the bot."""
    conversation = get_or_create_conversation(session=session, sender_id=sender_id)
    conversation.handoff = "released"
    conversation.needs_attention = False
    session.flush()


def handoff_priority(sentiment: str | None, high_value: bool) -> str:
    """'urgent' for an upset high-value customer, 'high' for either, else 'normal'."""
    upset = sentiment == "negative"
    if upset and high_value:
        return "urgent"
    if upset or high_value:
        return "high"
    return "normal"


def save_feedback(
    *,
    session: Session,
    sender_id: str,
    rating: int | None,
    text: str | None,
    intent: str | None,
    sentiment: str | None,
    sentiment_score: float | None,
    confidence: float | None,
    language: str | None,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Store one feedback row, linked to its conversation; returns its id."""
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError(f"rating must be 1-5, not {rating}")
    conversation = get_or_create_conversation(
        session=session,
        sender_id=sender_id,
        customer_id=customer_id,
        language=language,
        now=now,
    )
    row = Feedback(
        customer_id=customer_id,
        conversation_id=conversation.id,
        rating=rating,
        text=text or None,
        intent=intent,
        sentiment=sentiment,
        sentiment_score=sentiment_score,
        confidence=confidence,
        language=language,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row.id
