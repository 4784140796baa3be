# SPDX-License-Identifier: MIT
"""``wrenchlight notify``: run the notification dispatcher, or send what is due once.

The dispatcher reads the outbox beside the webhook delivery worker (its own mark), so either
can run without the other. psycopg and the web package load only when a command runs.
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime
from typing import Annotated

import typer

from wrenchlight.cli.common import err, require_db, settings_of

app = typer.Typer(
    help="Notifications to people (mail, Apprise URLs) from the outbox.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON line.")]
ClaimOption = Annotated[
    float | None,
    typer.Option(
        min=1.0,
        help="Seconds after which a delivery claimed by a dispatcher that died is sent again "
        "(default 60).",
    ),
]


@app.command("send-due")
def send_due_cmd(
    ctx: typer.Context, claim: ClaimOption = None, as_json: JsonOption = False
) -> None:
    """One round: announce due surveys, turn new events into deliveries, send what is due."""
    import db
    from web.notify import dispatch
    from web.pages import Pages
    from wrenchlight.api_config import notify_config

    settings = settings_of(ctx)
    with db.connect(require_db(settings), autocommit=True) as conn:
        counts = dispatch.pass_once(
            conn, Pages(), notify_config(settings, claim_s=claim), now=datetime.now(UTC)
        )
        counts["pending"] = dispatch.pending_count(conn)
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(
            f"surveys announced {counts['surveys']}, events read {counts['events']}, "
            f"attempts {counts['attempts']}, still pending {counts['pending']}"
        )


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    poll: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks for retries and held messages.")
    ] = 1.0,
    claim: ClaimOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dispatch until SIGINT or SIGTERM (several dispatchers may share the work)."""
    from web.notify import dispatch
    from wrenchlight.api_config import notify_config

    settings = settings_of(ctx)
    url = require_db(settings)
    config = notify_config(settings, claim_s=claim)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if as_json:
        typer.echo(json.dumps({"running": True, "mail": config.smtp_url is not None}))
    else:
        err.print(
            "notification dispatcher running"
            + ("" if config.smtp_url else " (no WRENCHLIGHT_SMTP_URL: mail deliveries wait)")
            + "; Ctrl-C stops it"
        )
    dispatch.run(url, config, stop=stop, poll_s=poll)


@app.command("weekly-summary")
def weekly_summary_cmd(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="The moment to act at (ISO 8601; default the clock): last week is "
            "the whole week before it.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Mail last week's summary to each fleet's chosen recipients; once per fleet and week,
    so run it as often as you like (cron: Mondays 07:00)."""
    import db
    from web.fleet_summary import send_due
    from web.mail import MailError
    from web.pages import Pages
    from wrenchlight.api_config import notify_config

    settings = settings_of(ctx)
    config = notify_config(settings)
    if config.smtp_url is None:
        err.print("no WRENCHLIGHT_SMTP_URL: nothing can be mailed")
        raise typer.Exit(2)
    now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    with db.connect(require_db(settings), autocommit=True) as conn:
        try:
            sent = send_due(
                conn,
                Pages(),
                smtp_url=config.smtp_url,
                mail_from=config.mail_from,
                base_url=config.base_url,
                now=now,
            )
        except MailError as exc:
            err.print(f"the summary was not sent (the next run tries again): {exc}")
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"sent": [{"fleet_id": f, "recipients": n} for f, n in sent]}))
    else:
        typer.echo(f"summaries sent: {len(sent)} fleets, {sum(n for _, n in sent)} messages")
