"""`crm`: migrate, seed and inspect the CRM database; the commands `make` runs."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine, func, select

from crm.db import DatabaseError, build_engine, check_schema, describe, get_engine
from crm.db import migrate as run_migrations
from crm.models import Customer, Order
from crm.settings import (
    ROOT,
    SECRETS_FILE,
    Settings,
    get_settings,
    write_missing_secrets,
)

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
logger = logging.getLogger(__name__)


def fail(message: str) -> None:
    """Print one `error:` line and exit 1: what a user sees instead of a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Create or upgrade the CRM schema (Alembic) in DATABASE_URL."""
    url = get_settings().database_url
    try:
        engine = build_engine(url, must_exist=False)
        run_migrations(engine)
    except DatabaseError as error:
        fail(str(error))
    except Exception as error:  # the driver's own error, shown as one line
        fail(f"migration failed on {url!r}: {str(error).splitlines()[0]}")
    typer.echo(f"schema up to date: {describe(engine)}")


@app.command()
def seed(
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same CRM.")] = 7,
    as_of: Annotated[str, typer.Option(help="The demo's today, YYYY-MM-DD.")] = (
        "2026-11-01"
    ),
    if_empty: Annotated[
        bool, typer.Option(help="Do nothing if the CRM already has customers.")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="Empty the CRM's tables first (keeps staff users).")
    ] = False,
) -> None:
    """Fill the CRM with a deterministic demo shop."""
    from crm.seed import seed_demo

    engine = _checked_engine()
    with engine.connect() as connection:
        existing = connection.scalar(select(func.count()).select_from(Customer))
    if existing and if_empty:
        typer.echo(f"the CRM already has {existing} customers; not seeding")
        return
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date like 2026-11-01")
    try:
        rows = seed_demo(
            engine, customers=customers, seed=seed, as_of=day, replace=replace
        )
    except ValueError as error:
        fail(str(error))
    typer.echo(", ".join(f"{table} {count}" for table, count in rows.items()))


@app.command("sample-order")
def sample_order(status: str = "in_transit") -> None:
    """Print one demo order number with the given status (for the README's curl)."""
    engine = _checked_engine()
    with engine.connect() as connection:
        number = connection.scalar(
            select(Order.number).where(Order.status == status).order_by(Order.id)
        )
    if number is None:
        fail(f"no order with status {status!r}; run `crm seed` first")
    typer.echo(number)


@app.command("export-catalog")
def export_catalog(
    out: Annotated[Path, typer.Option(help="Rasa NLU file to write.")] = (
        ROOT / "var" / "nlu" / "catalog.yml"
    ),
) -> None:
    """Write the CRM's product names as a Rasa lookup table for the next training."""
    from sqlalchemy.orm import Session

    from crm.nlu_export import write_catalog_lookup

    with Session(_checked_engine()) as session:
        count = write_catalog_lookup(out, session=session)
    typer.echo(f"{count} product names written to {out}")


@app.command("secrets")
def secrets_command() -> None:
    """Create var/secrets.env: a random value for each secret it lacks, kept after."""
    added = write_missing_secrets()
    said = f"added {', '.join(added)}" if added else "complete"
    typer.echo(f"{SECRETS_FILE}: {said}")


@app.command()
def setting(
    name: Annotated[str, typer.Argument(help="For example rasa_token or RASA_URL.")],
) -> None:
    """Print one setting as the app reads it (environment, .env, var/secrets.env)."""
    field = name.lower().replace("-", "_")
    if field not in Settings.model_fields:
        known = ", ".join(Settings.model_fields)
        raise typer.BadParameter(f"no setting {name!r}; the settings are {known}")
    value = getattr(get_settings(), field)
    typer.echo("" if value is None else value)


@app.command("rasa-endpoints")
def rasa_endpoints(
    out: Annotated[Path, typer.Option(help="endpoints.yml to write.")] = (
        ROOT / "var" / "endpoints.yml"
    ),
    action_url: Annotated[str, typer.Option(envvar="ACTION_ENDPOINT_URL")] = (
        "http://127.0.0.1:5055/webhook"
    ),
) -> None:
    """Write Rasa's endpoints.yml for DATABASE_URL (tracker store) and REDIS_URL."""
    from crm.rasa_config import render

    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)  # it carries the action server's token
    out.chmod(0o600)
    out.write_text(render(get_settings(), action_url), encoding="utf-8")
    typer.echo(f"wrote {out}")


@app.command()
def ingest(
    follow: Annotated[bool, typer.Option(help="Keep ingesting new events.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 1.0,
) -> None:
    """Copy new Rasa events into the conversation log (conversations, messages)."""
    import time

    from sqlalchemy.exc import OperationalError

    from crm.ingest import close_abandoned
    from crm.ingest import ingest as ingest_events

    engine = _checked_engine()
    while True:
        try:
            done = ingest_events(engine)
            close_abandoned(engine)
        except OperationalError as error:  # database briefly away: try again later
            logger.warning("ingest paused: %s", str(error.orig).splitlines()[0])
        else:
            if done.events or not follow:
                typer.echo(f"ingested {done.events} events, {done.messages} messages")
        if not follow:
            return
        time.sleep(interval)


@app.command("erase-customer")
def erase_customer_command(
    customer_id: int,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Erase one customer everywhere: CRM, conversation log, feedback, tickets, and
    Rasa's tracker store."""
    from sqlalchemy.orm import Session

    from crm.erasure import erase_customer
    from crm.queries import NotFound

    engine = _checked_engine()
    if not yes:
        typer.confirm(f"Erase customer {customer_id} for good?", abort=True)
    try:
        with Session(engine) as session, session.begin():
            counts = erase_customer(session, customer_id=customer_id)
    except NotFound as error:
        fail(str(error))
    typer.echo(", ".join(f"{table} {n}" for table, n in counts.items() if n))


@app.command("check")
def check() -> None:
    """Say whether DATABASE_URL is reachable and migrated."""
    engine = _checked_engine()
    typer.echo(f"ok: {describe(engine)}")


def _checked_engine() -> Engine:
    try:
        engine = get_engine()
        check_schema(engine)
    except DatabaseError as error:
        fail(str(error))
    return engine


def main() -> None:
    """Entry point with logging set up."""
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        app()
    except DatabaseError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
