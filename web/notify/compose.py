# SPDX-License-Identifier: MIT
"""What a notification says: the subject, a plain-text and an HTML body for mail, a title and
a short body for the other channels; in the recipient's language and units, with the car's
state (oil life, pads, their tiers) read through the API's own health service.

The words live in templates (``templates/notify/``) and the catalogues, like the pages'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import parseaddr
from typing import Any

import psycopg
from babel.dates import format_datetime

from api.vehicles.service import get_health
from db.rows import a_dict
from web import i18n
from web.notify.quiet import QuietHours
from web.orders import local_time
from web.pages import Formatter, Pages

TEMPLATES = {
    "subject": "notify/subject.txt",
    "text": "notify/mail.txt",
    "html": "notify/mail.html",
    "short": "notify/short.txt",
}
# The API's bands in the words people read ("due_now" and "overdue" mean: change it now).
TIER_OF_BAND = {
    "good": "good",
    "due_soon": "due_soon",
    "due_now": "change_now",
    "overdue": "change_now",
}


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, in their own words and units."""

    user_id: int
    email: str
    language: str
    units: str
    quiet: QuietHours


@dataclass(frozen=True)
class Content:
    """One message, in every form a channel may need."""

    subject: str
    text: str
    html: str
    short: str


def target_of(event_kind: str, payload: dict[str, Any]) -> str:
    """The page of the app a message points at: the order for order events, the shop's inbox
    for an offer to it, the job card for a fleet's decision on an order the shop holds (the
    inbox while it is only offered), else the car."""
    order_id = payload.get("order_id")
    if event_kind == "offer_made":
        return "/shop"
    if event_kind == "approval_decided":
        if order_id is None:
            return "/shop"
        held = payload.get("shop_id") is not None
        return f"/shop/jobs/{int(order_id)}" if held else f"/shop#order-{int(order_id)}"
    if order_id is not None and event_kind != "tier_crossed":
        return f"/orders/{int(order_id)}"
    return f"/cars/{int(payload['vehicle_id'])}"


def _car(conn: psycopg.Connection, vehicle_id: int) -> dict[str, Any]:
    vehicle = a_dict(
        conn,
        "SELECT vin, make, model, model_year FROM vehicles WHERE vehicle_id = %s",
        (vehicle_id,),
    )
    health = get_health(conn=conn, vehicle_id=vehicle_id)
    words = [str(vehicle[k]) for k in ("make", "model", "model_year") if vehicle and vehicle[k]]
    state: dict[str, Any] = {
        "title": " ".join(words) or (vehicle or {}).get("vin", ""),
        "vin": (vehicle or {}).get("vin", ""),
        "oil_pct": None,
        "oil_tier": None,
        "oil_km": None,
        "pads_mm": None,
        "pads_tier": None,
    }
    if health is not None and health.oil is not None:
        state.update(
            oil_pct=health.oil.oil_life_pct,
            oil_tier=TIER_OF_BAND[health.oil.band],
            oil_km=health.oil.remaining_km,
        )
    if health is not None and health.brake_pads is not None:
        pads = health.brake_pads
        state.update(
            pads_mm=min(pads.pad_front_mm, pads.pad_rear_mm), pads_tier=TIER_OF_BAND[pads.band]
        )
    return state


def _order(conn: psycopg.Connection, order_id: int | None) -> dict[str, Any] | None:
    if order_id is None:
        return None
    return a_dict(
        conn,
        "SELECT o.order_id, o.status, o.issue, o.appointment_starts_at AS starts_at, "
        "s.name AS shop, s.timezone AS shop_timezone "
        "FROM service_orders o LEFT JOIN shops s USING (shop_id) "
        "WHERE o.order_id = %s",
        (order_id,),
    )


def _moment(text: Any) -> datetime | None:
    """A time the outbox's JSON carries (ISO 8601), or None."""
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def compose(
    pages: Pages,
    conn: psycopg.Connection,
    *,
    recipient: Recipient,
    event_kind: str,
    urgent: bool,
    payload: dict[str, Any],
    open_url: str,
    unsubscribe_url: str | None,
    settings_url: str,
) -> Content:
    """The message of one event for ``recipient``."""
    language = recipient.language if recipient.language in i18n.LANGUAGES else i18n.DEFAULT
    i18n.activate(pages.catalogues[language])
    locale = i18n.babel_locale(language)
    zone = recipient.quiet.zone()

    def local(when: datetime) -> str:
        """A time on the recipient's own clock, with its zone."""
        return format_datetime(when, format="medium", tzinfo=zone, locale=locale) + (
            f" ({recipient.quiet.time_zone})"
        )

    def at_shop(when: datetime, timezone: str | None) -> str:
        """A visit's time on the shop's clock, as the order page shows it, with the zone named
        (the owner goes there, wherever their own settings put them)."""
        if not timezone:
            return local(when)
        return f"{local_time(when, timezone, locale)} ({timezone})"

    expires = _moment(payload.get("expires_at"))
    if event_kind == "offer_made" and expires is not None:
        # The time to answer by, on the recipient's clock (the words' macros take the payload).
        payload = {**payload, "answer_by": local(expires)}
    context = {
        "kind": event_kind,
        "urgent": urgent,
        "payload": payload,
        "car": _car(conn, int(payload["vehicle_id"])),
        "order": _order(conn, payload.get("order_id")),
        "open_url": open_url,
        "unsubscribe_url": unsubscribe_url,
        "settings_url": settings_url,
        "fmt": Formatter(locale, recipient.units),
        "local": local,
        "at_shop": at_shop,
        "lang": language,
        "html_lang": "zh-Hans" if language == "zh_Hans" else "en",
    }
    rendered = {}
    for form, name in TEMPLATES.items():
        template = pages.env.get_template(name)
        rendered[form] = template.render(context)
    return Content(
        subject=" ".join(rendered["subject"].split()),
        text=rendered["text"].strip() + "\n",
        html=rendered["html"],
        short=rendered["short"].strip(),
    )


def message_id(event_id: int, channel_id: int, mail_from: str) -> str:
    """The Message-ID of an event's delivery to a channel: fixed when the delivery is made, the
    same on every attempt, so a copy sent again after a crash is recognisably the same
    message (receivers and mailboxes keep one)."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "wrenchlight.invalid"
    return f"<notify-{event_id}-{channel_id}@{domain}>"


def mail(
    content: Content,
    *,
    mail_from: str,
    to: str,
    message_id: str,
    unsubscribe_url: str | None,
    now: datetime,
) -> EmailMessage:
    """The mail of ``content``: plain text and HTML alternatives, and the one-click
    unsubscribe headers of RFC 8058."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = content.subject
    message["Message-ID"] = message_id
    message["Date"] = rfc2822_date(now.astimezone(UTC))
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message
