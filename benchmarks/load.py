"""Load generator: many concurrent bilingual conversations against a running Rasa,
through the REST or the socket.io channel, then a "nothing lost" check.

Each conversation is a realistic script: a greeting, an order-status question with a
real order number from the CRM, a feedback rating (`/give_feedback{"rating": n}`, as
the rating buttons send it) and the comment the feedback form then asks for,
sometimes a request for a human, a goodbye; about half come from a "logged-in"
widget that sends a signed customer id. The run is bounded: at most
`MAX_CONVERSATIONS` at once, `MAX_MESSAGES` in all, no new message after the
duration, every request with a timeout, and only loopback hosts.

It prints one JSON line (messages/s, p50/p95/p99 latency, errors), ingests the
conversation log (`crm ingest`), and prints a second JSON line with the counts:
every acknowledged user message must be in `messages` and every acknowledged feedback
in `feedback`; otherwise it exits 1.

    python -m benchmarks.load --base-url http://127.0.0.1:5005 --conversations 10
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from math import ceil
from typing import Annotated, Any, Protocol
from urllib.parse import urlsplit

import httpx
import typer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crm.models import Conversation, Customer, Feedback, Message, Order

logger = logging.getLogger(__name__)

MAX_CONVERSATIONS = 1000
MAX_MESSAGES = 100_000
REST_PATH = "/webhooks/rest/webhook"
CHUNK = 500


class LoadError(ValueError):
    """Bad options or an unusable CRM: said in one line."""


# --- what to say ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A real order and its owner, read from the CRM."""

    order_number: str
    customer_id: int
    language: str


@dataclass(frozen=True)
class Turn:
    text: str
    rating: int | None = None
    """Set on the turn that completes a feedback (the comment after the rating): once
    it is acknowledged, a feedback row with this rating must exist."""


PHRASES: dict[str, dict[str, list[str]]] = {
    "en": {
        "greet": ["hi", "hello there", "good morning", "hey, are you there?"],
        "order": [
            "where is my order {n}?",
            "can you check the status of order {n}",
            "has {n} shipped yet?",
            "order {n} still hasn't arrived, where is it",
        ],
        "again": ["and what about {n}?", "check {n} once more please"],
        "comment": [
            "quick and helpful",
            "very helpful, thank you",
            "took a while but it's sorted",
            "fine, thanks",
        ],
        "human": ["can I talk to a human agent please", "I want a real person"],
        "bye": ["thanks, bye", "ok thank you", "great, goodbye"],
    },
    "zh": {
        "greet": ["你好", "您好，在吗", "早上好"],
        "order": [
            "我的订单{n}到哪了？",
            "帮我查一下订单{n}的物流",
            "{n}发货了吗",
            "订单{n}怎么还没到",
        ],
        "again": ["再帮我查一下{n}", "{n}现在到哪了"],
        "comment": ["回复很快，谢谢", "还不错", "有点慢，但解决了", "很满意"],
        "human": ["我要转人工客服", "帮我转人工"],
        "bye": ["谢谢，再见", "好的，谢谢", "再见"],
    },
}


def script(
    target: Target,
    *,
    rng: random.Random,
    language: str,
    messages: int | None = None,
    ask_human: bool = False,
) -> list[Turn]:
    """One conversation's user turns; `messages` pads or trims it to that length."""
    say = PHRASES[language]
    number = target.order_number
    rating = rng.randint(1, 5)
    head = [
        Turn(rng.choice(say["greet"])),
        Turn(rng.choice(say["order"]).format(n=number)),
    ]
    tail = [  # the rating button's payload, then the comment the form asks for
        Turn(f'/give_feedback{{"rating": {rating}}}'),
        Turn(rng.choice(say["comment"]), rating=rating),
    ]
    if ask_human:
        tail.append(Turn(rng.choice(say["human"])))
    tail.append(Turn(rng.choice(say["bye"])))
    if messages is None:
        return head + tail
    extra = [
        Turn(rng.choice(say["again"]).format(n=number))
        for _ in range(max(0, messages - len(head) - len(tail)))
    ]
    return (head + extra + tail)[:messages]


def load_targets(session: Session, *, count: int, seed: int) -> list[Target]:
    """Up to `count` real orders of customers who are not erased, sampled."""
    rows = session.execute(
        select(Order.number, Order.customer_id, Customer.language)
        .join(Customer, Customer.id == Order.customer_id)
        .where(Customer.erased_at.is_(None))
        .order_by(Order.id)
        .limit(max(count, 1) * 20)
    ).all()
    if not rows:
        raise LoadError("the CRM has no orders; run `crm seed` first")
    rng = random.Random(seed)
    picked = rng.sample(rows, min(count, len(rows)))
    return [Target(n, c, lang if lang in PHRASES else "en") for n, c, lang in picked]


def signed_metadata(customer_id: int) -> dict[str, Any]:
    """What a logged-in widget sends: the customer id signed by the website."""
    from crm.signing import sign_customer

    signed = sign_customer(customer_id)
    return {
        "customer_id": signed.customer_id,
        "timestamp": signed.timestamp,
        "signature": signed.signature,
    }


# --- options --------------------------------------------------------------------------


class Channel(str, Enum):
    rest = "rest"
    socketio = "socketio"


@dataclass(frozen=True)
class Options:
    base_urls: tuple[str, ...]
    """One Rasa server, or several sharing a tracker and lock store: REST messages
    alternate between them, each socket.io conversation stays on one."""
    channel: Channel = Channel.rest
    conversations: int = 10
    duration_seconds: float | None = None
    messages_per_conversation: int | None = None
    timeout: float = 30.0
    think_seconds: float = 0.0
    ramp_seconds: float = 0.0
    max_messages: int = 20_000
    human_share: float = 0.2
    signed_share: float = 0.5
    seed: int = 7

    def __post_init__(self) -> None:
        if not 1 <= len(self.base_urls) <= 16:
            raise LoadError("give 1 to 16 --base-url")
        urls = tuple(loopback_url(url) for url in self.base_urls)
        object.__setattr__(self, "base_urls", urls)
        if not 1 <= self.conversations <= MAX_CONVERSATIONS:
            raise LoadError(f"--conversations must be 1..{MAX_CONVERSATIONS}")
        if not 1 <= self.max_messages <= MAX_MESSAGES:
            raise LoadError(f"--max-messages must be 1..{MAX_MESSAGES}")
        if self.duration_seconds is not None and not 0 < self.duration_seconds <= 3600:
            raise LoadError("--duration-seconds must be in (0, 3600]")
        if self.messages_per_conversation is not None and not (
            1 <= self.messages_per_conversation <= 100
        ):
            raise LoadError("--messages-per-conversation must be 1..100")
        if not 0 < self.timeout <= 300:
            raise LoadError("--timeout must be in (0, 300]")
        if not 0 <= self.ramp_seconds <= 600:
            raise LoadError("--ramp-seconds must be in [0, 600]")


def loopback_url(url: str) -> str:
    """`url` without a trailing slash if it is http(s) on a loopback host; else
    LoadError: this tool must never load anybody else's server."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadError(f"{url!r} is not an http URL like http://127.0.0.1:5005")
    host = parts.hostname
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise LoadError(f"refusing to load {host!r}: only loopback hosts are allowed")
    return url.strip().rstrip("/")


# --- channels -------------------------------------------------------------------------


class ChatChannel(Protocol):
    """One conversation's connection to Rasa."""

    @property
    def alive(self) -> bool: ...

    async def say(self, text: str, metadata: dict[str, Any] | None) -> int: ...

    async def close(self) -> None: ...


class RestConversation:
    """One conversation over Rasa's REST webhook (shares the run's HTTP client)."""

    alive = True

    def __init__(
        self, client: httpx.AsyncClient, urls: list[str], sender: str, first: int = 0
    ) -> None:
        self.client, self.urls, self.sender = client, urls, sender
        self.turn = first

    async def say(self, text: str, metadata: dict[str, Any] | None) -> int:
        """Send one message (to the next server in turn); the number of bot replies."""
        body: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        reply = await self.client.post(url, json=body)
        reply.raise_for_status()
        return len(reply.json())

    async def close(self) -> None:
        return None


class SocketIOConversation:
    """One conversation over Rasa's socket.io channel, as the web widget holds it:
    a session request, then each message emitted with an acknowledgement, which
    Rasa's handler sends after it has processed the message and emitted replies."""

    def __init__(self, url: str, sender: str, timeout: float) -> None:
        import socketio  # python-socketio[asyncio_client]

        self.url, self.sender, self.timeout = url, sender, timeout
        self.client = socketio.AsyncClient(reconnection=False, request_timeout=timeout)
        self.replies = 0
        self.confirmed, self.gone = asyncio.Event(), asyncio.Event()
        self.client.on("bot_uttered", self._on_reply)
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("disconnect", self._on_disconnect)

    async def _on_reply(self, _data: Any) -> None:
        self.replies += 1

    async def _on_confirm(self, _data: Any) -> None:
        self.confirmed.set()

    async def _on_disconnect(self, *_reason: Any) -> None:
        self.gone.set()

    @property
    def alive(self) -> bool:
        return not self.gone.is_set()

    async def open(self) -> None:
        await self.client.connect(
            self.url, transports=["websocket"], wait_timeout=self.timeout
        )
        await self.client.emit("session_request", {"session_id": self.sender})
        await asyncio.wait_for(self.confirmed.wait(), self.timeout)

    async def say(self, text: str, metadata: dict[str, Any] | None) -> int:
        before = self.replies
        data: dict[str, Any] = {"message": text, "session_id": self.sender}
        if metadata:
            data["metadata"] = metadata
        call = asyncio.ensure_future(
            self.client.call("user_uttered", data, timeout=self.timeout)
        )
        gone = asyncio.ensure_future(self.gone.wait())
        done, _ = await asyncio.wait({call, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if call not in done:  # no acknowledgement will come: fail now, not at timeout
            call.cancel()
            raise ConnectionError("the socket.io connection was closed")
        call.result()
        return self.replies - before

    async def close(self) -> None:
        await self.client.disconnect()


# --- running --------------------------------------------------------------------------


@dataclass
class Sent:
    sender_id: str
    text: str
    rating: int | None
    ok: bool
    latency: float
    replies: int = 0
    error: str | None = None


@dataclass
class Run:
    options: Options
    targets: list[Target]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    sent: list[Sent] = field(default_factory=list)
    conversations_started: int = 0
    deadline: float = 0.0

    def budget_left(self) -> bool:
        return len(self.sent) < self.options.max_messages and (
            not self.options.duration_seconds or time.monotonic() < self.deadline
        )


async def run_load(options: Options, targets: list[Target]) -> tuple[Run, float]:
    """Drive the conversations; the run (every message sent) and seconds taken."""
    if not targets:
        raise LoadError("no targets to talk about")
    run = Run(options, targets)
    limits = httpx.Limits(max_connections=options.conversations + 5)
    async with httpx.AsyncClient(timeout=options.timeout, limits=limits) as client:
        started = time.monotonic()
        run.deadline = started + (options.duration_seconds or 0)
        await asyncio.gather(
            *(_slot(run, client, slot) for slot in range(options.conversations))
        )
        elapsed = time.monotonic() - started
    return run, elapsed


async def _slot(run: Run, client: httpx.AsyncClient, slot: int) -> None:
    """One concurrent conversation slot: a conversation, or back to back until the
    duration is over."""
    rng = random.Random(f"{run.options.seed}-{slot}")
    await asyncio.sleep(run.options.ramp_seconds * slot / run.options.conversations)
    number = 0
    while run.budget_left():
        sender = f"load-{run.run_id}-{slot:03d}-{number:04d}"
        target = run.targets[(slot + number * 7) % len(run.targets)]
        run.conversations_started += 1
        await _conversation(run, client, sender, target, rng)
        number += 1
        if not run.options.duration_seconds:
            return


async def _conversation(
    run: Run,
    client: httpx.AsyncClient,
    sender: str,
    target: Target,
    rng: random.Random,
) -> None:
    options = run.options
    language = target.language if rng.random() < 0.7 else rng.choice(["en", "zh"])
    turns = script(
        target,
        rng=rng,
        language=language,
        messages=options.messages_per_conversation,
        ask_human=rng.random() < options.human_share,
    )
    metadata = (
        signed_metadata(target.customer_id)
        if rng.random() < options.signed_share
        else None
    )
    channel = await _open(run, client, sender)
    if channel is None:
        return
    try:
        for turn in turns:
            if not (run.budget_left() and channel.alive):
                return
            await _send(run, channel, sender, turn, metadata)
            if options.think_seconds:
                await asyncio.sleep(options.think_seconds)
    finally:
        await _quietly(channel.close())


async def _open(run: Run, client: httpx.AsyncClient, sender: str) -> ChatChannel | None:
    options = run.options
    servers = options.base_urls
    first = run.conversations_started % len(servers)
    if options.channel is Channel.rest:
        urls = [url + REST_PATH for url in servers]
        return RestConversation(client, urls, sender, first)
    channel = SocketIOConversation(servers[first], sender, options.timeout)
    started = time.monotonic()
    try:
        await channel.open()
    except Exception as error:  # counted as a failed message, the run goes on
        run.sent.append(
            Sent(sender, "", None, False, time.monotonic() - started, 0, _kind(error))
        )
        await _quietly(channel.close())
        return None
    return channel


async def _send(
    run: Run,
    channel: ChatChannel,
    sender: str,
    turn: Turn,
    metadata: dict[str, Any] | None,
) -> None:
    sent = Sent(sender, turn.text, turn.rating, ok=False, latency=0.0)
    started = time.monotonic()
    try:
        sent.replies = await asyncio.wait_for(
            channel.say(turn.text, metadata), run.options.timeout + 1
        )
        sent.ok = True
    except Exception as error:  # every failure is counted, none stops the run
        sent.error = _kind(error)
    sent.latency = time.monotonic() - started
    run.sent.append(sent)


def _kind(error: BaseException) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"http_{error.response.status_code}"
    return type(error).__name__


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as error:
        logger.debug("ignored while closing: %s", error)


# --- figures --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q` percentile (0 < q <= 100) of `values`; 0 if empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, ceil(q / 100 * len(ordered)) - 1)]


def summarise(run: Run, elapsed: float, *, database: str) -> dict[str, Any]:
    """The run's one-line report."""
    ok = [s.latency * 1000 for s in run.sent if s.ok]
    errors = Counter(s.error for s in run.sent if not s.ok)
    return {
        "benchmark": "load",
        "channel": run.options.channel.value,
        "database": database,
        "servers": len(run.options.base_urls),
        "conversations": run.options.conversations,
        "think_seconds": run.options.think_seconds,
        "conversations_started": run.conversations_started,
        "seconds": round(elapsed, 2),
        "messages": len(ok),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "messages_per_s": round(len(ok) / elapsed, 2) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(ok, 50), 1),
        "p95_ms": round(percentile(ok, 95), 1),
        "p99_ms": round(percentile(ok, 99), 1),
        "max_ms": round(max(ok, default=0.0), 1),
        "bot_replies": sum(s.replies for s in run.sent if s.ok),
        "feedback_given": sum(1 for s in run.sent if s.ok and s.rating is not None),
    }


# --- nothing lost ---------------------------------------------------------------------


def nothing_lost(session: Session, sent: Iterable[Sent]) -> dict[str, Any]:
    """Compare what was acknowledged with the conversation log and feedback table."""
    acked = [s for s in sent if s.ok]
    senders = sorted({s.sender_id for s in acked})
    expected = Counter((s.sender_id, s.text) for s in acked)
    given: Counter[tuple[str, int | None]] = Counter(
        (s.sender_id, s.rating) for s in acked if s.rating is not None
    )
    logged: Counter[tuple[str, str]] = Counter()
    stored: Counter[tuple[str, int | None]] = Counter()
    for chunk in _chunks(senders):
        logged.update(
            (sender, text)
            for sender, text in session.execute(
                select(Conversation.sender_id, Message.text)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Message.sender == "user", Conversation.sender_id.in_(chunk))
            )
        )
        stored.update(
            (sender, rating)
            for sender, rating in session.execute(
                select(Conversation.sender_id, Feedback.rating)
                .join(Feedback, Feedback.conversation_id == Conversation.id)
                .where(Conversation.sender_id.in_(chunk))
            )
        )
    missing, missing_feedback = expected - logged, given - stored
    return {
        "check": "nothing_lost",
        "user_messages_sent": sum(expected.values()),
        "user_messages_logged": sum((expected & logged).values()),
        "feedback_given": sum(given.values()),
        "feedback_stored": sum((given & stored).values()),
        "missing_examples": [list(k) for k in list(missing)[:5]],
        "ok": not missing and not missing_feedback,
    }


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def check(engine: Engine, run: Run) -> dict[str, Any]:
    """Ingest Rasa's new events, then count (`crm ingest` followed by the check)."""
    from crm.ingest import ingest

    ingest(engine)
    with Session(engine) as session:
        return nothing_lost(session, run.sent)


# --- command line ---------------------------------------------------------------------


app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    base_url: Annotated[
        list[str] | None,
        typer.Option(help="Rasa server, loopback only; repeat for several."),
    ] = None,
    channel: Annotated[Channel, typer.Option(help="rest or socketio.")] = Channel.rest,
    conversations: Annotated[int, typer.Option(help="Concurrent conversations.")] = 10,
    duration_seconds: Annotated[
        float | None,
        typer.Option(help="Keep conversations going this long (else one each)."),
    ] = None,
    messages_per_conversation: Annotated[
        int | None, typer.Option(help="Pad or trim each script to this length.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per message.")] = 30.0,
    think_seconds: Annotated[float, typer.Option(help="Pause between turns.")] = 0.0,
    ramp_seconds: Annotated[
        float, typer.Option(help="Spread the conversations' starts over this long.")
    ] = 0.0,
    max_messages: Annotated[int, typer.Option(help="Stop after this many.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Same seed, same scripts.")] = 7,
    check_log: Annotated[
        bool, typer.Option("--check/--no-check", help="Run the nothing-lost check.")
    ] = True,
) -> None:
    """Drive concurrent conversations; print the figures and the nothing-lost counts."""
    from crm.db import DatabaseError, check_schema, describe, get_engine
    from crm.ingest import ingest

    try:
        options = Options(
            base_urls=tuple(base_url or ["http://127.0.0.1:5005"]),
            channel=channel,
            conversations=conversations,
            duration_seconds=duration_seconds,
            messages_per_conversation=messages_per_conversation,
            timeout=timeout,
            think_seconds=think_seconds,
            ramp_seconds=ramp_seconds,
            max_messages=max_messages,
            seed=seed,
        )
        engine = get_engine()
        check_schema(engine)
        ingest(engine)  # so the check later reads only this run's events
        with Session(engine) as session:
            targets = load_targets(session, count=conversations, seed=seed)
    except (LoadError, DatabaseError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    run, elapsed = asyncio.run(run_load(options, targets))
    database = engine.url.get_backend_name()
    typer.echo(json.dumps(summarise(run, elapsed, database=database)))
    if not check_log:
        return
    counts = check(engine, run)
    typer.echo(json.dumps(counts, ensure_ascii=False))
    if not counts["ok"]:
        typer.echo(f"error: messages or feedback lost ({describe(engine)})", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    app()
