"""The atomic Redis lock store against the real Redis on 127.0.0.1:6379: never two
holders of a conversation at once, tickets served first come first served.

Run as a script to compare it with Rasa's own RedisLockStore on simultaneous pairs:
`python -m bot.tests.test_lock_store`.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.lock_store import AtomicRedisLockStore

HOST, PORT, DB = "127.0.0.1", 6379, 1


def _redis() -> redis.Redis:
    return redis.Redis(host=HOST, port=PORT, db=DB, socket_timeout=5)


def _answers() -> bool:
    try:
        return bool(_redis().ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _answers(), reason="no Redis on 127.0.0.1:6379")


def make_store(kind: str, prefix: str) -> LockStore:
    """Our store or Rasa's, on the test Redis under a key prefix of its own."""
    if kind == "atomic":
        return AtomicRedisLockStore(url=HOST, port=PORT, db=DB, key_prefix=prefix)
    return RedisLockStore(host=HOST, port=PORT, db=DB, key_prefix=prefix)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A fresh key prefix; its keys are deleted afterwards."""
    name = "kefutest" + uuid.uuid4().hex[:12]
    yield name
    client = _redis()
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)


# --- the hammer: processes x tasks x rounds on one conversation --------------------


def _worker(
    kind: str, prefix: str, conversation: str, tasks: int, rounds: int, start: float
) -> None:
    """One "Rasa server": `tasks` concurrent messages, `rounds` times each."""
    store = make_store(kind, prefix)
    client = _redis()
    base = f"{prefix}:probe:{conversation}"

    async def one() -> None:
        for _ in range(rounds):
            try:
                async with store.lock(
                    conversation, lock_lifetime=30, wait_time_in_seconds=0.01
                ) as lock:
                    if client.incr(f"{base}:holders") > 1:
                        client.incr(f"{base}:overlaps")
                    client.rpush(f"{base}:served", lock.now_serving or 0)
                    await asyncio.sleep(0.002)
                    client.decr(f"{base}:holders")
            except LockError:
                client.incr(f"{base}:errors")

    async def all_tasks() -> None:
        await asyncio.gather(*(one() for _ in range(tasks)))

    time.sleep(max(0.0, start - time.time()))
    asyncio.run(all_tasks())


def hammer(
    kind: str, prefix: str, conversation: str, processes: int, tasks: int, rounds: int
) -> dict[str, Any]:
    """Run the workers at once; what they saw: overlaps, errors, served tickets."""
    context = multiprocessing.get_context("fork")
    start = time.time() + 0.3
    workers = [
        context.Process(
            target=_worker, args=(kind, prefix, conversation, tasks, rounds, start)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    deadline = time.time() + 60
    for worker in workers:
        worker.join(max(0.0, deadline - time.time()))
    hung = [w for w in workers if w.is_alive()]
    for worker in hung:  # stuck waiting for a ticket nobody will serve
        worker.terminate()
        worker.join()
    client = _redis()
    base = f"{prefix}:probe:{conversation}"
    return {
        "hung": len(hung),
        "exit_codes": [w.exitcode for w in workers],
        "overlaps": int(client.get(f"{base}:overlaps") or 0),
        "errors": int(client.get(f"{base}:errors") or 0),
        "served": [int(n) for n in client.lrange(f"{base}:served", 0, -1)],
    }


def simultaneous_pairs(kind: str, prefix: str, pairs: int) -> int:
    """Two servers, one message each for the same conversation, `pairs` times: in
    how many pairs were both inside the lock at once."""
    return sum(
        hammer(kind, prefix, f"pair-{n}", processes=2, tasks=1, rounds=1)["overlaps"]
        > 0
        for n in range(pairs)
    )


# --- tests ---------------------------------------------------------------------------


def test_rasa_store_can_hand_out_one_ticket_twice(prefix: str) -> None:
    """Why ours exists: the read-modify-write of two servers, interleaved."""
    one, two = make_store("rasa", prefix), make_store("rasa", prefix)
    lock_one = one.get_or_create_lock("c")
    lock_two = two.get_or_create_lock("c")
    ticket_one, ticket_two = lock_one.issue_ticket(30), lock_two.issue_ticket(30)
    one.save_lock(lock_one)
    two.save_lock(lock_two)

    stored = one.get_lock("c")
    assert ticket_one == ticket_two == 0
    assert stored is not None
    assert not stored.is_locked(ticket_one) and not stored.is_locked(ticket_two)


def test_many_servers_never_hold_a_conversation_at_once(prefix: str) -> None:
    seen = hammer("atomic", prefix, "busy", processes=4, tasks=5, rounds=4)

    assert seen["exit_codes"] == [0, 0, 0, 0]
    assert (seen["overlaps"], seen["errors"]) == (0, 0)
    assert seen["served"] == list(range(4 * 5 * 4))  # every one, in ticket order


def test_simultaneous_pairs_are_serialised(prefix: str) -> None:
    assert simultaneous_pairs("atomic", prefix, pairs=10) == 0


def test_tickets_are_served_in_issue_order(prefix: str) -> None:
    store = AtomicRedisLockStore(url=HOST, port=PORT, db=DB, key_prefix=prefix)
    tickets = [store.issue_ticket("c", 30) for _ in range(3)]

    assert tickets == [0, 1, 2]
    assert [store.position("c", t) for t in tickets] == [0, 1, 2]
    store.cleanup("c", 0)
    assert [store.position("c", t) for t in tickets] == [-1, 0, 1]


def test_an_expired_holder_neither_blocks_nor_frees_a_newer_ticket(
    prefix: str,
) -> None:
    store = AtomicRedisLockStore(url=HOST, port=PORT, db=DB, key_prefix=prefix)
    stale = store.issue_ticket("c", lock_lifetime=0.2)
    started = time.monotonic()

    async def hold() -> None:
        async with store.lock("c", lock_lifetime=30) as lock:
            assert time.monotonic() - started < 2
            assert lock.now_serving == stale + 1  # numbers are never reused
            store.cleanup("c", stale)  # the stale holder finishes late
            waiting = store.issue_ticket("c", 30)
            assert store.position("c", waiting) == 1  # still behind us

    asyncio.run(hold())


def test_a_ticket_that_expires_while_waiting_raises_lock_error(prefix: str) -> None:
    store = AtomicRedisLockStore(url=HOST, port=PORT, db=DB, key_prefix=prefix)
    store.issue_ticket("c", lock_lifetime=30)  # someone holds it for long

    async def wait() -> None:
        async with store.lock("c", lock_lifetime=0.2):
            pass

    with pytest.raises(LockError, match="Could not acquire lock"):
        asyncio.run(wait())


def test_released_locks_expire_from_redis(prefix: str) -> None:
    store = AtomicRedisLockStore(
        url=HOST, port=PORT, db=DB, key_prefix=prefix, idle_ttl=0.3
    )

    async def hold() -> None:
        async with store.lock("c", lock_lifetime=0.2):
            assert store.is_someone_waiting("c")

    asyncio.run(hold())
    assert not store.is_someone_waiting("c")
    time.sleep(0.7)
    assert _redis().exists(store.key("c")) == 0


def test_configured_from_endpoints_yml(tmp_path: Path, prefix: str) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "lock_store:\n"
        "  type: bot.lock_store.AtomicRedisLockStore\n"
        f"  url: {HOST}\n  port: {PORT}\n  db: {DB}\n  key_prefix: {prefix}\n",
        encoding="utf-8",
    )
    config = read_endpoint_config(str(endpoints), "lock_store")

    store = LockStore.create(config)

    assert isinstance(store, AtomicRedisLockStore)
    assert store.issue_ticket("c", 30) == 0
    assert json.loads(_redis().get(f"{prefix}:lock:c") or b"{}")["last_issued"] == 0


def test_a_redis_url_works_too(prefix: str) -> None:
    config = EndpointConfig(
        url=f"redis://{HOST}:{PORT}/{DB}",
        type="bot.lock_store.AtomicRedisLockStore",
        key_prefix=prefix,
    )
    store = LockStore.create(config)
    assert store.issue_ticket("c", 30) == 0


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown lock_store option"):
        AtomicRedisLockStore(url=HOST, portt=PORT)
    with pytest.raises(ValueError, match="alphanumeric"):
        AtomicRedisLockStore(url=HOST, key_prefix="not ok!")


def test_an_unreachable_redis_is_a_lock_error() -> None:
    store = AtomicRedisLockStore(url=HOST, port=1, socket_timeout=0.5)
    with pytest.raises(LockError):
        store.issue_ticket("c", 30)


if __name__ == "__main__":  # the figures quoted in docs/reliability.md
    for kind in ("rasa", "atomic"):
        name = "kefubench" + uuid.uuid4().hex[:8]
        bad = simultaneous_pairs(kind, name, pairs=20)
        seen = hammer(kind, name, "busy", processes=4, tasks=5, rounds=4)
        in_order = seen["served"] == sorted(seen["served"])
        print(
            json.dumps(
                {
                    "store": kind,
                    "pairs_both_inside": f"{bad}/20",
                    "hammer_overlaps": seen["overlaps"],
                    "hammer_lock_errors": seen["errors"],
                    "hammer_served": f"{len(seen['served'])}/80",
                    "hammer_hung_processes": seen["hung"],
                    "hammer_fifo": in_order,
                }
            )
        )
        client = _redis()
        keys = list(client.scan_iter(match=f"{name}:*"))
        if keys:
            client.delete(*keys)
