"""Log in and out of the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.deps import (
    SESSION_CSRF,
    SESSION_STAMP,
    SESSION_USER,
    Csrf,
    DbSession,
    optional_user,
    user_stamp,
)
from web.security import attempt_login, new_csrf_token
from web.templating import render
from web.util import utcnow

router = APIRouter(tags=["auth"])

HOME = "/inbox"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://...`."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    if any(ch in target for ch in "\r\n\\") or len(target) > 500:
        return HOME
    return target


@router.get("/", include_in_schema=False)
@router.get("/console", include_in_schema=False)
def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
def login_page(
    request: Request,
    user: Annotated[object | None, Depends(optional_user)],
    next: str | None = None,
) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next)})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=500)] = HOME,
) -> Response:
    client = request.client.host if request.client else "unknown"
    result = attempt_login(
        session=session, email=email, password=password, client=client, now=utcnow()
    )
    session.commit()
    if result.limited:
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "email": email,
                "error": "Too many failed attempts. Wait 15 minutes and try again.",
            },
            status_code=429,
        )
    if result.user is None:
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "email": email,
                "error": "Wrong email or password.",
            },
            status_code=401,
        )
    request.session.clear()
    request.session[SESSION_USER] = result.user.id
    request.session[SESSION_STAMP] = user_stamp(result.user)
    request.session[SESSION_CSRF] = new_csrf_token()
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
