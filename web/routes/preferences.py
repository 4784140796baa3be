# SPDX-License-Identifier: MIT
"""The language and units switch on every page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web import i18n, sessions
from web.deps import LANGUAGE_COOKIE, ConnDep, OptionalUserDep

router = APIRouter()
ONE_YEAR_S = 365 * 24 * 3600


def _back_to(request: Request, path: str) -> str:
    """The page to return to: one of this app's, never another site (no open redirect)."""
    root = str(request.scope.get("root_path", ""))
    if path.startswith(root + "/") and not path.startswith("//") and "\\" not in path:
        return path
    return f"{root}/"


@router.post("/preferences")
def set_preferences(
    request: Request,
    conn: ConnDep,
    user: OptionalUserDep,
    back: Annotated[str, Form(max_length=512)] = "",
    language: Annotated[str | None, Form()] = None,
    units: Annotated[Literal["metric", "imperial"] | None, Form()] = None,
) -> Response:
    """Choose the language (kept in a cookie, and with the user when signed in) and units."""
    chosen = language if language in i18n.LANGUAGES else None
    if user is not None:
        sessions.set_preferences(
            conn=conn, user_id=user.principal.user_id, units=units, language=chosen
        )
    response = RedirectResponse(_back_to(request, back), status_code=303)
    if chosen is not None:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=ONE_YEAR_S,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path=str(request.scope.get("root_path") or "/"),
        )
    return response
