# SPDX-License-Identifier: MIT
"""The fleet's weekly summary by mail: last week's figures (``web.fleet_reports``) and the
orders waiting for approval, to the recipients the fleet's manager chose (migration ``0022``,
``fleet_report_recipients``), in each recipient's language when they are a user, else English.

``send_due`` is idempotent per fleet and week: it claims the week in
``fleet_weekly_summaries`` (its primary key) in the transaction that sends, so a second run,
or a concurrent one, sends nothing; a mail server that refuses rolls the claim back and the
next run tries again (the recipients reached before the refusal then get it twice: a weekly
job on a failing relay is rare, a missing summary would go unnoticed). Run it from cron, e.g.
Mondays 07:00: ``wrenchlight notify weekly-summary``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from db.rows import dicts, scalar, scalars
from orders import approval
from web import fleet_reports as reports
from web import i18n, mail
from web.orders import money
from web.pages import Formatter, Pages

MAX_RECIPIENTS = 20
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


def recipients(conn: psycopg.Connection, *, fleet_id: int) -> list[str]:
    """The fleet's summary recipients, by address."""
    return [
        str(e)
        for e in scalars(
            conn,
            "SELECT email FROM fleet_report_recipients WHERE fleet_id = %s ORDER BY email",
            (fleet_id,),
        )
    ]


def parse(text: str) -> tuple[list[str], list[str]]:
    """Addresses one a line (or separated by commas): the valid ones, de-duplicated, and the
    ones that are not addresses."""
    valid: list[str] = []
    wrong: list[str] = []
    for word in re.split(r"[\s,;]+", text):
        if not word:
            continue
        if EMAIL.match(word) and len(word) <= 254:
            if word.lower() not in (v.lower() for v in valid):
                valid.append(word)
        else:
            wrong.append(word)
    return valid, wrong


def set_recipients(conn: psycopg.Connection, *, fleet_id: int, emails: list[str]) -> None:
    """Replace the fleet's recipients."""
    if len(emails) > MAX_RECIPIENTS:
        raise ValueError(f"at most {MAX_RECIPIENTS} recipients")
    with conn.transaction():
        conn.execute("DELETE FROM fleet_report_recipients WHERE fleet_id = %s", (fleet_id,))
        for email in emails:
            conn.execute(
                "INSERT INTO fleet_report_recipients (fleet_id, email) VALUES (%s, %s)",
                (fleet_id, email),
            )


def last_sent(conn: psycopg.Connection, *, fleet_id: int) -> datetime | None:
    """When the fleet's newest summary went."""
    found = scalar(
        conn, "SELECT max(sent_at) FROM fleet_weekly_summaries WHERE fleet_id = %s", (fleet_id,)
    )
    return found if isinstance(found, datetime) else None


@dataclass(frozen=True)
class Week:
    """What a week's summary says."""

    fleet_name: str
    start: datetime
    end: datetime
    totals: reports.Totals
    currencies: list[str]
    alerts_raised: int
    alerts_resolved: int
    waiting: list[approval.Waiting]
    worst: list[reports.VehicleFigures]  # the costliest vehicles of the week


def gather(conn: psycopg.Connection, *, fleet_id: int, start: datetime, end: datetime) -> Week:
    """The week from ``start`` to ``end`` of the fleet."""
    figures = reports.vehicles(conn, fleet_id=fleet_id, since=start, end=end)
    money = reports.currencies(figures)
    raised, resolved = reports.alerts_count(conn, fleet_id=fleet_id, since=start, end=end)
    name = scalar(conn, "SELECT name FROM fleets WHERE fleet_id = %s", (fleet_id,))
    waiting = [
        w
        for w in approval.fleet_orders(conn, fleet_id=fleet_id, since=end)
        if w.approval == "pending"
    ]
    main = money[0] if money else None
    worst = sorted(
        (v for v in figures if main and v.cost.get(main)),
        key=lambda v: -v.cost.get(main or "", 0.0),
    )[:5]
    return Week(
        fleet_name=str(name),
        start=start,
        end=end,
        totals=reports.totals(figures),
        currencies=money,
        alerts_raised=raised,
        alerts_resolved=resolved,
        waiting=waiting,
        worst=worst,
    )


def compose(pages: Pages, week: Week, *, language: str, base_url: str) -> tuple[str, str]:
    """The summary's subject and plain text in ``language``."""
    language = language if language in i18n.LANGUAGES else i18n.DEFAULT
    i18n.activate(pages.catalogues[language])
    locale = i18n.babel_locale(language)
    fmt = Formatter(locale, "metric")
    template = pages.env.get_template("fleet_summary.txt")
    text = template.render(
        week=week,
        fmt=fmt,
        money=lambda amount, currency: money(float(amount), currency, locale),
        last_day=week.end - timedelta(days=1),
        reports_url=f"{base_url.rstrip('/')}/app/fleet/reports",
        approvals_url=f"{base_url.rstrip('/')}/app/fleet/approvals",
    )
    subject, _, body = text.strip().partition("\n")
    # The template's optional blocks leave runs of blank lines: one is enough.
    return subject.strip(), re.sub(r"\n{3,}", "\n\n", body.strip()) + "\n"


def send_due(
    conn: psycopg.Connection,
    pages: Pages,
    *,
    smtp_url: str,
    mail_from: str,
    base_url: str,
    now: datetime,
) -> list[tuple[int, int]]:
    """Send last week's summary of every fleet with recipients that has not had it; the
    (fleet, recipients) it went to. ``mail.MailError`` stops the run, the week unclaimed."""
    start, end = reports.week_of(now)
    sent = []
    fleets = scalars(
        conn, "SELECT DISTINCT fleet_id FROM fleet_report_recipients ORDER BY fleet_id"
    )
    for fleet_id in fleets:
        to = dicts(
            conn,
            "SELECT r.email, u.language FROM fleet_report_recipients r "
            "LEFT JOIN users u ON lower(u.email) = lower(r.email) "
            "WHERE r.fleet_id = %s ORDER BY r.email",
            (fleet_id,),
        )
        with conn.transaction():
            claimed = scalar(
                conn,
                "INSERT INTO fleet_weekly_summaries (fleet_id, week_start, sent_at, recipients) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING fleet_id",
                (fleet_id, start.date(), now, len(to)),
            )
            if claimed is None:
                continue
            week = gather(conn, fleet_id=int(fleet_id), start=start, end=end)
            for r in to:
                subject, text = compose(
                    pages, week, language=r["language"] or i18n.DEFAULT, base_url=base_url
                )
                mail.send(
                    smtp_url=smtp_url,
                    mail_from=mail_from,
                    to=r["email"],
                    subject=subject,
                    text=text,
                )
        sent.append((int(fleet_id), len(to)))
    return sent
