"""Admin pages: staff accounts."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import StaffUser
from tests.web.conftest import post_form


def test_admin_creates_and_deactivates_staff(
    client: TestClient, db: Session, login_as: Callable[[str], StaffUser]
) -> None:
    admin = login_as("admin")
    created = post_form(
        client,
        "/admin/staff",
        {
            "email": "New.Agent@example.com",
            "name": "New <Agent>",
            "role": "agent",
            "password": "a long password!",
        },
        "/admin/staff",
    )
    assert created.status_code == 303
    user = db.scalars(
        select(StaffUser).where(StaffUser.email == "new.agent@example.com")
    ).one()
    assert user.role == "agent" and user.password_hash.startswith("$argon2id$")
    assert "New &lt;Agent&gt;" in client.get("/admin/staff").text
    toggled = post_form(
        client, f"/admin/staff/{user.id}/active", {"active": "0"}, "/admin/staff"
    )
    assert toggled.status_code == 303
    db.refresh(user)
    assert user.active is False
    myself = post_form(
        client, f"/admin/staff/{admin.id}/active", {"active": "0"}, "/admin/staff"
    )
    assert myself.status_code == 400


def test_bad_staff_input_is_400(
    client: TestClient, login_as: Callable[[str], StaffUser]
) -> None:
    login_as("admin")
    for data in (
        {
            "email": "x@example.com",
            "name": "X",
            "role": "root",
            "password": "long enough pw",
        },
        {"email": "x@example.com", "name": "X", "role": "agent", "password": "short"},
        {
            "email": "not-an-email",
            "name": "X",
            "role": "agent",
            "password": "long enough pw",
        },
    ):
        assert (
            post_form(client, "/admin/staff", data, "/admin/staff").status_code == 400
        )
    assert (
        post_form(
            client, "/admin/staff/99999/active", {"active": "0"}, "/admin/staff"
        ).status_code
        == 404
    )
