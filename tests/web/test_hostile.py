"""Hostile and malformed input to the console and the widget API: a clear 4xx or a
normal page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from crm.models import StaffUser
from tests.web.conftest import csrf_of

ODD = [
    "\x00",
    "%00",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "' OR 1=1 --",
    "😀" * 50,
    "مرحبا",
    "\u202etxt.exe",
    "<script>alert(1)</script>",
    "%",
    "_",
    "\\",
    "a" * 200,
]


@pytest.mark.parametrize("value", ODD)
def test_odd_query_values_never_fail(
    client: TestClient, login_as: Callable[[str], StaffUser], value: str
) -> None:
    login_as("admin")
    for path in ("/inbox", "/inbox/feedback", "/dashboard"):
        for name in ("q", "language", "status", "date_from", "after", "rating_max"):
            response = client.get(path, params={name: value})
            assert response.status_code < 500, (path, name, value)
    history = client.get("/api/widget/history", params={"session_id": value})
    assert history.status_code in (400, 422)


@pytest.mark.parametrize("value", ODD)
def test_odd_form_values_never_fail(
    client: TestClient, login_as: Callable[[str], StaffUser], value: str
) -> None:
    login_as("admin")
    token = csrf_of(client, "/inbox")
    response = client.post(
        "/login", data={"email": value, "password": value, "csrf_token": token}
    )
    assert response.status_code < 500


def test_malformed_bodies_are_4xx(client: TestClient) -> None:
    token = csrf_of(client)
    cases = [
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        {
            "content": b"--x\r\nbroken",
            "headers": {"content-type": "multipart/form-data; boundary=x"},
        },
        {
            "content": b"\xff\xfe\x00garbage",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        {
            "content": b"email=a&password=b&csrf_token=" + token.encode(),
            "headers": {"content-type": "text/plain"},
        },
    ]
    for case in cases:
        response = client.post("/login", **case)  # type: ignore[arg-type]
        assert 400 <= response.status_code < 500, case
