"""A Redis ticket lock store that is safe when several Rasa servers share it.

Rasa 3.6's `RedisLockStore` reads a conversation's lock, adds a ticket in Python and
writes it back. Two servers that receive messages for the same conversation at the
same moment can both read the old lock, so both get the same ticket, both are "now
serving" and both process the conversation at once; the second tracker save then
drops the first server's events. Its cleanup also deletes the lock between "is
anyone waiting?" and "delete", which can throw away a ticket issued in between.

`AtomicRedisLockStore` does every read-modify-write in one Lua script, which Redis
runs atomically, and keeps the last issued number so an expired holder's late
release can never remove a newer ticket. The lock value keeps Rasa's JSON layout, so
`get_lock` returns an ordinary `TicketLock`.

Configure it in endpoints.yml::

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: 127.0.0.1        # a host, or a redis:// URL
      port: 6379
      db: 1
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX,
    LOCK_LIFETIME,
    LockError,
    LockStore,
)
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "port": 6379,
    "db": 1,
    "username": None,
    "password": None,
    "use_ssl": False,
    "key_prefix": None,
    "socket_timeout": 10.0,
    "poll_interval": 0.005,
    "max_poll_interval": 0.05,
    "idle_ttl": 600,
}
"""Options of the endpoint (besides `type` and `url`) and their defaults.

poll_interval/max_poll_interval: seconds between checks while waiting for the turn
(doubling from the first to the second); idle_ttl: seconds a lock with no tickets
is kept so its ticket numbers are never reused."""

_PRELUDE = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
-- A lock is Rasa's TicketLock JSON: {conversation_id, tickets: ["{number, expires}"]},
-- plus last_issued. Expired tickets are dropped on every read.
local function load(key, at)
  local lock = {tickets = {}, last = -1}
  local raw = redis.call('GET', key)
  if not raw then return lock end
  local data = cjson.decode(raw)
  lock.last = tonumber(data.last_issued) or -1
  for _, item in ipairs(data.tickets or {}) do
    local ticket = cjson.decode(item)
    local number = tonumber(ticket.number)
    if number > lock.last then lock.last = number end
    if tonumber(ticket.expires) >= at then
      table.insert(lock.tickets, {number = number, expires = tonumber(ticket.expires)})
    end
  end
  return lock
end
local function save(key, id, lock, at, idle)
  local items = {}
  local until_ = at
  for _, ticket in ipairs(lock.tickets) do
    table.insert(items, cjson.encode(ticket))
    if ticket.expires > until_ then until_ = ticket.expires end
  end
  local body = {conversation_id = id, tickets = items, last_issued = lock.last}
  local ttl = math.ceil((until_ - at + idle) * 1000)
  redis.call('SET', key, cjson.encode(body), 'PX', ttl)
end
"""

ISSUE = (
    _PRELUDE
    + """
local at = now()
local lock = load(KEYS[1], at)
local number = lock.last + 1
table.insert(lock.tickets, {number = number, expires = at + tonumber(ARGV[2])})
lock.last = number
save(KEYS[1], ARGV[1], lock, at, tonumber(ARGV[3]))
return number
"""
)
"""KEYS: lock; ARGV: conversation id, lifetime, idle ttl -> the new ticket number."""

POSITION = (
    _PRELUDE
    + """
local at = now()
local lock = load(KEYS[1], at)
for index, ticket in ipairs(lock.tickets) do
  if ticket.number == tonumber(ARGV[1]) then return index - 1 end
end
return -1
"""
)
"""KEYS: lock; ARGV: ticket -> tickets ahead of it (0: its turn), -1: expired."""

RELEASE = (
    _PRELUDE
    + """
local at = now()
local lock = load(KEYS[1], at)
local kept, removed = {}, 0
for _, ticket in ipairs(lock.tickets) do
  if ticket.number == tonumber(ARGV[2]) then removed = 1
  else table.insert(kept, ticket) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  lock.tickets = kept
  save(KEYS[1], ARGV[1], lock, at, tonumber(ARGV[3]))
end
return removed
"""
)
"""KEYS: lock; ARGV: conversation id, ticket, idle ttl -> 1 if the ticket was held."""


class AtomicRedisLockStore(LockStore):
    """Rasa ticket lock store on Redis with atomic issue, turn check and release."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, **options: Any
    ) -> None:
        url, settings = _settings(endpoint_config, options)
        self.red = _client(url, settings)
        self.key_prefix = _prefix(settings["key_prefix"])
        self.poll_interval = float(settings["poll_interval"])
        self.max_poll_interval = float(settings["max_poll_interval"])
        self.idle_ttl = float(settings["idle_ttl"])
        self._issue = self.red.register_script(ISSUE)
        self._position = self.red.register_script(POSITION)
        self._release = self.red.register_script(RELEASE)
        super().__init__()

    def key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    # --- what Rasa calls -------------------------------------------------------------

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock; waits its turn, first come first served."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(
                conversation_id, ticket, wait_time_in_seconds
            )
        finally:
            self.cleanup(conversation_id, ticket)

    def issue_ticket(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME
    ) -> int:
        """Atomically append a ticket to the conversation's queue; its number."""
        try:
            return int(
                self._issue(
                    keys=[self.key(conversation_id)],
                    args=[conversation_id, lock_lifetime, self.idle_ttl],
                )
            )
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Wait until `ticket` heads the queue; LockError if it expired meanwhile."""
        pause = min(self.poll_interval, wait_time_in_seconds)
        while True:
            ahead = self.position(conversation_id, ticket)
            if ahead == 0:
                return self.get_lock(conversation_id) or TicketLock(conversation_id)
            if ahead < 0:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}'."
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.max_poll_interval, wait_time_in_seconds)

    def position(self, conversation_id: str, ticket: int) -> int:
        """How many live tickets are ahead of `ticket` (-1: it has expired)."""
        try:
            return int(self._position(keys=[self.key(conversation_id)], args=[ticket]))
        except redis.RedisError as error:
            raise LockError(f"Error while waiting for lock. Error:\n{error}") from error

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Atomically remove `ticket_number` from the queue."""
        self._release(
            keys=[self.key(conversation_id)],
            args=[conversation_id, ticket_number, self.idle_ttl],
        )

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release the ticket; the lock itself expires after `idle_ttl` unused."""
        try:
            self.finish_serving(conversation_id, ticket_number)
        except redis.RedisError as error:  # the ticket then simply expires
            logger.error(
                "could not release lock ticket %s of conversation %s: %s",
                ticket_number,
                conversation_id,
                error,
            )

    def update_lock(self, conversation_id: str) -> None:
        """Expired tickets are dropped by every script; nothing to do."""

    def is_someone_waiting(self, conversation_id: str) -> bool:
        lock = self.get_lock(conversation_id)
        return lock is not None and lock.is_someone_waiting()

    # --- storage, for inspection and Rasa's base class --------------------------------

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        serialised = self.red.get(self.key(conversation_id))
        if not serialised:
            return None
        lock = TicketLock.from_dict(_json(serialised))
        lock.remove_expired_tickets()
        return lock

    def delete_lock(self, conversation_id: str) -> None:
        deleted = self.red.delete(self.key(conversation_id))
        self._log_deletion(conversation_id, bool(deleted))

    def save_lock(self, lock: TicketLock) -> None:
        """Overwrite a lock wholesale (not atomic; Rasa's API, unused by `lock`)."""
        self.red.set(self.key(lock.conversation_id), lock.dumps())


def _settings(
    endpoint_config: EndpointConfig | None, options: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    given = dict(endpoint_config.kwargs) if endpoint_config else {}
    given.update(options)
    url = given.pop("url", None) or (endpoint_config.url if endpoint_config else None)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError(
            f"unknown lock_store option(s) {', '.join(unknown)}; "
            f"known: url, {', '.join(DEFAULTS)}"
        )
    return str(url or "localhost"), DEFAULTS | given


def _client(url: str, settings: dict[str, Any]) -> redis.Redis:
    timeout = float(settings["socket_timeout"])
    if "://" in url:
        return redis.Redis.from_url(url, socket_timeout=timeout)
    return redis.Redis(
        host=url,
        port=int(settings["port"]),
        db=int(settings["db"]),
        username=settings["username"],
        password=settings["password"],
        ssl=bool(settings["use_ssl"]),
        socket_timeout=timeout,
    )


def _prefix(key_prefix: str | None) -> str:
    if key_prefix is None:
        return DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
    if not (isinstance(key_prefix, str) and key_prefix.isalnum()):
        raise ValueError(f"lock_store key_prefix must be alphanumeric: {key_prefix!r}")
    return f"{key_prefix}:{DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX}"


def _json(raw: bytes | str) -> dict[str, Any]:
    data = json.loads(raw)
    data["tickets"] = data.get("tickets") or []  # cjson writes [] as {}
    return data
