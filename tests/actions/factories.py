"""Row factories the action tests need beyond tests/factories.py."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from crm.models import Customer, Invoice, Order, OrderItem, Payment, Product, Refund
from tests.factories import NOW, _add

_serial = itertools.count(1)


def order_item(
    session: Session, parent: Order, item: Product, **fields: Any
) -> OrderItem:
    values: dict[str, Any] = {
        "order_id": parent.id,
        "product_id": item.id,
        "quantity": 1,
        "unit_price": item.price,
    }
    return _add(session, OrderItem(**(values | fields)))


def refund(session: Session, parent: Order, **fields: Any) -> Refund:
    values: dict[str, Any] = {
        "order_id": parent.id,
        "amount": parent.total,
        "status": "requested",
        "reason": "arrived broken",
        "requested_at": NOW - timedelta(days=1),
    }
    return _add(session, Refund(**(values | fields)))


def invoice(session: Session, owner: Customer, **fields: Any) -> Invoice:
    n = next(_serial)
    values: dict[str, Any] = {
        "number": f"INV-T{n:06d}",
        "customer_id": owner.id,
        "issued_on": date(2026, 10, 1),
        "due_on": date(2026, 10, 15),
        "amount": Decimal("19.99"),
        "status": "paid",
    }
    return _add(session, Invoice(**(values | fields)))


def payment(session: Session, parent: Invoice, **fields: Any) -> Payment:
    values: dict[str, Any] = {
        "invoice_id": parent.id,
        "amount": parent.amount,
        "method": "card",
        "status": "succeeded",
        "failure_reason": None,
        "attempted_at": NOW - timedelta(days=30),
    }
    return _add(session, Payment(**(values | fields)))
