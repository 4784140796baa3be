# SPDX-License-Identifier: MIT
"""The notification dispatcher: outbox events become deliveries, one per (event, user,
channel), sent by mail or through Apprise, retried with backoff, every attempt logged.

It reads the same transactional outbox as webhooks (revision 0007) with a mark of its own
(``outbox.notified_at``), and keeps its schedule in the database like the webhook deliveries
(``next_attempt_at``, ``FOR UPDATE SKIP LOCKED``, a claim that lapses when a dispatcher dies),
for the same reasons: a delivery keeps its place across restarts, and several dispatchers
share the table.

At most one send per (event, user, channel) is the table's unique key. What a crash in the
middle of a send can leave is the one case no sender can rule out alone: the mail server took
the message but the dispatcher died before hearing so. The delivery's claim then lapses and
it is sent again, *with the same Message-ID* (``compose.message_id``): receivers keep one
message per Message-ID (the demo's mailbox does, by a unique key; so do the mail providers
that deduplicate), so the person sees one message.

Recipients of a vehicle's events: its owner and, for a fleet's vehicle, the fleet's managers;
of an offer to a shop (``offer.made``), that shop's staff; of a fleet's decision on an order
(``order.approval_decided``), the staff of the shops that may see the order when the event is
fanned out (``api.access.staff_seeing_order``: the shop holding it, or those it is offered to
and that have not answered). An offer's message that could not
go before the offer closed (quiet hours, retries) is skipped: there is nothing to answer.
Messages that can wait are held during the recipient's quiet hours and go out when they end;
urgent ones (a part to change now, a critical code) go at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from typing import Any

import psycopg
from psycopg import sql

from api.access import staff_seeing_order
from api.webhooks.delivery import CHANNEL, RETRY_SCHEDULE
from api.webhooks.network import UnsafeDestination, WebhookConfig
from db.rows import a_dict, dicts
from web import i18n, mail
from web.notify import channels, guard, links
from web.notify.compose import Content, Recipient, compose, message_id, target_of
from web.notify.compose import mail as make_mail
from web.notify.events import OUTBOX_TYPES, SHOP_KINDS, classify
from web.notify.quiet import QuietHours, held_until
from web.pages import Pages

log = logging.getLogger(__name__)

MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# A claimed delivery is sent again by anyone after this long (its dispatcher died mid-send).
CLAIM = timedelta(seconds=60)
# Surveys offered longer ago than this are not announced (a dispatcher first started late).
SURVEY_WINDOW = timedelta(days=7)
MOUNT = "/app"
OFFER_CLOSED = "the offer was answered or closed before the message could go"
UNREACHABLE = "the service could not be reached or did not accept the message"
REFUSED = (
    "refused: the destination is not on the public internet; an operator can "
    "allow it with WRENCHLIGHT_WEBHOOK_ALLOW_PRIVATE"
)


@dataclass(frozen=True)
class NotifyConfig:
    """Where mail leaves, the app's address for links, and which private destinations the
    operator allows Apprise URLs to reach (the webhooks' setting)."""

    smtp_url: str | None
    base_url: str
    mail_from: str = "Wrenchlight <wrenchlight@localhost>"
    network: WebhookConfig = field(default_factory=WebhookConfig)
    claim: timedelta = CLAIM

    def app_url(self, path: str) -> str:
        """The full address of a page of the app."""
        return f"{self.base_url.rstrip('/')}{MOUNT}{path}"


@dataclass(frozen=True)
class Outcome:
    """One attempt of one delivery."""

    delivery_id: int
    attempt: int
    status: str  # of the delivery afterwards: pending, delivered, failed or skipped
    error: str | None


def announce_surveys(conn: psycopg.Connection, *, now: datetime) -> int:
    """Write a ``survey.offered`` event for each survey whose time has come (once per order)."""
    return conn.execute(
        "INSERT INTO outbox (event_type, vehicle_id, fleet_id, shop_id, payload) "
        "SELECT 'survey.offered', o.vehicle_id, v.fleet_id, o.shop_id, jsonb_build_object("
        " 'order_id', o.order_id, 'vehicle_id', o.vehicle_id, 'vin', o.vin,"
        " 'shop_id', o.shop_id, 'offer_at', s.offer_at) "
        "FROM service_surveys s JOIN service_orders o USING (order_id) "
        "JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
        "WHERE s.answered_at IS NULL AND s.offer_at <= %s AND s.offer_at > %s "
        "ON CONFLICT ((payload->>'order_id')) WHERE event_type = 'survey.offered' DO NOTHING",
        (now, now - SURVEY_WINDOW),
    ).rowcount


def _recipients(conn: psycopg.Connection, vehicle_id: int | None, fleet_id: int | None) -> list:
    if vehicle_id is None:
        return []
    return dicts(
        conn,
        "SELECT u.user_id, u.email, coalesce(u.language, 'en') AS language, u.units, "
        "coalesce(p.time_zone, 'UTC') AS time_zone, p.quiet_from, p.quiet_until "
        "FROM users u LEFT JOIN notify_preferences p USING (user_id) "
        "WHERE NOT u.disabled AND (u.user_id = (SELECT owner_user_id FROM vehicles "
        "WHERE vehicle_id = %s) OR (u.role = 'fleet_manager' AND u.fleet_id = %s)) "
        "ORDER BY u.user_id",
        (vehicle_id, fleet_id),
    )


def _shop_staff(conn: psycopg.Connection, shop_id: int | None) -> list:
    """The shop's staff whose accounts are on (the recipients of an offer to the shop)."""
    if shop_id is None:
        return []
    return dicts(
        conn,
        "SELECT u.user_id, u.email, coalesce(u.language, 'en') AS language, u.units, "
        "coalesce(p.time_zone, 'UTC') AS time_zone, p.quiet_from, p.quiet_until "
        "FROM users u LEFT JOIN notify_preferences p USING (user_id) "
        "WHERE NOT u.disabled AND u.role = 'shop_staff' AND u.shop_id = %s "
        "ORDER BY u.user_id",
        (shop_id,),
    )


def _order_shops_staff(conn: psycopg.Connection, order_id: int) -> list:
    """The staff (accounts on) of the shops that may see the order now: the shop holding it,
    or those it is offered to (the recipients of a fleet's decision on it)."""
    query = sql.SQL(
        "SELECT u.user_id, u.email, coalesce(u.language, 'en') AS language, u.units, "
        "coalesce(p.time_zone, 'UTC') AS time_zone, p.quiet_from, p.quiet_until "
        "FROM users u LEFT JOIN notify_preferences p USING (user_id) "
        "JOIN service_orders o ON o.order_id = %s "
        "WHERE NOT u.disabled AND {} ORDER BY u.user_id"
    ).format(staff_seeing_order("u", "o"))
    return dicts(conn, query, (order_id,))


def _people(conn: psycopg.Connection, kind: str, event: dict[str, Any]) -> list:
    """Who is told of ``event`` (of ``kind``)."""
    if kind == "approval_decided":
        return _order_shops_staff(conn, int(event["payload"]["order_id"]))
    if kind in SHOP_KINDS:
        return _shop_staff(conn, event["shop_id"])
    return _recipients(conn, event["vehicle_id"], event["fleet_id"])


def _offer_open(conn: psycopg.Connection, payload: dict[str, Any], now: datetime) -> bool:
    """Whether the offer of an ``offer_made`` message still waits for the shop's answer."""
    found = a_dict(
        conn,
        "SELECT 1 AS open FROM service_offers WHERE offer_id = %s AND response IS NULL "
        "AND expires_at > %s",
        (int(payload["offer_id"]), now),
    )
    return found is not None


def _quiet(row: dict[str, Any]) -> QuietHours:
    return QuietHours(row["time_zone"], row["quiet_from"], row["quiet_until"])


def fan_out(conn: psycopg.Connection, *, now: datetime, mail_from: str, limit: int = 200) -> int:
    """Turn up to ``limit`` new outbox events into deliveries: one per recipient and channel
    that carries the event's kind, held until quiet hours end when it can wait. Returns the
    events taken."""
    with conn.transaction():
        events = dicts(
            conn,
            "SELECT event_id, event_type, vehicle_id, fleet_id, shop_id, payload FROM outbox "
            "WHERE notified_at IS NULL ORDER BY event_id LIMIT %s FOR UPDATE SKIP LOCKED",
            (limit,),
        )
        for event in events:
            found = (
                classify(event["event_type"], event["payload"])
                if event["event_type"] in OUTBOX_TYPES
                else None
            )
            if found is None:
                continue
            for person in _people(conn, found.kind, event):
                hold = None if found.urgent else held_until(_quiet(person), now)
                for channel in channels.of_user(conn, person["user_id"]):
                    if not channel.carries(found.kind):
                        continue
                    conn.execute(
                        "INSERT INTO notify_deliveries (event_id, user_id, channel_id, "
                        "event_kind, urgent, next_attempt_at, held_until, message_id) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (event_id, user_id, channel_id) DO NOTHING",
                        (
                            event["event_id"],
                            person["user_id"],
                            channel.channel_id,
                            found.kind,
                            found.urgent,
                            hold or now,
                            hold,
                            message_id(event["event_id"], channel.channel_id, mail_from),
                        ),
                    )
        if events:
            conn.execute(
                "UPDATE outbox SET notified_at = %s WHERE event_id = ANY(%s)",
                (now, [e["event_id"] for e in events]),
            )
    return len(events)


def _claim(conn: psycopg.Connection, now: datetime, limit: int, claim: timedelta) -> list:
    with conn.transaction():
        return dicts(
            conn,
            "WITH due AS ("
            " SELECT delivery_id FROM notify_deliveries"
            " WHERE status = 'pending' AND next_attempt_at <= %(now)s"
            " ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED"
            "), claimed AS ("
            " UPDATE notify_deliveries d SET attempts = d.attempts + 1,"
            "  next_attempt_at = %(now)s + %(claim)s"
            " FROM due WHERE d.delivery_id = due.delivery_id RETURNING d.*"
            ") SELECT c.delivery_id, c.attempts AS attempt, c.event_kind, c.urgent, c.user_id,"
            " c.channel_id, c.message_id, c.event_id, o.payload, ch.kind AS channel_kind, ch.url,"
            " u.email, coalesce(u.language, 'en') AS language, u.units, u.disabled,"
            " coalesce(p.time_zone, 'UTC') AS time_zone, p.quiet_from, p.quiet_until,"
            " EXISTS (SELECT 1 FROM notify_muted m WHERE m.channel_id = c.channel_id"
            "  AND m.event_kind = c.event_kind) AS muted"
            " FROM claimed c JOIN outbox o USING (event_id)"
            " JOIN notify_channels ch ON ch.channel_id = c.channel_id"
            " JOIN users u ON u.user_id = c.user_id"
            " LEFT JOIN notify_preferences p ON p.user_id = c.user_id ORDER BY c.delivery_id",
            {"now": now, "limit": limit, "claim": claim},
        )


def _content(
    conn: psycopg.Connection, pages: Pages, config: NotifyConfig, due: dict[str, Any], now: datetime
) -> tuple[Content, str | None]:
    """The message of a claimed delivery and its unsubscribe URL (mail only). Mail carries
    one-time links that sign the person in; other channels plain links to the page."""
    target = target_of(due["event_kind"], due["payload"])
    unsubscribe_url = None
    if due["channel_kind"] == "email":
        token = links.issue_open(conn, user_id=due["user_id"], target=target, now=now)
        open_url = config.app_url(f"/n/{token}")
        stop = links.issue_unsubscribe(
            conn,
            user_id=due["user_id"],
            channel_id=due["channel_id"],
            event_kind=due["event_kind"],
            now=now,
        )
        unsubscribe_url = config.app_url(f"/unsubscribe/{stop}")
    else:
        open_url = config.app_url(target)
    recipient = Recipient(due["user_id"], due["email"], due["language"], due["units"], _quiet(due))
    content = compose(
        pages,
        conn,
        recipient=recipient,
        event_kind=due["event_kind"],
        urgent=due["urgent"],
        payload=due["payload"],
        open_url=open_url,
        unsubscribe_url=unsubscribe_url,
        settings_url=config.app_url("/settings"),
    )
    return content, unsubscribe_url


def send_apprise(url: str, content: Content, network: WebhookConfig) -> str | None:
    """Send ``content`` to an Apprise URL behind the public-address guard; None when the
    service accepted it, else what the log says (never the service's answer)."""
    try:
        service = guard.check(url, network)
        with guard.guarded(network):
            accepted = service.notify(body=content.short, title=content.subject)
    except guard.RefusedChannel as exc:
        return str(exc)
    except UnsafeDestination as exc:
        log.info("notification to a non-public destination refused: %s", exc.detail)
        return REFUSED
    except Exception:  # a plugin's own failure must not stop the dispatcher
        log.exception("apprise send failed")
        return UNREACHABLE
    return None if accepted else UNREACHABLE


def _send(
    conn: psycopg.Connection, pages: Pages, config: NotifyConfig, due: dict[str, Any], now: datetime
) -> str | None:
    content, unsubscribe_url = _content(conn, pages, config, due, now)
    if due["channel_kind"] == "apprise":
        return send_apprise(due["url"], content, config.network)
    if config.smtp_url is None:
        return "no mail server is configured (WRENCHLIGHT_SMTP_URL)"
    message = make_mail(
        content,
        mail_from=config.mail_from,
        to=due["email"],
        message_id=due["message_id"],
        unsubscribe_url=unsubscribe_url,
        now=now,
    )
    try:
        mail.send_message(smtp_url=config.smtp_url, message=message)
    except mail.MailError as exc:
        return str(exc)
    return None


def send_due(
    conn: psycopg.Connection,
    pages: Pages,
    config: NotifyConfig,
    *,
    now: datetime,
    limit: int = 20,
) -> list[Outcome]:
    """Send up to ``limit`` due deliveries once each; what happened to each."""
    outcomes = []
    for due in _claim(conn, now, limit, config.claim):
        delivery_id, attempt = due["delivery_id"], due["attempt"]
        started = time.perf_counter()
        error: str | None
        next_at: datetime | None
        if due["muted"] or due["disabled"]:
            status, error, next_at = "skipped", "turned off by the user since", None
        elif due["event_kind"] == "offer_made" and not _offer_open(conn, due["payload"], now):
            # Held for quiet hours or retried past its time: nothing left to answer.
            status, error, next_at = "skipped", OFFER_CLOSED, None
        else:
            try:
                error = _send(conn, pages, config, due, now)
            except Exception as exc:  # a message that cannot be written is retried, logged
                log.exception("notification %s could not be composed", delivery_id)
                error = f"the message could not be composed: {type(exc).__name__}"
            if error is None:
                status, next_at = "delivered", None
            elif attempt >= MAX_ATTEMPTS or error.lower().startswith("refused"):
                status, next_at = "failed", None
            else:
                status, next_at = "pending", now + RETRY_SCHEDULE[attempt - 1]
                if not due["urgent"]:
                    next_at = held_until(_quiet(due), next_at) or next_at
        elapsed_ms = (time.perf_counter() - started) * 1000
        with conn.transaction():
            conn.execute(
                "INSERT INTO notify_attempts (delivery_id, attempt, at, duration_ms, error) "
                "VALUES (%s, %s, %s, %s, %s)",
                (delivery_id, attempt, now, elapsed_ms, error),
            )
            conn.execute(
                "UPDATE notify_deliveries SET status = %s, next_attempt_at = %s, "
                "delivered_at = CASE WHEN %s = 'delivered' THEN %s END WHERE delivery_id = %s",
                (status, next_at, status, now, delivery_id),
            )
        if error is not None:
            log.warning("notification %s attempt %s: %s", delivery_id, attempt, error)
        outcomes.append(Outcome(delivery_id, attempt, status, error))
    return outcomes


def send_test(
    conn: psycopg.Connection,
    pages: Pages,
    config: NotifyConfig,
    *,
    user_id: int,
    channel_id: int,
    now: datetime,
) -> str | None:
    """Send a test message to one of the user's channels at once (Settings' button); None when
    it went out, else why not. Not an outbox event: nothing to retry, nobody else to tell."""
    found = a_dict(
        conn,
        "SELECT c.kind, c.url, u.email, coalesce(u.language, 'en') AS language "
        "FROM notify_channels c JOIN users u USING (user_id) "
        "WHERE c.channel_id = %s AND c.user_id = %s",
        (channel_id, user_id),
    )
    if found is None:
        return "no such channel"
    language = found["language"] if found["language"] in i18n.LANGUAGES else i18n.DEFAULT
    i18n.activate(pages.catalogues[language])
    template = pages.env.get_template("notify/test.txt")
    text = template.render(settings_url=config.app_url("/settings"))
    subject = "".join(template.blocks["subject"](template.new_context({}))).strip()
    content = Content(subject=subject, text=text, html="", short=text.strip())
    if found["kind"] == "apprise":
        return send_apprise(found["url"], content, config.network)
    if config.smtp_url is None:
        return "no mail server is configured (WRENCHLIGHT_SMTP_URL)"
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = found["email"]
    message["Subject"] = subject
    message["Date"] = rfc2822_date(now)
    message.set_content(text)
    try:
        mail.send_message(smtp_url=config.smtp_url, message=message)
    except mail.MailError as exc:
        return str(exc)
    return None


def pass_once(
    conn: psycopg.Connection, pages: Pages, config: NotifyConfig, *, now: datetime
) -> dict[str, int]:
    """One round: announce due surveys, fan out new events, send what is due (until nothing
    is). Counts of each."""
    surveys = announce_surveys(conn, now=now)
    events = fan_out(conn, now=now, mail_from=config.mail_from)
    sent = 0
    while batch := send_due(conn, pages, config, now=now):
        sent += len(batch)
    return {"surveys": surveys, "events": events, "attempts": sent}


# The longest wait between attempts to reach the database again.
MAX_RECONNECT_S = 60.0


def run(
    database_url: str,
    config: NotifyConfig,
    *,
    stop: threading.Event,
    poll_s: float = 1.0,
) -> None:
    """Dispatch until ``stop`` is set: at once when an event is announced (LISTEN
    ``wl_outbox``) and at least every ``poll_s`` for retries, held messages and surveys."""
    pages = Pages()
    delay = poll_s
    while not stop.is_set():
        try:
            _listen(database_url, pages, config, stop=stop, poll_s=poll_s)
        except psycopg.OperationalError as exc:
            if stop.is_set():
                return  # the database went first at shutdown: nothing is lost, all is queued
            # The database is away (a restart, a failover): what is due waits in its tables.
            log.warning("notifications: database unavailable, retrying in %.0f s: %s", delay, exc)
            stop.wait(delay)
            delay = min(delay * 2, MAX_RECONNECT_S)
        else:
            delay = poll_s


def _listen(
    database_url: str, pages: Pages, config: NotifyConfig, *, stop: threading.Event, poll_s: float
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        while not stop.is_set():
            try:
                pass_once(conn, pages, config, now=datetime.now(UTC))
            except psycopg.OperationalError:
                raise
            except Exception:  # one bad event must not stop everyone's notifications
                log.exception("notification round failed")
            for _ in conn.notifies(timeout=poll_s, stop_after=1):
                pass


def log_of(conn: psycopg.Connection, *, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """The user's newest deliveries with their attempts (the delivery log Settings shows)."""
    rows = dicts(
        conn,
        "SELECT d.delivery_id, d.event_kind, d.status, d.attempts, d.created_at, d.delivered_at,"
        " d.held_until, c.kind AS channel_kind, c.url, c.label FROM notify_deliveries d"
        " JOIN notify_channels c USING (channel_id) WHERE d.user_id = %s"
        " ORDER BY d.delivery_id DESC LIMIT %s",
        (user_id, limit),
    )
    ids = [r["delivery_id"] for r in rows]
    errors = {
        r["delivery_id"]: r["error"]
        for r in dicts(
            conn,
            "SELECT DISTINCT ON (delivery_id) delivery_id, error FROM notify_attempts "
            "WHERE delivery_id = ANY(%s) ORDER BY delivery_id, attempt DESC",
            (ids,),
        )
    }
    for row in rows:
        row["last_error"] = errors.get(row["delivery_id"])
    return rows


def pending_count(conn: psycopg.Connection) -> int:
    """Deliveries still to send (the CLI's summary)."""
    found = a_dict(conn, "SELECT count(*) AS n FROM notify_deliveries WHERE status = 'pending'")
    return int(found["n"]) if found else 0
