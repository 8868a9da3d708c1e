"""Jinja2 templates (autoescaped) with the helpers every page uses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates

from crm.masking import mask_text
from web.deps import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
FLASH = "flash"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _query(params: dict[str, Any], **changes: Any) -> str:
    """The current filters with `changes`, as a query string (empty values dropped)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.globals["csrf_token"] = csrf_token
    env.globals["query"] = _query
    env.filters["when"] = _when
    env.filters["percent"] = _percent
    env.filters["masked"] = mask_text
    return templates


def flash(request: Request, text: str, kind: str = "info") -> None:
    """A one-time notice shown on the next page."""
    notes = list(request.session.get(FLASH, []))[-4:]
    notes.append([kind, text[:300]])
    request.session[FLASH] = notes


def take_flashes(request: Request) -> list[list[str]]:
    return list(request.session.pop(FLASH, []))


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Any:
    """Render template `name` with the user, notices and `context`."""
    templates: Jinja2Templates = request.app.state.templates
    values = {"flashes": take_flashes(request), **(context or {})}
    values.setdefault("user", None)
    return templates.TemplateResponse(request, name, values, status_code=status_code)
