"""The CRM summary shown beside a conversation: who the customer is to the business."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.masking import mask_email, mask_phone
from crm.models import Customer, Order, Subscription, Ticket

RECENT = 5


@dataclass
class CustomerSummary:
    customer: Customer
    email: str
    phone: str
    order_count: int
    recent_orders: list[Order]
    ticket_count: int
    open_tickets: int
    recent_tickets: list[Ticket]
    subscriptions: list[Subscription]


def customer_summary(
    *, session: Session, customer_id: int, reveal_contact: bool = False
) -> CustomerSummary | None:
    """Orders, tickets, churn score and segment of one customer (None if unknown).

    Email and phone are masked unless `reveal_contact` (the reader needs them)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    orders = list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.placed_at.desc())
            .limit(RECENT)
        )
    )
    order_count = session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
    )
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(Ticket.created_at.desc())
            .limit(RECENT)
        )
    )
    ticket_counts = session.execute(
        select(
            func.count(), func.count().filter(Ticket.status.in_(("open", "pending")))
        )
        .select_from(Ticket)
        .where(Ticket.customer_id == customer_id)
    ).one()
    subscriptions = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == customer_id)
            .order_by(Subscription.started_on.desc())
        )
    )
    return CustomerSummary(
        customer=customer,
        email=customer.email if reveal_contact else mask_email(customer.email),
        phone=(customer.phone or "") if reveal_contact else mask_phone(customer.phone),
        order_count=order_count or 0,
        recent_orders=orders,
        ticket_count=ticket_counts[0] or 0,
        open_tickets=ticket_counts[1] or 0,
        recent_tickets=tickets,
        subscriptions=subscriptions,
    )
