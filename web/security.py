"""Passwords (argon2), CSRF tokens and the console's login rate limit."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import LoginAttempt, StaffUser
from web.util import clean_text

logger = logging.getLogger(__name__)

ROLES = ("agent", "analyst", "admin")
MIN_PASSWORD_LENGTH = 10
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not the password of anyone")


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (refusing passwords that are too short)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; spends the same time when there is no user."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; missing never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    limited: bool = False


def normalise_email(email: str) -> str:
    return clean_text(email).strip().lower()[:254]


def recent_failures(
    *, session: Session, email: str, client: str, now: datetime
) -> tuple[int, int]:
    """Failed log-ins in the last window for this email and for this client."""
    since = now - LOGIN_WINDOW
    failed = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
    )
    by_email = session.scalar(failed.where(LoginAttempt.email == email)) or 0
    by_client = session.scalar(failed.where(LoginAttempt.client == client)) or 0
    return by_email, by_client


def attempt_login(
    *, session: Session, email: str, password: str, client: str, now: datetime
) -> LoginResult:
    """Check a log-in, record the attempt, and refuse while the limit is reached."""
    email = normalise_email(email)
    client = clean_text(client)[:64]
    by_email, by_client = recent_failures(
        session=session, email=email, client=client, now=now
    )
    if by_email >= MAX_FAILURES_PER_EMAIL or by_client >= MAX_FAILURES_PER_CLIENT:
        logger.warning("login rate limit reached for %s from %s", email, client)
        session.add(LoginAttempt(email=email, client=client, succeeded=False, at=now))
        return LoginResult(None, limited=True)
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    ok = check_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(email=email, client=client, succeeded=ok, at=now))
    if not ok:
        logger.info("failed console login for %s from %s", email, client)
        return LoginResult(None)
    if user is not None and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return LoginResult(user)


def create_staff(
    *, session: Session, email: str, name: str, password: str, role: str, now: datetime
) -> StaffUser:
    """A new staff user with a hashed password (email unique, role checked)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) < 3:
        raise ValueError("a staff user needs a valid email address")
    if not name.strip():
        raise ValueError("a staff user needs a name")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        raise ValueError(f"a staff user with the email {email} already exists")
    user = StaffUser(
        email=email,
        name=clean_text(name).strip()[:120],
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user
