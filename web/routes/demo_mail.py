# SPDX-License-Identifier: MIT
"""The demo's mailbox: what the embedded SMTP server of ``make demo`` received, so a visitor
reads what owners were sent without a mail client.

Only when the demo mailbox is configured (``WebConfig.demo_mailbox``, set by the demo alone):
elsewhere the page does not exist (404). Signed-in users read the mail sent to their own
address; an administrator reads all of it. Not "anyone in demo mode": the mail holds
one-time links that sign their reader in as the recipient, so showing everyone everything
would let one demo visitor become another user.

A mail's HTML is shown in an iframe with an empty ``sandbox`` (no scripts, no forms, no
same-origin access) through ``srcdoc``, which Jinja escapes as an attribute; its text part
beside it, with the app's links made clickable.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from db.rows import a_dict, dicts
from web.deps import ConnDep, UserDep
from web.routes.auth import config, pages

router = APIRouter()
PAGE = 100
LINK = re.compile(r"https?://[^\s<>\"]+")


def _enabled(request: Request) -> None:
    if not config(request).demo_mailbox:
        raise HTTPException(404)


# The mail a user may read: an administrator's, all; anyone else's, what was sent to them.
READABLE = "(%(admin)s OR lower(%(email)s) IN (SELECT lower(r) FROM unnest(rcpt_to) r))"


def _scope(user: UserDep) -> dict[str, object]:
    """The parameters of READABLE for this user."""
    return {"admin": user.principal.role == "admin", "email": user.email}


@router.get("/demo/mail")
def mailbox(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """The list of mail received, newest first."""
    _enabled(request)
    rows = dicts(
        conn,
        "SELECT mail_id, received_at, rcpt_to, subject, copies FROM demo_mail WHERE "
        + READABLE
        + " ORDER BY mail_id DESC LIMIT %(limit)s",
        {**_scope(user), "limit": PAGE},
    )
    return pages(request).render(request, "demo_mail.html", mails=rows, mail=None)


def _parts(raw: bytes) -> tuple[EmailMessage, str, str | None]:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (
        message,
        plain.get_content() if plain is not None else "",
        html.get_content() if html is not None else None,
    )


@router.get("/demo/mail/{mail_id}")
def one_mail(request: Request, conn: ConnDep, user: UserDep, mail_id: int) -> Response:
    """One mail: its headers, its text with clickable links, its HTML in a sandbox."""
    _enabled(request)
    row = a_dict(
        conn,
        "SELECT mail_id, received_at, mail_from, rcpt_to, subject, raw, copies FROM demo_mail "
        "WHERE mail_id = %(mail_id)s AND " + READABLE,
        {**_scope(user), "mail_id": mail_id},
    )
    if row is None:
        raise HTTPException(404)
    message, text, html = _parts(bytes(row["raw"]))
    return pages(request).render(
        request,
        "demo_mail.html",
        mails=None,
        mail=row,
        headers={k: str(message[k]) for k in ("From", "To", "Date", "Message-ID") if message[k]},
        text=text,
        html=html,
        links=list(dict.fromkeys(LINK.findall(text))),
    )
