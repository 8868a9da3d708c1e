"""The staff console under attack, on the running web app: every route of its
OpenAPI spec refuses anonymous visitors and the wrong role, every POST needs the
session's CSRF token, customer text typed into the real bot shows escaped to staff,
and schemathesis fuzzes every operation (on a copy of the test CRM) without a 5xx.

tests/web/ covers single routes with the app in-process; this adds the sweep over
the whole spec, the real bot-to-console path, and the fuzzing.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crm.db import build_engine, get_engine, transaction
from crm.ingest import ingest
from crm.models import Conversation, StaffUser
from crm.settings import get_settings
from tests.reliability.conftest import record, sender
from tests.stack.conftest import Stack
from web.app import create_app
from web.security import create_staff
from web.util import utcnow

pytestmark = pytest.mark.stack

PASSWORD = "reliability console password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PUBLIC = {
    ("get", "/login"),
    ("post", "/login"),
    ("get", "/health"),
    ("get", "/api/widget/history"),
    ("get", "/chat"),  # the demo chat page; admin-only with a customer id
}
ROLES_OF = {
    "/admin/": {"admin"},
    "/corrections": {"analyst", "admin"},
    "/dashboard": {"analyst", "admin"},
    "/handoffs": {"agent", "admin"},
    "/take": {"agent", "admin"},
    "/reply": {"agent", "admin"},
    "/release": {"agent", "admin"},
}
PATH_VALUES = {
    "conversation_id": "1",
    "message_id": "1",
    "feedback_id": "1",
    "staff_id": "1",
    "language": "en",
    "name": "ratings",
}
XSS = [
    "<script>alert('kefu')</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(2)>",
    '"><iframe src="javascript:alert(3)">',
]


def operations(web: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{web}/api/openapi.json", timeout=30).json()
    return [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post")
    ]


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m.group(1)], path)


def allowed_roles(path: str) -> set[str]:
    for part, roles in ROLES_OF.items():
        if part in path:
            return roles
    return {"agent", "analyst", "admin"}


@pytest.fixture(scope="module")
def staff(stack: Stack) -> dict[str, str]:
    """An admin, an agent and an analyst of our own in the test CRM."""
    tag = secrets.token_hex(4)
    emails = {}
    with transaction() as session:
        for role in ("admin", "agent", "analyst"):
            user = create_staff(
                session=session,
                email=f"rel-{role}-{tag}@example.com",
                name=f"Reliability {role}",
                password=PASSWORD,
                role=role,
                now=utcnow(),
            )
            emails[role] = user.email
    return emails


@contextmanager
def logged_in(web: str, email: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client logged in as `email`, and its session's CSRF token."""
    with httpx.Client(base_url=web, timeout=60, follow_redirects=False) as client:
        token = CSRF.search(client.get("/login").text)
        assert token
        reply = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert reply.status_code == 303, reply.text[:300]
        page = client.get("/inbox")
        found = CSRF.search(page.text)
        assert found, page.status_code
        yield client, found.group(1)


def test_every_route_refuses_anonymous_visitors(stack: Stack) -> None:
    checked = 0
    with httpx.Client(base_url=stack.web, timeout=60, follow_redirects=False) as web:
        for method, path in operations(stack.web):
            if (method, path) in PUBLIC:
                continue
            reply = web.request(method.upper(), concrete(path))
            checked += 1
            assert reply.status_code in (303, 401, 403), (method, path, reply.text)
            if reply.status_code == 303:
                assert reply.headers["location"].startswith("/login"), path
    assert checked >= 20
    record("console anonymous", routes=checked)


def test_every_route_refuses_the_wrong_role(
    stack: Stack, staff: dict[str, str]
) -> None:
    refused = 0
    for role in ("agent", "analyst"):
        with logged_in(stack.web, staff[role]) as (client, token):
            for method, path in operations(stack.web):
                if (method, path) in PUBLIC or role in allowed_roles(path):
                    continue
                reply = client.request(
                    method.upper(), concrete(path), headers={"x-csrf-token": token}
                )
                refused += 1
                assert reply.status_code == 403, (role, method, path, reply.text)
    assert refused >= 10
    record("console wrong role", refused=refused)


def test_posts_need_this_sessions_csrf_token(
    stack: Stack, staff: dict[str, str]
) -> None:
    newcomer = f"rel-csrf-{secrets.token_hex(4)}@example.com"
    form = {"email": newcomer, "name": "Planted", "password": "x" * 16, "role": "admin"}
    with (
        logged_in(stack.web, staff["admin"]) as (admin, _),
        logged_in(stack.web, staff["agent"]) as (_agent, other_token),
    ):
        posts = [path for method, path in operations(stack.web) if method == "post"]
        for path in posts:
            if path in ("/login", "/logout"):
                continue
            for extra in ({}, {"csrf_token": "forged"}, {"csrf_token": other_token}):
                reply = admin.post(concrete(path), data={**form, **extra})
                assert reply.status_code == 403, (path, extra, reply.text[:200])
        assert admin.post("/logout").status_code == 403  # still logged in after it
        assert admin.get("/inbox").status_code == 200
    with get_engine().connect() as connection:
        planted = connection.scalar(
            select(StaffUser.id).where(StaffUser.email == newcomer)
        )
    assert planted is None, "a POST without the token changed something"


def test_customer_markup_reaches_staff_escaped(
    stack: Stack, staff: dict[str, str]
) -> None:
    """Markup typed into the real bot, ingested into the conversation log, shown in
    every console page that quotes customers: always as text."""
    who = sender("xss")
    for text in XSS:
        assert stack.say(who, f"where is my order {text}") is not None
    stack.say(who, '/give_feedback{"rating": 1}')
    stack.say(who, XSS[0])  # the feedback comment
    stack.say(who, "I want to talk to a person")
    ingest(get_engine())
    with get_engine().connect() as connection:
        conversation = connection.scalar(
            select(Conversation.id).where(Conversation.sender_id == who)
        )
    assert conversation, "the conversation was not logged"

    pages = [
        f"/conversations/{conversation}",
        "/inbox",
        f"/inbox?q={who}",
        "/inbox/feedback",
        "/handoffs",
    ]
    with logged_in(stack.web, staff["admin"]) as (admin, _):
        for page in pages:
            reply = admin.get(page)
            assert reply.status_code == 200, page
            for text in XSS:
                assert text not in reply.text, (page, text)
        transcript = admin.get(f"/conversations/{conversation}").text
        assert "&lt;script&gt;" in transcript
        api = admin.get(f"/api/conversations/{conversation}/messages")
        assert api.headers["content-type"].startswith("application/json")
        assert "script-src 'self'" in api.headers.get("content-security-policy", "")


# --- schemathesis ---------------------------------------------------------------------


@pytest.fixture
def fuzz_app(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str], str]]:
    """The console app on a copy of the test CRM, with a logged-in admin."""
    url = make_url(get_settings().database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        pytest.skip("fuzzing copies the SQLite test CRM")
    copy = tmp_path / "fuzz.sqlite3"
    with sqlite3.connect(url.database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    engine = build_engine(f"sqlite:///{copy}")
    with Session(engine) as session, session.begin():
        create_staff(
            session=session,
            email="fuzz-admin@example.com",
            name="Fuzz admin",
            password=PASSWORD,
            role="admin",
            now=utcnow(),
        )
    app = create_app(engine, export_dir=tmp_path / "export")
    app.state.rasa_url = "http://127.0.0.1:9"  # nothing listens: replies fail cleanly
    with TestClient(app, follow_redirects=False) as client:
        token = CSRF.search(client.get("/login").text)
        assert token
        client.post(
            "/login",
            data={
                "email": "fuzz-admin@example.com",
                "password": PASSWORD,
                "csrf_token": token.group(1),
            },
        )
        csrf = CSRF.search(client.get("/inbox").text)
        assert csrf
        yield app, dict(client.cookies), csrf.group(1)
    engine.dispose()


def test_schemathesis_finds_no_server_error(
    fuzz_app: tuple[Any, dict[str, str], str],
) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    app, cookies, token = fuzz_app
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    skipped = {("POST", "/logout"), ("POST", "/admin/staff/{staff_id}/active")}
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in skipped:
            continue

        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(
                headers={"x-csrf-token": token},
                cookies=cookies,
                checks=[not_a_server_error],
            )

        fuzz()
    assert calls >= 100
    record("console schemathesis", calls=calls)
