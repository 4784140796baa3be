# SPDX-License-Identifier: MIT
"""``wrenchlight webhooks``: subscribe a receiver, read its delivery log, run the delivery worker.

psycopg and the api package load only when a command runs.
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Annotated, Any

import typer

from wrenchlight.cli.common import err, require_db, settings_of

app = typer.Typer(help="Signed webhook deliveries of alert and order events.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON line.")]


def _echo(doc: dict[str, Any], as_json: bool, text: str) -> None:
    typer.echo(json.dumps(doc, default=str) if as_json else text)


@app.command("add")
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The receiver, http(s)://…")],
    event: Annotated[
        list[str],
        typer.Option(
            "--event",
            "-e",
            help="alert.raised, order.created or order.status_changed; repeat for several.",
        ),
    ],
    fleet: Annotated[int | None, typer.Option(help="Only this fleet's events.")] = None,
    shop: Annotated[int | None, typer.Option(help="Only this shop's orders.")] = None,
    description: Annotated[str | None, typer.Option(help="A note for people.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe URL to events; prints the signing secret, which is not shown again."""
    import db
    from api import webhooks
    from wrenchlight.api_config import webhook_config

    settings = settings_of(ctx)
    url_db = require_db(settings)
    with db.connect(url_db, autocommit=True) as conn:
        try:
            created = webhooks.create(
                conn,
                url=url,
                event_types=event,
                fleet_id=fleet,
                shop_id=shop,
                description=description,
                config=webhook_config(settings),
            )
        except webhooks.InvalidSubscription as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
    doc = {**created.subscription, "secret": created.secret}
    _echo(
        doc,
        as_json,
        f"subscription {doc['subscription_id']} → {url}\n"
        f"signing secret (shown once): {created.secret}",
    )


@app.command("log")
def log_cmd(
    ctx: typer.Context,
    subscription: Annotated[int, typer.Argument(help="Subscription id.")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="Newest deliveries.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The delivery log of a subscription: each event, its status and every attempt."""
    import db
    from api import webhooks

    with db.connect(require_db(settings_of(ctx)), autocommit=True) as conn:
        rows = webhooks.deliveries(conn, subscription, limit=limit)
    if as_json:
        typer.echo(json.dumps({"subscription_id": subscription, "deliveries": rows}, default=str))
        return
    for row in rows:
        attempts = ", ".join(str(a["status_code"] or a["error"] or "?")[:40] for a in row["log"])
        typer.echo(
            f"{row['delivery_id']:>8}  {row['event_type']:<22} {row['status']:<9} "
            f"attempts: {attempts or '-'}"
        )


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    poll: Annotated[
        float, typer.Option(min=0.1, help="Seconds between looks for retries that came due.")
    ] = 1.0,
) -> None:
    """Deliver events until SIGINT or SIGTERM (several workers may share the work)."""
    from api.webhooks import delivery
    from wrenchlight.api_config import webhook_config

    settings = settings_of(ctx)
    url = require_db(settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print("webhook delivery running; Ctrl-C stops it")
    delivery.run(url, stop=stop, poll_s=poll, config=webhook_config(settings))
