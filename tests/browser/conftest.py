"""Browser tests: Debian's headless Chromium driven by Playwright for Python, against
the web app served by uvicorn (in a thread) on a temporary, seeded SQLite database.

They skip cleanly when Playwright or /usr/bin/chromium is missing. Screenshots go
to var/artifacts/ (git-ignored), or to $BROWSER_ARTIFACTS."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm.db import build_engine, migrate
from crm.models import Feedback
from crm.settings import ROOT
from tests import factories
from tests.factories import NOW
from tests.stack.conftest import stack  # noqa: F401 (the running stack, for test_stack)
from web.security import hash_password

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PORT = int(os.environ.get("BROWSER_WEB_PORT", "18000"))
DEAD_RASA = "http://127.0.0.1:18098"
"""Nothing listens here: the widget shows that the bot is unreachable."""
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", ROOT / "var" / "artifacts"))
"""Where the screenshots go (git-ignored); runs side by side can keep theirs apart."""
PASSWORD = "browser test password"
XSS = "<img src=x onerror=alert(1)>"
WIDGET_SESSION = "widgetsession0001"
WIDGET_SESSION_ZH = "widgetsessionzh01"

try:
    from playwright import sync_api as playwright_api
except ImportError:  # pragma: no cover - the dev group installs it
    playwright_api = None


@dataclass
class Site:
    url: str
    export_dir: Path
    ids: dict[str, int]
    staff: dict[str, str]


def _seed(session: Session) -> dict[str, Any]:
    hashed = hash_password(PASSWORD)
    staff = {
        role: factories.staff(
            session,
            role=role,
            email=f"{role}@example.com",
            name=f"Test {role.title()}",
            password_hash=hashed,
        ).email
        for role in ("admin", "agent", "analyst")
    }
    customer = factories.customer(
        session,
        email="li.mei@example.com",
        phone="+8613800001234",
        name_zh="李梅",
        language="zh",
        churn_score=0.81,
        segment="at risk",
    )
    factories.order(
        session,
        customer,
        number="A1000001",
        status="in_transit",
        total=Decimal("59.00"),
    )
    angry = factories.conversation(
        session, needs_attention=True, outcome="escalated", last_message_at=NOW
    )
    factories.message(
        session,
        angry,
        text="this is the worst service ever",
        intent="complain",
        confidence=0.45,
        sentiment="negative",
    )
    factories.message(
        session,
        angry,
        sender="bot",
        intent=None,
        confidence=None,
        sentiment=None,
        text="I'm sorry to hear that.",
        created_at=NOW + timedelta(seconds=2),
    )
    chinese = factories.conversation(
        session,
        language="zh",
        customer_id=customer.id,
        last_message_at=NOW - timedelta(hours=1),
    )
    factories.message(
        session,
        chinese,
        text="我的订单A1000001到哪了",
        language="zh",
        intent="order_status",
        confidence=0.92,
        created_at=NOW - timedelta(hours=1),
    )
    hostile = factories.conversation(session, last_message_at=NOW - timedelta(hours=2))
    factories.message(
        session,
        hostile,
        text=XSS,
        intent="out_of_scope",
        confidence=0.3,
        created_at=NOW - timedelta(hours=2),
    )
    waiting = factories.conversation(
        session, handoff="requested", last_message_at=NOW - timedelta(hours=3)
    )
    factories.message(
        session,
        waiting,
        text="I want a human",
        intent="human_handoff",
        created_at=NOW - timedelta(hours=3),
    )
    widget = factories.conversation(
        session, sender_id=WIDGET_SESSION, last_message_at=NOW - timedelta(hours=4)
    )
    for offset, (sender, text) in enumerate(
        [
            ("user", "where is my order"),
            ("bot", "Could you tell me your order number?"),
            ("user", XSS),
            ("agent", "Hello, this is Anna from support."),
        ]
    ):
        factories.message(
            session,
            widget,
            sender=sender,
            text=text,
            created_at=NOW - timedelta(hours=4) + timedelta(seconds=offset),
        )
    widget_zh = factories.conversation(
        session,
        sender_id=WIDGET_SESSION_ZH,
        language="zh",
        last_message_at=NOW - timedelta(hours=5),
    )
    factories.message(
        session,
        widget_zh,
        text="你好",
        language="zh",
        intent="greet",
        created_at=NOW - timedelta(hours=5),
    )
    factories.message(
        session,
        widget_zh,
        sender="bot",
        text="您好！有什么可以帮您？",
        created_at=NOW - timedelta(hours=5, seconds=-1),
    )
    for rating, sentiment, intent, language, days in (
        (5, "positive", "give_feedback", "en", 1),
        (1, "negative", "complain", "zh", 8),
        (2, "negative", "order_status", "en", 15),
        (4, "neutral", "order_status", "zh", 3),
    ):
        session.add(
            Feedback(
                rating=rating,
                sentiment=sentiment,
                intent=intent,
                language=language,
                text="feedback text",
                created_at=NOW - timedelta(days=days),
            )
        )
    session.flush()
    return {
        "staff": staff,
        "ids": {
            "angry": angry.id,
            "chinese": chinese.id,
            "hostile": hostile.id,
            "waiting": waiting.id,
        },
    }


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web app on PORT with a seeded temporary database."""
    import uvicorn

    from web.app import create_app

    folder = tmp_path_factory.mktemp("browser")
    engine = build_engine(f"sqlite:///{folder / 'crm.sqlite3'}", must_exist=False)
    migrate(engine)
    with Session(engine) as session, session.begin():
        seeded = _seed(session)
    export_dir = folder / "corrections"
    app = create_app(engine, export_dir=export_dir)
    app.state.rasa_url = DEAD_RASA
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"the web app did not start on port {PORT}")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{PORT}", export_dir, seeded["ids"], seeded["staff"])
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if playwright_api is None:
        pytest.skip("Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages, each in its own context (cookies, storage, locale)."""
    contexts = []

    def make(
        locale: str = "en-US",
        width: int = 1280,
        height: int = 800,
        mobile: bool = False,
    ) -> Any:
        context = browser.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.dialogs = []  # type: ignore[attr-defined]
        page.on(
            "dialog",
            lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()),
        )
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def log_in(page: Any, site: Site, role: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("Email").fill(site.staff[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/inbox")
