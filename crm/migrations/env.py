"""Alembic environment: migrates the engine that crm.db builds from settings."""

from alembic import context
from sqlalchemy import Engine

from crm.db import build_engine
from crm.models import Base
from crm.settings import get_settings

config = context.config


def ours(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave tables we do not model (Rasa's `events`) out of autogenerate."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_online() -> None:
    connection_engine: Engine | None = config.attributes.get("engine")
    engine = connection_engine or build_engine(
        get_settings().database_url, must_exist=False
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=ours,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
