"""One settings object, read from environment variables (and `.env` for local use)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


class Settings(BaseSettings):
    """Every setting the app env reads; the defaults run the embedded demo."""

    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    database_url: str = f"sqlite:///{VAR / 'crm.sqlite3'}"
    """SQLAlchemy URL of the CRM (and, by default, of Rasa's tracker store)."""
    signing_secret: str = "change-me-in-production"
    """HMAC secret shared with the website that signs `customer_id` for the widget."""
    signature_max_age: int = 3600
    """Seconds a widget signature stays valid."""
    session_secret: str = "change-me-too"
    """Secret that signs staff console session cookies."""
    secure_cookies: bool = False
    """Set when the console is served over HTTPS."""
    rasa_url: str = "http://127.0.0.1:5005"
    web_port: int = 8000
    action_port: int = 5055
    redis_url: str | None = None
    """Redis for the console's login rate limit and Rasa's lock store in production."""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
