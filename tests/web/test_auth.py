"""Log-in, sessions, CSRF, the rate limit and role checks, on the real app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import LoginAttempt, StaffUser
from tests.web.conftest import csrf_of, log_in, make_staff, post_form
from web.security import MAX_FAILURES_PER_EMAIL


def test_login_with_the_right_password_opens_the_inbox(
    client: TestClient, db: Session
) -> None:
    user = make_staff(db, "agent")
    response = log_in(client, user)
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert user.name in inbox.text
    attempts = db.scalars(select(LoginAttempt).where(LoginAttempt.email == user.email))
    assert [a.succeeded for a in attempts] == [True]


def test_wrong_password_is_refused_and_recorded(
    client: TestClient, db: Session
) -> None:
    user = make_staff(db, "agent")
    response = log_in(client, user, password="not the password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert client.get("/inbox").status_code == 303
    failed = db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == user.email, LoginAttempt.succeeded.is_(False))
    )
    assert failed == 1


def test_unknown_email_gets_the_same_answer(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={
            "email": "nobody@example.com",
            "password": "whatever it is",
            "csrf_token": token,
        },
    )
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_inactive_staff_cannot_log_in(client: TestClient, db: Session) -> None:
    user = make_staff(db, "agent", active=False)
    assert log_in(client, user).status_code == 401


def test_login_is_rate_limited_even_with_the_right_password(
    client: TestClient, db: Session
) -> None:
    user = make_staff(db, "agent")
    for _ in range(MAX_FAILURES_PER_EMAIL):
        assert log_in(client, user, password="guess guess").status_code == 401
    limited = log_in(client, user)
    assert limited.status_code == 429
    assert "Too many failed attempts" in limited.text
    assert client.get("/inbox").status_code == 303


def test_login_without_csrf_token_is_forbidden(client: TestClient, db: Session) -> None:
    user = make_staff(db, "agent")
    client.get("/login")
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 403
    wrong = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": "forged",
        },
    )
    assert wrong.status_code == 403


def test_post_without_csrf_is_forbidden_when_logged_in(
    client: TestClient, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("admin")
    response = client.post(
        "/admin/staff",
        data={
            "email": "x@example.com",
            "name": "X",
            "role": "agent",
            "password": "long enough password",
        },
    )
    assert response.status_code == 403


def test_logout_ends_the_session(
    client: TestClient, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("agent")
    assert post_form(client, "/logout", {}).status_code == 303
    assert client.get("/inbox").status_code == 303


def test_next_parameter_cannot_leave_the_site(client: TestClient, db: Session) -> None:
    user = make_staff(db, "agent")
    token = csrf_of(client, "/login?next=//evil.example/x")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/inbox"


@pytest.mark.parametrize(
    "path",
    [
        "/inbox",
        "/inbox/feedback",
        "/handoffs",
        "/corrections",
        "/dashboard",
        "/admin/staff",
        "/conversations/1",
    ],
)
def test_anonymous_visitors_are_sent_to_login(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "path",
    [
        "/api/conversations/1/messages",
        "/corrections/accuracy.svg",
        "/corrections/export/en.yml",
        "/dashboard/ratings.svg",
    ],
)
def test_anonymous_api_calls_get_401(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("agent", "/admin/staff", 403),
        ("agent", "/corrections", 403),
        ("agent", "/dashboard", 403),
        ("agent", "/handoffs", 200),
        ("analyst", "/handoffs", 403),
        ("analyst", "/admin/staff", 403),
        ("analyst", "/corrections", 200),
        ("analyst", "/dashboard", 200),
        ("admin", "/admin/staff", 200),
        ("admin", "/handoffs", 200),
    ],
)
def test_roles(
    client: TestClient,
    login_as: Callable[[str], StaffUser],
    role: str,
    path: str,
    status: int,
) -> None:
    login_as(role)
    assert client.get(path).status_code == status


def test_deactivating_a_user_ends_their_session(
    app,
    db: Session,
    login_as: Callable[[str], StaffUser],  # type: ignore[no-untyped-def]
) -> None:
    agent_client = TestClient(app, follow_redirects=False)
    agent = make_staff(db, "agent")
    assert log_in(agent_client, agent).status_code == 303
    login_as("admin")
    assert agent_client.get("/inbox").status_code == 200
    agent.active = False
    db.commit()
    assert agent_client.get("/inbox").status_code == 303
