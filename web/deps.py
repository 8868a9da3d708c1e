"""Request dependencies: the database session, the logged-in staff user, roles, CSRF."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from crm.models import StaffUser
from web.security import new_csrf_token, same_token

SESSION_USER = "uid"
SESSION_STAMP = "stamp"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """Raised for an anonymous visitor; pages redirect to /login, APIs answer 401."""


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; views that write commit it themselves."""
    factory = request.app.state.sessionmaker
    with factory() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def user_stamp(user: StaffUser) -> str:
    """Changes with the password, role or active flag: old cookies stop working."""
    seed = f"{user.id}:{user.password_hash}:{user.role}:{user.active}"
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    """This browser session's CSRF token, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = new_csrf_token()
        request.session[SESSION_CSRF] = token
    return str(token)


def optional_user(request: Request, session: DbSession) -> StaffUser | None:
    """The logged-in, active staff user, or None."""
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    user = session.get(StaffUser, user_id)
    if user is None or not user.active:
        return None
    if request.session.get(SESSION_STAMP) != user_stamp(user):
        return None
    return user


def current_user(
    user: Annotated[StaffUser | None, Depends(optional_user)],
) -> StaffUser:
    if user is None:
        raise LoginRequired()
    return user


def require_roles(*roles: str) -> Callable[[StaffUser], StaffUser]:
    """A dependency that lets in only staff with one of `roles` (403 otherwise)."""

    def check(user: Annotated[StaffUser, Depends(current_user)]) -> StaffUser:
        if user.role not in roles:
            raise HTTPException(
                status_code=403,
                detail=f"this page is for {', '.join(roles)} staff only",
            )
        return user

    return check


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request without this session's token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    given = request.headers.get(CSRF_HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not same_token(request.session.get(SESSION_CSRF), given):
        raise HTTPException(
            status_code=403,
            detail="the form has expired or did not come from this site; reload the "
            "page and try again",
        )


Staff = Annotated[StaffUser, Depends(current_user)]
Csrf = Depends(check_csrf)
