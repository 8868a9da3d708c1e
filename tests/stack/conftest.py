"""The running stack for end-to-end tests: Rasa, the action server and the web app on
test ports, against the test CRM that `make test` seeded (tests/run_all.sh).

The stack starts once per test session and only when a stack test asks for it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from crm.settings import ROOT, get_settings

RASA_PORT = int(os.environ.get("TEST_RASA_PORT", "15005"))
ACTION_PORT = int(os.environ.get("TEST_ACTION_PORT", "15055"))
WEB_PORT = int(os.environ.get("TEST_WEB_PORT", "18800"))
LOGS = ROOT / "var" / "test" / "logs"
RASA_TOKEN = get_settings().rasa_token
"""What bot/serve.sh gives Rasa as `--auth-token` (`make test` runs `crm secrets`)."""
ASKS_FOR_EMAIL = re.compile(r"email address on your account|注册邮箱")
"""The bot asking for the account's email (to verify the customer), as opposed to a
reply that merely mentions email ("our team will email you")."""


@dataclass
class Stack:
    rasa: str
    actions: str
    web: str
    processes: dict[str, subprocess.Popen[bytes]]

    def say(self, sender: str, text: str, **extra: object) -> list[dict[str, object]]:
        """Send one message through the REST channel; return the bot's replies."""
        reply = httpx.post(
            f"{self.rasa}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, **extra},
            timeout=60,
        )
        reply.raise_for_status()
        return reply.json()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        process.wait(timeout=30)

    def start(
        self,
        name: str,
        *,
        env: dict[str, str] | None = None,
        endpoints: Path | None = None,
    ) -> None:
        """Start `name` again; `env` overrides environment variables (for example a
        DATABASE_URL that does not answer), `endpoints` Rasa's endpoints file."""
        self.processes[name] = _spawn(name, env=env, endpoints=endpoints)
        wait_until_up(name, self.processes[name])


def _commands(endpoints: Path | None = None) -> dict[str, list[str]]:
    app = ROOT / ".venv-app" / "bin"
    return {
        "actions": [str(ROOT / "actions" / "serve.sh"), str(ACTION_PORT)],
        "rasa": [
            str(ROOT / "bot" / "serve.sh"),
            str(RASA_PORT),
            str(endpoints or LOGS.parent / "endpoints.yml"),
        ],
        "web": [str(app / "console"), "serve", "--port", str(WEB_PORT)],
    }


HEALTH = {
    "actions": f"http://127.0.0.1:{ACTION_PORT}/health",
    "rasa": f"http://127.0.0.1:{RASA_PORT}/status?token={RASA_TOKEN}",
    "web": f"http://127.0.0.1:{WEB_PORT}/health",
}


def _spawn(
    name: str,
    *,
    env: dict[str, str] | None = None,
    endpoints: Path | None = None,
) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{name}.log").open("ab")
    environment = os.environ | {"RASA_URL": f"http://127.0.0.1:{RASA_PORT}"}
    return subprocess.Popen(
        _commands(endpoints)[name],
        cwd=ROOT,
        stdout=log,
        stderr=log,
        env=environment | (env or {}),
    )


def wait_until_up(
    name: str,
    process: subprocess.Popen[bytes],
    url: str | None = None,
    timeout: float = 180,
) -> None:
    """Wait until `url` (default: `name`'s health URL) answers 200; fail the test,
    with the end of LOGS/`name`.log, if `process` exits or time runs out."""
    url = url or HEALTH[name]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (LOGS / f"{name}.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"{name} exited with {process.returncode}:\n{log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"{name} did not answer on {url} within {timeout} s")


_running: list[Stack] = []
"""The stack of this test session. Other folders import the `stack` fixture into
their conftest, which makes pytest keep one fixture per folder: they all share this
one stack instead of starting a second one on the same ports."""


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Rasa, actions and web started on test ports; stopped after the session."""
    if _running:
        yield _running[0]
        return
    if not any((ROOT / "models").glob("*.tar.gz")):
        pytest.skip("no trained model in models/; `make test` trains one")
    endpoints = LOGS.parent / "endpoints.yml"
    subprocess.run(
        [
            str(ROOT / ".venv-app" / "bin" / "crm"),
            "rasa-endpoints",
            "--out",
            str(endpoints),
            "--action-url",
            f"http://127.0.0.1:{ACTION_PORT}/webhook",
        ],
        check=True,
        cwd=ROOT,
    )
    started = Stack(
        rasa=f"http://127.0.0.1:{RASA_PORT}",
        actions=f"http://127.0.0.1:{ACTION_PORT}",
        web=f"http://127.0.0.1:{WEB_PORT}",
        processes={},
    )
    _running.append(started)
    try:
        for name in ("actions", "web", "rasa"):
            started.start(name)
        yield started
    finally:
        _running.clear()
        for process in started.processes.values():
            process.terminate()
        for process in started.processes.values():
            process.wait(timeout=30)
