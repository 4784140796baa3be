# SPDX-License-Identifier: MIT
"""Accepting an invitation: ``/invitations/accept``, signed in or not.

The mail's link opens the form (``?token=``); without one, the form asks for the code the
person was handed. Opening the page uses nothing up, so a mail scanner that fetches links does
not spend the invitation. Sending the form creates the account with the chosen password and
name, signs the person in and takes them to their role's first page. A code that is unknown,
used or expired is said in plain words; both steps count against the sign-in budget
(``rate_limited``), so codes cannot be tried in bulk.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from api.auth.invitations import NewInvitation
from web import i18n, invitations, mail, sessions, units
from web.deps import ConnDep, OptionalUserDep, clock
from web.routes.auth import config, pages, rate_limited, signed_in_response

log = logging.getLogger(__name__)
router = APIRouter()
Token = Annotated[str, Form(max_length=invitations.TOKEN_MAX)]
SCOPE = "invitation"


def _unusable(request: Request, why: str) -> Response:
    status = 404 if why == "unknown" else 410
    return pages(request).render(request, "invitation_unusable.html", status=status, why=why)


def _form(request: Request, *, status: int = 200, **context: Any) -> Response:
    return pages(request).render(request, "invitation_accept.html", status=status, **context)


@router.get("/invitations/accept")
def accept_page(
    request: Request,
    conn: ConnDep,
    token: Annotated[str, Query(max_length=invitations.TOKEN_MAX)] = "",
) -> Response:
    """The invitation's form: whom it makes and the fields to choose a password; without a
    token, a field for the code."""
    if not token:
        return _form(request, invitation=None, token="")
    if (refused := rate_limited(request, SCOPE)) is not None:
        return refused
    try:
        found = invitations.find(conn=conn, token=token, now=clock())
    except invitations.Unusable as unusable:
        return _unusable(request, unusable.why)
    return _form(request, invitation=found, token=token)


@router.post("/invitations/accept")
def accept(
    request: Request,
    conn: ConnDep,
    user: OptionalUserDep,
    token: Token,
    name: Annotated[str, Form(max_length=invitations.NAME_MAX * 2)] = "",
    password: Annotated[str, Form(max_length=invitations.PASSWORD_MAX * 2)] = "",
    repeated: Annotated[str, Form(max_length=invitations.PASSWORD_MAX * 2)] = "",
) -> Response:
    """Create the invited account, sign it in, and go to its first page."""
    if (refused := rate_limited(request, SCOPE)) is not None:
        return refused
    now = clock()
    try:
        found = invitations.find(conn=conn, token=token, now=now)
    except invitations.Unusable as unusable:
        return _unusable(request, unusable.why)
    try:
        kept = invitations.check_form(name=name, password=password, repeated=repeated)
        user_id = invitations.accept(conn=conn, token=token, name=kept, password=password, now=now)
    except invitations.FormError as wrong:
        return _form(
            request,
            status=422,
            invitation=found,
            token=token,
            errors=wrong.errors,
            typed_name=name,
        )
    except invitations.Unusable as unusable:
        return _unusable(request, unusable.why)
    if user is not None:  # whoever was signed in on this browser is signed out here
        sessions.end(conn=conn, session_id=user.session_id)
    session_token, expires_at = sessions.start(
        conn=conn, user_id=user_id, now=now, ttl=config(request).session_ttl
    )
    return signed_in_response(request, session_token, expires_at)


def invitation_link(request: Request, token: str) -> str:
    """The accept page's address with ``token``: absolute at the app's configured address, else
    the path (the admin knows where the app is)."""
    root = str(request.scope.get("root_path", ""))
    return invitations.accept_url(config(request).base_url or "", root, token)


def mail_invitation(
    request: Request,
    new: NewInvitation,
    *,
    fleet_name: str | None = None,
    shop_name: str | None = None,
) -> bool | None:
    """Mail ``new`` to its invitee with a link to this page, in the language of the admin's
    page: True when sent, False when the mail server refused (the admin passes the link on by
    hand), None when the app sends no mail (no SMTP server or no address of its own)."""
    cfg = config(request)
    if cfg.smtp_url is None or cfg.base_url is None:
        return None
    language = pages(request).language(request, getattr(request.state, "user", None))
    url = invitation_link(request, new.token)
    subject, text = pages(request).mail(
        request,
        "mail_invitation.txt",
        url=url,
        role=new.role,
        fleet_name=fleet_name,
        shop_name=shop_name,
        until=units.moment(new.expires_at, i18n.babel_locale(language)),
    )
    try:
        mail.send(
            smtp_url=cfg.smtp_url, mail_from=cfg.mail_from, to=new.email, subject=subject, text=text
        )
    except mail.MailError:
        log.exception("invitation to %s not mailed", new.email)
        return False
    return True
