"""Admin pages: staff accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from crm.models import StaffUser
from web.deps import Csrf, DbSession, require_roles
from web.security import ROLES, create_staff
from web.templating import flash, render
from web.util import parse_id, utcnow

router = APIRouter(tags=["admin"])

Admin = Annotated[StaffUser, Depends(require_roles("admin"))]


@router.get("/admin/staff")
def staff_list(request: Request, session: DbSession, user: Admin) -> Response:
    users = list(session.scalars(select(StaffUser).order_by(StaffUser.email)))
    return render(request, "staff.html", {"user": user, "users": users, "roles": ROLES})


@router.post("/admin/staff", dependencies=[Csrf])
def staff_create(
    request: Request,
    session: DbSession,
    user: Admin,
    email: Annotated[str, Form(max_length=254)],
    name: Annotated[str, Form(max_length=120)],
    role: Annotated[str, Form(max_length=10)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    try:
        created = create_staff(
            session=session,
            email=email,
            name=name,
            password=password,
            role=role,
            now=utcnow(),
        )
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    session.commit()
    flash(request, f"Created {created.email} ({created.role}).", "success")
    return RedirectResponse("/admin/staff", status_code=303)


@router.post("/admin/staff/{staff_id}/active", dependencies=[Csrf])
def staff_toggle(
    request: Request,
    session: DbSession,
    user: Admin,
    staff_id: str,
    active: Annotated[str, Form(max_length=5)],
) -> Response:
    """Deactivate (or reactivate) an account; its open sessions end at once."""
    target = session.get(StaffUser, parse_id(staff_id))
    if target is None:
        raise HTTPException(404, "no such staff user")
    if target.id == user.id:
        raise HTTPException(400, "you cannot deactivate yourself")
    target.active = active == "1"
    session.commit()
    flash(
        request,
        f"{target.email} is now {'active' if target.active else 'inactive'}.",
        "success",
    )
    return RedirectResponse("/admin/staff", status_code=303)
