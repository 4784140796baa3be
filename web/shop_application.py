# SPDX-License-Identifier: MIT
"""Where a shop's application stands, on its staff's pages and in their mail.

A shop that registered itself (``api.shops.onboarding.apply``) waits, unverified, until an
admin verifies or rejects it; matching offers it no order meanwhile (``orders.matching``). Its
staff may sign in, and instead of an empty inbox, calendar or KPIs they read where the
application stands: waiting for verification, or rejected with the admin's reason and what to
do. The profile stays editable while the shop waits, or after a rejection, so the staff can
complete or correct what the admin will check.

When an admin decides, the shop's staff (at first the applicant alone, the contact email of
the application) get a mail in their own language: ``tell``, sent through ``mail.py`` while the
admin waits, so a refusing mail server is said on the admin's page.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import psycopg

from db.rows import dicts, record
from web import i18n, mail
from web.config import WebConfig
from web.pages import Pages

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Standing:
    """A shop not (yet) admitted: ``state`` is ``waiting`` or ``rejected``."""

    shop_name: str
    state: str
    applied_at: datetime
    rejected_at: datetime | None
    rejection_reason: str | None


def standing(*, conn: psycopg.Connection, shop_id: int) -> Standing | None:
    """Where the shop's application stands; None for a shop that is verified (at work)."""
    return record(
        conn,
        Standing,
        "SELECT name AS shop_name, CASE WHEN rejected_at IS NULL THEN 'waiting' "
        "ELSE 'rejected' END AS state, created_at AS applied_at, rejected_at, "
        "rejection_reason FROM shops WHERE shop_id = %s AND verified_at IS NULL",
        (shop_id,),
    )


def _compose(
    pages: Pages, *, decision: str, shop_name: str, reason: str | None, language: str, url: str
) -> tuple[str, str]:
    """The decision's subject and plain text in ``language``."""
    language = language if language in i18n.LANGUAGES else i18n.DEFAULT
    i18n.activate(pages.catalogues[language])
    template = pages.env.get_template("mail_shop_decision.txt")
    text = template.render(decision=decision, shop_name=shop_name, reason=reason, url=url)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), re.sub(r"\n{3,}", "\n\n", body.strip()) + "\n"


def tell(
    *, conn: psycopg.Connection, pages: Pages, config: WebConfig, shop_id: int, decision: str
) -> bool | None:
    """Mail the admin's ``decision`` (``verified`` or ``rejected``, with the reason as stored)
    to the shop's staff who are not disabled: True when sent, False when the mail server
    refused (logged; the admin's page says so), None when the app sends no mail or the shop has
    nobody to tell."""
    if config.smtp_url is None:
        return None
    people = dicts(
        conn,
        "SELECT u.email, u.language, s.name AS shop_name, s.rejection_reason FROM users u "
        "JOIN shops s USING (shop_id) WHERE u.shop_id = %s AND u.role = 'shop_staff' "
        "AND NOT u.disabled ORDER BY u.user_id",
        (shop_id,),
    )
    if not people:
        return None
    url = f"{config.base_url.rstrip('/')}/app/" if config.base_url else ""
    try:
        for person in people:
            subject, text = _compose(
                pages,
                decision=decision,
                shop_name=person["shop_name"],
                reason=person["rejection_reason"],
                language=person["language"] or i18n.DEFAULT,
                url=url,
            )
            mail.send(
                smtp_url=config.smtp_url,
                mail_from=config.mail_from,
                to=person["email"],
                subject=subject,
                text=text,
            )
    except mail.MailError:
        log.exception("shop %s's staff not told of its %s application", shop_id, decision)
        return False
    return True
