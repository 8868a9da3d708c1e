"""The load generator's pieces that need no trained bot: options, scripts, figures,
the nothing-lost check on both backends, and whole runs against a stand-in for Rasa's
REST and socket.io channels that writes Rasa-style events to a real database."""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from benchmarks.load import (
    Channel,
    LoadError,
    Options,
    Run,
    Sent,
    Target,
    check,
    load_targets,
    loopback_url,
    nothing_lost,
    percentile,
    run_load,
    script,
    summarise,
)
from benchmarks.load_scripts import simultaneous_pairs
from crm import queries
from crm.db import build_engine, migrate
from crm.ingest import ingest_batch, rasa_events
from crm.models import Message
from tests import factories

# --- options and scripts --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5005/",
        "http://localhost:17005",
        "http://[::1]:17005",
        "https://127.8.9.10",
    ],
)
def test_loopback_urls_are_accepted(url: str) -> None:
    assert loopback_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.8:5005",
        "http://0.0.0.0:5005",
        "http://rasa.example.com",
        "http://localhost.evil.example",
        "ftp://127.0.0.1",
        "127.0.0.1:5005",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(LoadError):
        loopback_url(url)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("conversations", 0, "--conversations"),
        ("conversations", 1001, "--conversations"),
        ("duration_seconds", 0, "--duration-seconds"),
        ("messages_per_conversation", 0, "--messages-per-conversation"),
        ("max_messages", 100_001, "--max-messages"),
        ("timeout", 0, "--timeout"),
        ("ramp_seconds", -1, "--ramp-seconds"),
        ("base_urls", (), "--base-url"),
        ("base_urls", ("http://127.0.0.1:1", "http://192.168.1.2:2"), "loopback"),
    ],
)
def test_unbounded_options_are_refused(field: str, value: Any, message: str) -> None:
    options: dict[str, Any] = {"base_urls": ("http://127.0.0.1:5005",)}
    with pytest.raises(LoadError, match=message):
        Options(**(options | {field: value}))


TARGET = Target(order_number="A1000042", customer_id=7, language="zh")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_script_asks_about_the_order_and_gives_feedback(language: str) -> None:
    turns = script(TARGET, rng=random.Random(1), language=language, ask_human=True)

    texts = [t.text for t in turns]
    assert len(turns) == 6
    assert "A1000042" in texts[1]
    rated = [i for i, t in enumerate(turns) if t.rating is not None]
    assert rated == [3]  # the comment completes the feedback form
    assert texts[2] == f'/give_feedback{{"rating": {turns[3].rating}}}'
    human = texts[4]
    assert (
        ("人工" in human)
        if language == "zh"
        else ("human" in human or "person" in human)
    )


def test_scripts_pad_trim_and_repeat_with_the_seed() -> None:
    def make(seed: int, messages: int | None) -> list[str]:
        rng = random.Random(seed)
        return [
            t.text for t in script(TARGET, rng=rng, language="en", messages=messages)
        ]

    assert len(make(1, 9)) == 9
    assert sum("A1000042" in text for text in make(1, 9)) == 5
    assert make(1, 9)[-3].startswith("/give_feedback")
    assert len(make(1, 2)) == 2
    assert make(3, None) == make(3, None)
    assert len(make(3, None)) == 5  # without a human request


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([], 50) == 0.0
    assert percentile([3.0], 99) == 3.0


# --- the CRM side, on both backends ---------------------------------------------------


def test_targets_are_real_orders_of_customers_not_erased(session: Session) -> None:
    live = factories.customer(session, language="zh")
    gone = factories.customer(session, erased_at=factories.NOW)
    mine = {factories.order(session, live).number for _ in range(3)}
    factories.order(session, gone)

    targets = load_targets(session, count=50, seed=1)

    assert mine <= {t.order_number for t in targets}
    assert gone.id not in {t.customer_id for t in targets}
    assert {t.language for t in targets if t.customer_id == live.id} == {"zh"}


def test_no_orders_is_a_clear_error(tmp_path: Path) -> None:
    engine = _fresh_sqlite(tmp_path)
    with Session(engine) as session, pytest.raises(LoadError, match="crm seed"):
        load_targets(session, count=5, seed=1)


def _log(session: Session, sender: str, texts: list[str]) -> None:
    rasa_events.create(session.connection(), checkfirst=True)
    session.execute(
        insert(rasa_events),
        [
            {
                "sender_id": sender,
                "type_name": "user",
                "timestamp": 1_790_000_000.0 + i,
                "data": json.dumps(
                    {"event": "user", "text": t, "timestamp": 1_790_000_000.0 + i}
                ),
            }
            for i, t in enumerate(texts)
        ],
    )
    ingest_batch(session)


def _feedback(session: Session, sender: str, rating: int) -> None:
    queries.save_feedback(
        session=session,
        sender_id=sender,
        rating=rating,
        text=None,
        intent="give_feedback",
        sentiment=None,
        sentiment_score=None,
        confidence=1.0,
        language="en",
    )


def _sent(sender: str, text: str, ok: bool = True, rating: int | None = None) -> Sent:
    return Sent(sender, text, rating, ok=ok, latency=0.01)


def test_the_check_counts_what_was_logged(session: Session) -> None:
    feedback = '/give_feedback{"rating": 4}'
    _log(session, "load-a", ["hi", "where is A1000042?", feedback])
    _log(session, "load-b", ["你好"])
    _feedback(session, "load-a", 4)
    sent = [
        _sent("load-a", "hi"),
        _sent("load-a", "where is A1000042?"),
        _sent("load-a", feedback, rating=4),
        _sent("load-b", "你好"),
        _sent("load-b", "timed out, maybe never processed", ok=False),
    ]

    counts = nothing_lost(session, sent)

    assert counts["ok"] is True
    assert (counts["user_messages_sent"], counts["user_messages_logged"]) == (4, 4)
    assert (counts["feedback_given"], counts["feedback_stored"]) == (1, 1)


def test_the_check_fails_on_a_lost_message_or_feedback(session: Session) -> None:
    _log(session, "load-c", ["hi"])
    sent = [
        _sent("load-c", "hi"),
        _sent("load-c", "hi"),  # sent twice, logged once
        _sent("load-c", '/give_feedback{"rating": 2}', rating=2),
    ]

    counts = nothing_lost(session, sent)

    assert counts["ok"] is False
    assert (counts["user_messages_sent"], counts["user_messages_logged"]) == (3, 1)
    assert (counts["feedback_given"], counts["feedback_stored"]) == (1, 0)
    assert ["load-c", "hi"] in counts["missing_examples"]


# --- whole runs against a stand-in Rasa -----------------------------------------------

FEEDBACK = re.compile(r'^/give_feedback\{"rating": (\d)\}$')


def _fresh_sqlite(tmp_path: Path) -> Engine:
    engine = build_engine(f"sqlite:///{tmp_path / 'crm.sqlite3'}", must_exist=False)
    migrate(engine)
    return engine


class FakeRasa:
    """Rasa's two channels as the load generator sees them: each user message (and
    a bot reply) written to the `events` table, each feedback saved by the "action".
    `lose` names user texts it acknowledges but never writes, `hang_up` texts on
    which socket.io drops the connection instead of answering."""

    def __init__(
        self,
        engine: Engine,
        lose: frozenset[str] = frozenset(),
        hang_up: frozenset[str] = frozenset(),
    ) -> None:
        self.engine, self.lose, self.hang_up = engine, lose, hang_up
        self.rating: dict[str, int] = {}  # the feedback form's rating slot
        self.seen: list[str] = []  # sender ids, one per message handled
        rasa_events.create(engine, checkfirst=True)

    def handle(self, sender: str, text: str) -> list[dict[str, str]]:
        self.seen.append(sender)
        reply = {"recipient_id": sender, "text": f"echo: {text}"}
        if text in self.lose:
            return [reply]
        now = time.time()
        with Session(self.engine) as session, session.begin():
            session.execute(
                insert(rasa_events),
                [
                    {
                        "sender_id": sender,
                        "type_name": kind,
                        "timestamp": now,
                        "data": json.dumps(
                            {"event": kind, "text": t, "timestamp": now}
                        ),
                    }
                    for kind, t in (("user", text), ("bot", reply["text"]))
                ],
            )
            found = FEEDBACK.match(text)
            if found:
                self.rating[sender] = int(found.group(1))
            elif sender in self.rating:  # the comment completes the form
                _feedback(session, sender, self.rating.pop(sender))
        return [reply]


def _free_port() -> int:
    for port in range(17040, 17100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 17040-17099")


@asynccontextmanager
async def serving(fake: FakeRasa) -> AsyncIterator[str]:
    """The stand-in on a loopback port of our range (REST and socket.io)."""
    web = pytest.importorskip("aiohttp.web")
    socketio = pytest.importorskip("socketio")
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)

    async def rest(request: Any) -> Any:
        body = await request.json()
        return web.json_response(fake.handle(body["sender"], body["message"]))

    @sio.on("session_request")
    async def session_request(sid: str, data: dict[str, Any]) -> None:
        await sio.enter_room(sid, data["session_id"])
        await sio.emit("session_confirm", data["session_id"], room=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: dict[str, Any]) -> None:
        if data["message"] in fake.hang_up:
            await sio.disconnect(sid)
            return
        for reply in fake.handle(data["session_id"], data["message"]):
            await sio.emit("bot_uttered", reply, room=data["session_id"])

    async def tracker(request: Any) -> Any:
        table = rasa_events
        with Session(fake.engine) as session:
            rows = session.scalars(
                select(table.c.data)
                .where(table.c.sender_id == request.match_info["sender"])
                .order_by(table.c.id)
            )
            return web.json_response({"events": [json.loads(r) for r in rows]})

    app.router.add_post("/webhooks/rest/webhook", rest)
    app.router.add_get("/conversations/{sender}/tracker", tracker)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _run(engine: Engine, fake: FakeRasa, **options: Any) -> tuple[Run, float]:
    with Session(engine) as session:
        targets = load_targets(session, count=10, seed=3)

    async def go() -> tuple[Run, float]:
        async with serving(fake) as url:
            return await run_load(Options(base_urls=(url,), **options), targets)

    return asyncio.run(go())


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Engine]:
    """A committed SQLite CRM with a few orders (the stand-in writes to it)."""
    engine = _fresh_sqlite(tmp_path)
    with Session(engine) as session, session.begin():
        for language in ("en", "zh", "zh", "en"):
            owner = factories.customer(session, language=language)
            factories.order(session, owner)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("channel", [Channel.rest, Channel.socketio])
def test_a_run_reports_figures_and_loses_nothing(
    shop: Engine, channel: Channel
) -> None:
    run, elapsed = _run(shop, FakeRasa(shop), channel=channel, conversations=6)

    report = summarise(run, elapsed, database="sqlite")
    counts = check(shop, run)

    assert report["errors"] == 0, report["error_kinds"]
    assert report["conversations_started"] == 6
    assert 30 <= report["messages"] <= 36
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
    assert report["messages_per_s"] > 0
    assert all(s.replies == 1 for s in run.sent)
    assert counts["ok"] is True
    assert counts["user_messages_logged"] == report["messages"]
    assert counts["feedback_stored"] == report["feedback_given"] == 6


def test_paced_conversations_pause_between_turns(shop: Engine) -> None:
    run, elapsed = _run(
        shop,
        FakeRasa(shop),
        conversations=2,
        messages_per_conversation=3,
        think_seconds=0.2,
    )

    report = summarise(run, elapsed, database="sqlite")
    assert report["think_seconds"] == 0.2
    assert report["messages"] == 6
    assert elapsed >= 3 * 0.2  # each conversation pauses after each of its turns


def test_a_run_bounded_by_time_keeps_conversations_coming(shop: Engine) -> None:
    run, elapsed = _run(
        shop,
        FakeRasa(shop),
        conversations=3,
        duration_seconds=1.0,
        messages_per_conversation=3,
    )

    assert 1.0 <= elapsed < 5
    assert run.conversations_started > 3
    assert check(shop, run)["ok"] is True


def test_a_lost_message_fails_the_check(shop: Engine) -> None:
    lost = frozenset(text for lang in ("en", "zh") for text in _greetings(lang))
    run, _ = _run(shop, FakeRasa(shop, lose=lost), conversations=4)

    counts = check(shop, run)

    assert counts["ok"] is False
    assert counts["user_messages_sent"] - counts["user_messages_logged"] == 4
    with Session(shop) as session:
        logged = session.scalar(select(func.count()).select_from(Message))
    assert logged == 2 * counts["user_messages_logged"]  # user + bot each


def test_errors_are_counted_not_fatal(shop: Engine) -> None:
    with Session(shop) as session:
        targets = load_targets(session, count=2, seed=3)
    options = Options(
        base_urls=(f"http://127.0.0.1:{_free_port()}",), conversations=2, timeout=2
    )

    run, _ = asyncio.run(run_load(options, targets))

    report = summarise(run, 1.0, database="sqlite")
    assert report["messages"] == 0
    assert report["errors"] == len(run.sent) > 0
    assert set(report["error_kinds"]) == {"ConnectError"}


def _greetings(language: str) -> list[str]:
    from benchmarks.load import PHRASES

    return PHRASES[language]["greet"]


def test_a_dropped_socket_fails_that_conversation_at_once(shop: Engine) -> None:
    started = time.monotonic()
    hang_up = frozenset(_greetings("en") + _greetings("zh"))
    run, _ = _run(
        shop, FakeRasa(shop, hang_up=hang_up), channel=Channel.socketio, conversations=3
    )

    assert time.monotonic() - started < 10  # not the 30 s acknowledgement timeout
    assert [(s.ok, s.error) for s in run.sent] == [(False, "ConnectionError")] * 3
    assert check(shop, run)["ok"] is True  # nothing acknowledged, nothing expected


def test_rest_messages_alternate_between_servers(shop: Engine) -> None:
    one, two = FakeRasa(shop), FakeRasa(shop)
    with Session(shop) as session:
        targets = load_targets(session, count=4, seed=3)

    async def go() -> tuple[Run, float]:
        async with serving(one) as first, serving(two) as second:
            options = Options(base_urls=(first, second), conversations=4)
            return await run_load(options, targets)

    run, _ = asyncio.run(go())

    assert len(one.seen) + len(two.seen) == len(run.sent) > 0
    for sender in {s.sender_id for s in run.sent}:
        turns = [s for s in run.sent if s.sender_id == sender]
        assert abs(one.seen.count(sender) - two.seen.count(sender)) <= 1
        assert len(turns) == one.seen.count(sender) + two.seen.count(sender)
    assert check(shop, run)["ok"] is True


@pytest.mark.parametrize(
    ("lose", "missing"), [(frozenset(), 0), (frozenset({"hello"}), 3)]
)
def test_the_pairs_probe_finds_lost_messages(
    shop: Engine, lose: frozenset[str], missing: int
) -> None:
    one, two = FakeRasa(shop, lose=lose), FakeRasa(shop, lose=lose)

    async def go() -> dict[str, Any]:
        async with serving(one) as first, serving(two) as second:
            return await simultaneous_pairs((first, second), pairs=3, timeout=10)

    result = asyncio.run(go())

    assert (result["conversations_missing_a_message"], result["errors"]) == (missing, 0)
    assert len(one.seen) == len(two.seen) == 3
