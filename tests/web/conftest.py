"""Web app fixtures: the real app on the real test database, one outer transaction per
test (the app's own commits become savepoints), and logged-in clients per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from crm.models import StaffUser
from tests import factories
from web.app import create_app
from web.security import hash_password

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

_hashed = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection in an outer transaction, rolled back when the test ends."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def db(conn: Connection) -> Iterator[Session]:
    """The test's own session on the app's connection: it sees what the app wrote."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "nlu_data" / "train" / "corrections"


@pytest.fixture
def app(conn: Connection, export_dir: Path) -> FastAPI:
    return create_app(conn, export_dir=export_dir)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a form on `path`."""
    page = client.get(path)
    found = CSRF_INPUT.search(page.text)
    assert found, f"no CSRF field on {path} ({page.status_code})"
    return found.group(1)


def make_staff(db: Session, role: str, **fields: object) -> StaffUser:
    user = factories.staff(db, role=role, password_hash=_hashed, **fields)
    db.commit()
    return user


def log_in(client: TestClient, user: StaffUser, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    return client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": token},
    )


@pytest.fixture
def login_as(client: TestClient, db: Session) -> Callable[[str], StaffUser]:
    """Log the client in as a new staff user with `role`; returns the user."""

    def login(role: str) -> StaffUser:
        user = make_staff(db, role)
        response = log_in(client, user)
        assert response.status_code == 303, response.text
        return user

    return login


def post_form(
    client: TestClient, path: str, data: dict[str, str], page: str = "/inbox"
):  # type: ignore[no-untyped-def]
    """POST a form with the session's CSRF token (taken from `page`)."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)})
