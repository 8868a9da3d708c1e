"""The migrations build exactly the schema the models describe, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from crm.models import Base
from tests import factories


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_foreign_keys_are_enforced(session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    from crm.models import Order

    owner = factories.customer(session)
    session.add(
        Order(
            number="A0000001",
            customer_id=owner.id + 10_000,
            placed_at=factories.NOW,
            status="pending",
            total=1,
            shipping_address="x",
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
    else:
        raise AssertionError("an order of a customer that does not exist was accepted")
