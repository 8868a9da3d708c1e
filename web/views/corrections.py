"""Corrections: the log, the export as training data, and the accuracy report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from crm.models import StaffUser
from web import corrections, plots
from web.deps import Csrf, DbSession
from web.deps import require_roles as roles
from web.templating import flash, render
from web.util import utcnow

router = APIRouter(tags=["corrections"])

Analyst = Annotated[StaffUser, Depends(roles("analyst", "admin"))]


@router.get("/corrections")
def corrections_page(request: Request, session: DbSession, user: Analyst) -> Response:
    """Recent corrections, accuracy of the live model, and the export."""
    points = corrections.accuracy_report(session=session)
    examples = corrections.training_examples(session=session)
    counts = {lang: 0 for lang in corrections.EXPORT_LANGUAGES}
    for example in examples:
        counts[example.language] = counts.get(example.language, 0) + 1
    return render(
        request,
        "corrections.html",
        {
            "user": user,
            "log": corrections.correction_log(session=session),
            "points": points,
            "counts": counts,
            "export_dir": request.app.state.export_dir,
        },
    )


@router.get("/corrections/accuracy.svg")
def accuracy_plot(session: DbSession, user: Analyst) -> Response:
    svg = plots.accuracy_over_time(corrections.accuracy_report(session=session))
    return Response(svg, media_type="image/svg+xml")


@router.post("/corrections/export", dependencies=[Csrf])
def export(request: Request, session: DbSession, user: Analyst) -> Response:
    """Write the corrections as Rasa NLU data for the next `rasa train`."""
    folder = request.app.state.export_dir
    try:
        counts = corrections.export_corrections(
            session=session, folder=folder, now=utcnow()
        )
    except OSError as error:
        raise HTTPException(
            500, f"cannot write to {folder}: {error.strerror}"
        ) from None
    summary = ", ".join(f"{count} {lang}" for lang, count in counts.items())
    flash(request, f"Exported {summary} examples to {folder}.", "success")
    return RedirectResponse("/corrections", status_code=303)


@router.get("/corrections/export/{language}.yml")
def download(session: DbSession, user: Analyst, language: str) -> Response:
    """The training data of one language, as a download."""
    if language not in corrections.EXPORT_LANGUAGES:
        raise HTTPException(404, "language must be en or zh")
    examples = [
        e
        for e in corrections.training_examples(session=session)
        if e.language == language
    ]
    text = corrections.render_nlu_yaml(
        examples, note=f"Staff label corrections ({language}) from the kefu console."
    )
    return Response(
        text,
        media_type="application/x-yaml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="corrections-{language}.yml"'
        },
    )
