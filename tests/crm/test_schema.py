"""The migrations build exactly the schema the models describe, on every backend."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from crm.models import Base
from tests import factories


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
        assert [d for d in diffs if not _elsewhere(d, engine.dialect.name)] == []


def _elsewhere(diff: Any, dialect: str) -> bool:
    """An index the models make on another backend only (`Index.ddl_if`), which
    Alembic's comparison does not heed (sqlalchemy/alembic#1491)."""
    if not (isinstance(diff, tuple) and diff[0] == "add_index"):
        return False
    index = diff[1]  # Alembic's copy, without ddl_if: look up the model's own
    only = {i.name: i._ddl_if for i in Base.metadata.tables[index.table.name].indexes}
    return only[index.name] is not None and only[index.name].dialect != dialect


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
