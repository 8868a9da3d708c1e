"""What the running stack exposes: Rasa, the action server and the web app listen on
loopback (Linux's /proc/net/tcp tells), and the action server answers only Rasa. It
trusts the tracker it is sent, so whoever else reached it could ask for any
customer's orders in a made-up `verified` tracker."""

from __future__ import annotations

import ipaddress
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from crm.settings import ROOT, get_settings
from tests.reliability.conftest import Personal, fresh_accounts, record
from tests.stack.conftest import (
    ACTION_PORT,
    LOGS,
    RASA_PORT,
    WEB_PORT,
    Stack,
    wait_until_up,
)

pytestmark = pytest.mark.stack

LISTEN = "0A"
"""The state column of a listening socket in /proc/net/tcp."""


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp's hex address: 32-bit words, each in little-endian order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def listening_on(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses with a TCP socket listening on `port`."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == LISTEN and int(hex_port, 16) == port:
                found.add(_address(address))
    return found


def test_the_address_parser() -> None:
    assert str(_address("0100007F")) == "127.0.0.1"
    assert str(_address("00000000")) == "0.0.0.0"
    assert str(_address("00000000000000000000000001000000")) == "::1"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_servers_listen_on_loopback_only(stack: Stack) -> None:
    ports = {"rasa": RASA_PORT, "actions": ACTION_PORT, "web": WEB_PORT}
    for name, port in ports.items():
        addresses = listening_on(port)
        assert addresses, f"{name} is not listening on {port}"
        assert all(address.is_loopback for address in addresses), (name, addresses)


def made_up_call(customer_id: int) -> dict[str, Any]:
    """An action call as Rasa sends it, claiming `customer_id` is verified."""
    return {
        "next_action": "action_check_order_status",
        "sender_id": "made-up",
        "version": "3.6.21",
        "domain": {"responses": {}},
        "tracker": {
            "sender_id": "made-up",
            "slots": {"verified": True, "customer_id": customer_id, "language": "en"},
            "latest_message": {
                "text": "where are my orders",
                "intent": {"name": "order_status"},
                "entities": [],
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_the_action_server_answers_only_rasa(stack: Stack, personal: Personal) -> None:
    (victim,) = fresh_accounts(1, skip=60)
    call = made_up_call(victim.id)
    for token in (None, "", "wrong"):
        params = {} if token is None else {"token": token}
        reply = httpx.post(f"{stack.actions}/webhook", params=params, json=call)
        assert reply.status_code == 401, (token, reply.text[:300])
        assert not personal.leaks(reply.text)
        assert httpx.get(f"{stack.actions}/actions", params=params).status_code == 401
    assert httpx.get(f"{stack.actions}/health").status_code == 200
    # The control: with Rasa's token the same call is answered with the orders.
    token = {"token": get_settings().actions_token}
    answered = httpx.post(f"{stack.actions}/webhook", params=token, json=call)
    assert answered.status_code == 200
    assert any(number in answered.text for number in victim.orders), answered.text
    record("action server without token", refused=9)


def test_no_token_no_action_server() -> None:
    started = subprocess.run(
        [str(ROOT / "actions" / "serve.sh"), "15099"],
        env=os.environ | {"ACTIONS_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "no ACTIONS_TOKEN is set; run `make secrets`" in started.stderr


def test_a_token_may_start_with_a_dash(stack: Stack) -> None:
    """`crm secrets` writes URL-safe tokens, and one in 64 starts with '-': Rasa must
    still start, and take it as the token rather than as an option."""
    name, port, token = "rasa-dash-token", 15097, f"-{get_settings().rasa_token}"
    with (LOGS / f"{name}.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(ROOT / "bot/serve.sh"),
                str(port),
                str(ROOT / "var/test/endpoints.yml"),
            ],
            env=os.environ | {"RASA_TOKEN": token},
            stdout=log,
            stderr=log,
        )
    status = f"http://127.0.0.1:{port}/status"
    try:
        wait_until_up(name, server, f"{status}?{urlencode({'token': token})}")
        assert httpx.get(status, timeout=5).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
