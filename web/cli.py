"""`console` command: create the first admin (and other staff), serve the web app.

console create-admin --email boss@example.com --name "Boss"   # password prompted
echo "$PASSWORD" | console create-admin --email ... --name ... --password-stdin
console create-user --email a@example.com --name Ann --role agent --password-stdin
console serve --port 8000
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from crm.db import DatabaseError, check_schema, get_engine, transaction
from crm.settings import get_settings
from web.security import ROLES, create_staff
from web.util import utcnow

app = typer.Typer(
    help="The kefu staff console.", no_args_is_help=True, add_completion=False
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _create(email: str, name: str, role: str, password_stdin: bool) -> None:
    try:
        check_schema(get_engine())
        password = _password(password_stdin)
        with transaction() as session:
            user = create_staff(
                session=session,
                email=email,
                name=name,
                password=password,
                role=role,
                now=utcnow(),
            )
            typer.echo(f"created {role} {user.email} (id {user.id})")
    except (DatabaseError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email (the login).")],
    name: Annotated[str, typer.Option(help="The name shown in the console.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of stdin."
        ),
    ] = False,
) -> None:
    """Create an admin account (the first one, or another)."""
    _create(email, name, "admin", password_stdin)


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The login email.")],
    name: Annotated[str, typer.Option(help="The name shown in the console.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "agent",
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
) -> None:
    """Create a staff account with any role."""
    _create(email, name, role, password_stdin)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default WEB_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=16)] = 1,
) -> None:
    """Serve the console and the chat page with uvicorn."""
    import uvicorn

    try:
        check_schema(get_engine())
    except DatabaseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host,
        port=port or get_settings().web_port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


if __name__ == "__main__":
    app()
