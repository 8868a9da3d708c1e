"""Admin pages: staff accounts, and erasing a customer."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.erasure import erase_customer
from crm.models import Conversation, Customer, StaffUser
from web.deps import Csrf, DbSession, require_roles
from web.security import ROLES, create_staff
from web.templating import flash, render
from web.util import parse_id, utcnow
from web.views.conversations import load_conversation

logger = logging.getLogger(__name__)

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


# --- erasure ---------------------------------------------------------------------


def _customer_of(
    session: Session, conversation_id: str
) -> tuple[Conversation, Customer]:
    """The conversation and its verified customer; 404 if it has none."""
    conversation = load_conversation(session, conversation_id)
    customer = (
        session.get(Customer, conversation.customer_id)
        if conversation.customer_id is not None
        else None
    )
    if customer is None:
        raise HTTPException(404, "this conversation has no verified customer")
    return conversation, customer


@router.get("/admin/conversations/{conversation_id}/erase-customer")
def erase_confirmation(
    request: Request, session: DbSession, user: Admin, conversation_id: str
) -> Response:
    """What erasing this conversation's customer does, and a form to confirm it."""
    conversation, customer = _customer_of(session, conversation_id)
    return _confirmation(request, user, conversation, customer)


def _confirmation(
    request: Request,
    user: StaffUser,
    conversation: Conversation,
    customer: Customer,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "erase.html",
        {
            "user": user,
            "conversation": conversation,
            "customer": customer,
            "error": error,
        },
        status_code=400 if error else 200,
    )


@router.post(
    "/admin/conversations/{conversation_id}/erase-customer", dependencies=[Csrf]
)
def erase(
    request: Request,
    session: DbSession,
    user: Admin,
    conversation_id: str,
    confirm: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Erase the customer everywhere (crm.erasure, as `crm erase-customer` does)."""
    conversation, customer = _customer_of(session, conversation_id)
    customer_id = customer.id
    if confirm.strip() != str(customer_id):
        error = f"Nothing erased: type {customer_id} to confirm."
        return _confirmation(request, user, conversation, customer, error)
    now = utcnow()
    counts = erase_customer(session, customer_id=customer_id, now=now)
    session.commit()
    logger.info(
        "audit: staff %s <%s> erased customer %s at %s UTC in the console: %s",
        user.id,
        user.email,
        customer_id,
        now.isoformat(timespec="seconds"),
        counts,
    )
    flash(
        request,
        f"Customer {customer_id} erased: "
        + ", ".join(f"{table} {n}" for table, n in counts.items() if n)
        + ".",
        "success",
    )
    return RedirectResponse("/inbox", status_code=303)
