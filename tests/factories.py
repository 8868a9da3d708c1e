"""Small row factories for tests: sensible defaults, any column overridable."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from crm.models import (
    Conversation,
    Customer,
    Message,
    Order,
    Plan,
    Product,
    Shipment,
    ShipmentEvent,
    StaffUser,
    Subscription,
)

_serial = itertools.count(1)
NOW = datetime(2026, 11, 1, 12, 0)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def customer(session: Session, **fields: Any) -> Customer:
    n = next(_serial)
    values: dict[str, Any] = {
        "email": f"customer{n}@example.com",
        "phone": f"+1415555{n:04d}",
        "name_en": f"Test Customer {n}",
        "name_zh": "测试客户",
        "language": "en",
        "signup_date": date(2025, 1, 1),
    }
    return _add(session, Customer(**(values | fields)))


def product(session: Session, **fields: Any) -> Product:
    n = next(_serial)
    values: dict[str, Any] = {
        "sku": f"SKU-{n}",
        "name_en": f"Widget {n}",
        "name_zh": f"小部件{n}",
        "brand": "Testa",
        "price": Decimal("19.99"),
    }
    return _add(session, Product(**(values | fields)))


def plan(session: Session, **fields: Any) -> Plan:
    n = next(_serial)
    values: dict[str, Any] = {
        "code": f"plan{n}",
        "name_en": "Plus",
        "name_zh": "进阶版",
        "monthly_price": Decimal("19.99"),
    }
    return _add(session, Plan(**(values | fields)))


def subscription(session: Session, owner: Customer, **fields: Any) -> Subscription:
    chosen = fields.pop("plan", None) or plan(session)
    values: dict[str, Any] = {
        "customer_id": owner.id,
        "plan_id": chosen.id,
        "status": "active",
        "monthly_price": chosen.monthly_price,
        "started_on": date(2025, 2, 1),
        "renews_on": date(2026, 12, 1),
    }
    return _add(session, Subscription(**(values | fields)))


def order(session: Session, owner: Customer, **fields: Any) -> Order:
    n = next(_serial)
    values: dict[str, Any] = {
        "number": f"A9{n:06d}",
        "customer_id": owner.id,
        "placed_at": NOW - timedelta(days=3),
        "status": "processing",
        "total": Decimal("79.00"),
        "shipping_address": "1 Market St, San Francisco",
    }
    return _add(session, Order(**(values | fields)))


def shipment(session: Session, parent: Order, **fields: Any) -> Shipment:
    values: dict[str, Any] = {
        "order_id": parent.id,
        "carrier": "UPS",
        "tracking_number": f"1Z{next(_serial):010d}",
        "status": "in_transit",
        "shipped_at": NOW - timedelta(days=2),
        "estimated_delivery": (NOW + timedelta(days=2)).date(),
    }
    row = _add(session, Shipment(**(values | fields)))
    _add(session, ShipmentEvent(shipment_id=row.id, status=row.status, at=NOW))
    return row


def conversation(session: Session, **fields: Any) -> Conversation:
    values: dict[str, Any] = {
        "sender_id": f"sender-{next(_serial)}",
        "language": "en",
        "started_at": NOW,
        "last_message_at": NOW,
    }
    return _add(session, Conversation(**(values | fields)))


def message(session: Session, parent: Conversation, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "conversation_id": parent.id,
        "event_key": f"e{next(_serial)}",
        "sender": "user",
        "text": "where is my order",
        "language": "en",
        "intent": "order_status",
        "confidence": 0.93,
        "sentiment": "neutral",
        "sentiment_score": 0.1,
        "created_at": NOW,
    }
    return _add(session, Message(**(values | fields)))


def staff(session: Session, **fields: Any) -> StaffUser:
    n = next(_serial)
    values: dict[str, Any] = {
        "email": f"agent{n}@example.com",
        "name": f"Agent {n}",
        "password_hash": "not-a-real-hash",
        "role": "agent",
        "created_at": NOW,
    }
    return _add(session, StaffUser(**(values | fields)))
