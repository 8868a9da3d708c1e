"""One settings object, read from environment variables (and `.env` for local use)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from dotenv import dotenv_values
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
SECRETS_FILE = VAR / "secrets.env"
"""Random secrets made once per installation by `crm secrets` (`make run` calls it)."""
GENERATED_SECRETS = ("SIGNING_SECRET", "SESSION_SECRET", "RASA_TOKEN", "ACTIONS_TOKEN")


class Settings(BaseSettings):
    """Every setting the app env reads; the defaults run the embedded demo, with the
    secrets that `crm secrets` generates."""

    # Environment variables win over `.env`, which wins over the generated secrets.
    model_config = SettingsConfigDict(
        env_file=(SECRETS_FILE, ROOT / ".env"), extra="ignore"
    )

    database_url: str = f"sqlite:///{VAR / 'crm.sqlite3'}"
    """SQLAlchemy URL of the CRM (and, by default, of Rasa's tracker store)."""
    signing_secret: str = ""
    """HMAC secret shared with the website that signs `customer_id` for the widget;
    with none, no signature is valid (customers verify with the form)."""
    signature_max_age: int = 3600
    """Seconds a widget signature stays valid."""
    session_secret: str = ""
    """Secret that signs staff console session cookies (none: random per process)."""
    secure_cookies: bool = False
    """Set when the console is served over HTTPS."""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    """Token of Rasa's HTTP API (`rasa run --auth-token`, see bot/serve.sh): the
    console sends staff messages with it; without it nobody can use that API."""
    actions_token: str = ""
    """Token Rasa sends to the action server (endpoints.yml); rasa_sdk_plugins
    refuses every other caller, and the action server does not start without it."""
    web_port: int = 8000
    action_port: int = 5055
    redis_url: str | None = None
    """Redis for the console's login rate limit and Rasa's lock store in production."""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def write_missing_secrets(path: Path = SECRETS_FILE) -> list[str]:
    """Give each of GENERATED_SECRETS that `path` lacks a random value; return their
    names. Existing values stay, so sessions and signatures survive a restart."""
    existing = dotenv_values(path) if path.exists() else {}
    missing = [name for name in GENERATED_SECRETS if not existing.get(name)]
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as file:
            for name in missing:
                file.write(f"{name}={secrets.token_urlsafe(32)}\n")
    return missing
