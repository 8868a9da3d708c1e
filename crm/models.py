"""CRM tables as SQLAlchemy 2 typed models; Alembic owns the schema (crm/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Money = Numeric(12, 2)


class Base(DeclarativeBase):
    """Declarative base of every CRM table."""


# --- customers, catalog, subscriptions -------------------------------------------


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str | None] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2))  # "en" or "zh"
    city: Mapped[str | None] = mapped_column(String(80))
    signup_date: Mapped[date]
    newsletter: Mapped[bool] = mapped_column(default=False)
    segment: Mapped[str | None] = mapped_column(String(40))
    churn_score: Mapped[float | None]
    churn_model_version: Mapped[str | None] = mapped_column(String(40))
    churn_scored_at: Mapped[datetime | None]
    churned_on: Mapped[date | None]
    """The day the customer left (last subscription cancelled); the churn label."""
    erased_at: Mapped[datetime | None]

    orders: Mapped[list[Order]] = relationship(back_populates="customer")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="customer")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(60))
    brand: Mapped[str] = mapped_column(String(60))
    price: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(default=True)


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(60))
    name_zh: Mapped[str] = mapped_column(String(30))
    monthly_price: Mapped[Decimal] = mapped_column(Money)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (CheckConstraint("status IN ('active', 'paused', 'cancelled')"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(16))
    monthly_price: Mapped[Decimal] = mapped_column(Money)
    """The price this customer pays now (price changes show against the plan's)."""
    started_on: Mapped[date]
    renews_on: Mapped[date | None]
    cancelled_on: Mapped[date | None]

    customer: Mapped[Customer] = relationship(back_populates="subscriptions")
    plan: Mapped[Plan] = relationship()


# --- orders, shipping, refunds -----------------------------------------------------

ORDER_STATUSES = (
    "pending",
    "processing",
    "shipped",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "cancelled",
    "returned",
)
NOT_SHIPPED = ("pending", "processing")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in ORDER_STATUSES) + ")"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    """What the customer sees and types: "A" and seven digits, e.g. A1000123."""
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    shipping_address: Mapped[str] = mapped_column(String(300))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(back_populates="order")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order")
    refunds: Mapped[list[Refund]] = relationship(back_populates="order")


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    shipped_at: Mapped[datetime]
    estimated_delivery: Mapped[date | None]
    delivered_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="shipments")
    events: Mapped[list[ShipmentEvent]] = relationship(
        back_populates="shipment", order_by="ShipmentEvent.at"
    )


class ShipmentEvent(Base):
    """One line of a shipment's status history."""

    __tablename__ = "shipment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(80))

    shipment: Mapped[Shipment] = relationship(back_populates="events")


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'approved', 'paid', 'rejected')"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="refunds")


# --- billing -------------------------------------------------------------------


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint("status IN ('open', 'paid', 'failed', 'void')"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    issued_on: Mapped[date]
    due_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(8))

    payments: Mapped[list[Payment]] = relationship(back_populates="invoice")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("status IN ('succeeded', 'failed')"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(16))  # card, paypal, alipay, wechat_pay
    status: Mapped[str] = mapped_column(String(10))
    failure_reason: Mapped[str | None] = mapped_column(String(80))
    attempted_at: Mapped[datetime]

    invoice: Mapped[Invoice] = relationship(back_populates="payments")


# --- support: tickets, conversations, feedback ------------------------------------


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'pending', 'solved', 'closed')"),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    category: Mapped[str] = mapped_column(String(40))  # refund, handoff, order_change
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    channel: Mapped[str] = mapped_column(String(10), default="chat")
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Conversation(Base):
    """One Rasa conversation (its sender id), as the ingest step sees it."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("outcome IN ('open', 'resolved', 'escalated', 'abandoned')"),
        CheckConstraint("handoff IN ('none', 'requested', 'taken', 'released')"),
        Index("ix_conversations_attention", "needs_attention", "last_message_at"),
        Index("ix_conversations_inbox", "needs_attention", "last_message_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), index=True
    )
    language: Mapped[str | None] = mapped_column(String(2))
    started_at: Mapped[datetime]
    last_message_at: Mapped[datetime] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(10), default="open")
    handoff: Mapped[str] = mapped_column(String(10), default="none")
    handoff_agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    needs_attention: Mapped[bool] = mapped_column(default=False)
    """Escalated, negative or low-confidence: the console shows these first."""

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.created_at"
    )


class Message(Base):
    """One message of the conversation log, with the NLU labels of user messages."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("sender IN ('user', 'bot', 'agent')"),
        UniqueConstraint("conversation_id", "event_key"),
        Index("ix_messages_conversation_time", "conversation_id", "created_at"),
        # The inbox's substring search (ILIKE '%...%'); PostgreSQL only (migration
        # 0003). SQLite has no trigram index and scans instead.
        Index(
            "ix_messages_text_trgm",
            "text",
            postgresql_using="gin",
            postgresql_ops={"text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    event_key: Mapped[str] = mapped_column(String(64))
    """Where the message came from (Rasa event timestamp or agent message id): the
    ingest step is idempotent on (conversation_id, event_key)."""
    sender: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(2))
    intent: Mapped[str | None] = mapped_column(String(64), index=True)
    confidence: Mapped[float | None]
    sentiment: Mapped[str | None] = mapped_column(String(8), index=True)
    sentiment_score: Mapped[float | None]
    entities: Mapped[list[dict[str, str | int]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    rating: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))
    sentiment: Mapped[str | None] = mapped_column(String(8))
    sentiment_score: Mapped[float | None]
    confidence: Mapped[float | None]
    language: Mapped[str | None] = mapped_column(String(2))
    staff_label: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)


class LabelCorrection(Base):
    """A staff member's fix of a wrong intent or sentiment; exported for training."""

    __tablename__ = "label_corrections"
    __table_args__ = (CheckConstraint("field IN ('intent', 'sentiment')"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"))
    field: Mapped[str] = mapped_column(String(10))
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime]


class VerificationAttempt(Base):
    """Each time the bot tried to verify who a customer is (for limits and audit)."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # signature, email_order or email_phone
    method: Mapped[str] = mapped_column(String(16))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(index=True)


class RetentionOffer(Base):
    __tablename__ = "retention_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    offer: Mapped[str] = mapped_column(String(40))
    churn_score: Mapped[float | None]
    accepted: Mapped[bool | None]
    created_at: Mapped[datetime]


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('agent', 'analyst', 'admin')"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class LoginAttempt(Base):
    """Console log-ins, for the rate limit and the audit trail."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    client: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(index=True)


class IngestCursor(Base):
    """How far the ingest step has read Rasa's event table."""

    __tablename__ = "ingest_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int]
