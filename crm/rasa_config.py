"""Rasa's endpoints.yml rendered from our settings, so one DATABASE_URL configures
both the CRM and Rasa's tracker store (and REDIS_URL Rasa's lock store)."""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy.engine import make_url

from crm.settings import Settings

TRACKER_STORE = "bot.tracker_store.SQLTrackerStore"


def tracker_store(database_url: str) -> dict[str, Any]:
    """Rasa SQLTrackerStore settings for the same database as the CRM.

    Rasa passes the endpoint's `url` to SQLTrackerStore as its host. The type is
    our subclass of it (bot/tracker_store.py).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": url.database}
    store: dict[str, Any] = {
        "type": TRACKER_STORE,
        "dialect": "postgresql",
        "url": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "db": url.database,
        "username": url.username,
    }
    if url.password:
        store["password"] = url.password
    return store


def lock_store(redis_url: str | None) -> dict[str, Any] | None:
    """Our atomic Redis lock store (bot/lock_store.py), shared by several Rasa
    servers; None keeps Rasa's in-memory lock store (one server)."""
    if not redis_url:
        return None
    url = make_url(redis_url.replace("redis://", "redis+x://", 1))
    return {
        "type": "bot.lock_store.AtomicRedisLockStore",
        "url": url.host or "127.0.0.1",
        "port": url.port or 6379,
        "db": int(url.database or 0),
    }


def endpoints(settings: Settings, action_url: str) -> dict[str, Any]:
    """The whole endpoints.yml as a dict."""
    config: dict[str, Any] = {
        "action_endpoint": {"url": action_url, "token": settings.actions_token},
        "tracker_store": tracker_store(settings.database_url),
    }
    lock = lock_store(settings.redis_url)
    if lock:
        config["lock_store"] = lock
    return config


def render(settings: Settings, action_url: str) -> str:
    return yaml.safe_dump(endpoints(settings, action_url), sort_keys=False)
