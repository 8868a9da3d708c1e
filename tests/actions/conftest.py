"""Action tests: real rasa-sdk Trackers and CollectingDispatchers, actions run the
way the action server runs them, against the real test database (rolled back)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import common
from crm.settings import ROOT
from tests.factories import NOW

DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text())


@pytest.fixture
def crm(session: Session) -> Iterator[Session]:
    """Actions use the test session; each of their transactions is a savepoint."""

    @contextmanager
    def scope() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    with common.sessions_from(scope):
        yield session


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The actions' today is the factories' NOW, so their dates mean the same
    whenever the tests run (an order due Nov 4 is on time, not late)."""
    monkeypatch.setattr(common, "today", lambda: NOW.date())


@pytest.fixture
def crm_down() -> Iterator[None]:
    """Actions see a database that refuses connections (nothing listens there)."""
    from sqlalchemy.orm import sessionmaker

    from crm.db import build_engine

    engine = build_engine("postgresql+psycopg://kefu@127.0.0.1:9/unreachable")
    with common.sessions_from(sessionmaker(engine).begin):
        yield
    engine.dispose()


def slots(**values: Any) -> dict[str, Any]:
    """Every domain slot at its initial value, then `values`."""
    current = {
        name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()
    }
    current["requested_slot"] = None
    current["session_started_metadata"] = None
    return current | values


def make_tracker(
    *,
    sender: str = "test-sender",
    text: str = "hello",
    intent: str = "greet",
    entities: dict[str, Any] | None = None,
    sentiment: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    response_selector: dict[str, Any] | None = None,
    extracted: dict[str, Any] | None = None,
    activating: str | None = None,
    **slot_values: Any,
) -> Tracker:
    """A tracker whose latest event is the user message described.

    `extracted` are slots Rasa filled from that message (events after it), which
    is what a form's validation action validates; `activating` names the form this
    message starts.
    """
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95},
        "entities": [
            {"entity": name, "value": value} for name, value in (entities or {}).items()
        ],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.95}],
    }
    if sentiment is not None:
        parse["sentiment"] = sentiment
    if response_selector is not None:
        parse["response_selector"] = response_selector
    user = {
        "event": "user",
        "timestamp": 1_790_000_000.0,
        "text": text,
        "parse_data": parse,
        "metadata": metadata or {},
    }
    filled = [slot_event(name, value) for name, value in (extracted or {}).items()]
    if activating:
        # as Rasa starts a form: the ActiveLoop event, then the prefilled slots
        active_loop = activating
        filled.insert(
            0, {"event": "active_loop", "timestamp": None, "name": activating}
        )
    return Tracker(
        sender,
        slots(**slot_values) | (extracted or {}),
        parse,
        [*(history or []), user, *filled],
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def tracker_for(customer_id: int, **kwargs: Any) -> Tracker:
    """A tracker of the verified customer `customer_id` (see `make_tracker`)."""
    return make_tracker(verified=True, customer_id=customer_id, **kwargs)


def answer(
    customer_id: int,
    intent: str,
    pending: dict[str, Any],
    *,
    text: str | None = None,
    meanwhile: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Tracker:
    """The verified customer's reply to the question `pending`, just asked, or
    asked before the `meanwhile` events: yes (`affirm`), no (`deny`), or `text`."""
    return tracker_for(
        customer_id,
        text=text or ("yes" if intent == "affirm" else "no"),
        intent=intent,
        pending_confirmation=pending,
        awaiting_confirmation=True,
        history=[slot_event("pending_confirmation", pending), *(meanwhile or [])],
        **kwargs,
    )


def run(
    action: Action, tracker: Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run `action` as the action server does; return (events, messages)."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, DOMAIN)
    events = asyncio.run(result) if inspect.isawaitable(result) else result
    return list(events or []), dispatcher.messages


def bot_event(utter_action: str | None, text: str = "…", **metadata: Any) -> dict:
    """A past bot message in the tracker's events."""
    meta = dict(metadata)
    if utter_action:
        meta["utter_action"] = utter_action
    return {
        "event": "bot",
        "timestamp": 1_789_999_990.0,
        "text": text,
        "metadata": meta,
    }


def user_event(text: str, intent: str, **parse: Any) -> dict:
    return {
        "event": "user",
        "timestamp": 1_789_999_980.0,
        "text": text,
        "parse_data": {"intent": {"name": intent}, **parse},
        "metadata": {},
    }


def slot_event(name: str, value: Any) -> dict:
    return {"event": "slot", "timestamp": 1_789_999_991.0, "name": name, "value": value}
