# SPDX-License-Identifier: MIT
"""A publish run with an attacker in the broker: honest edge agents publish batches through
the generated configuration while a registered device keeps trying to join the ingest group,
read every tenant's topics, take over the ingest workers' sessions and log in under the
services' names with its own password. At the end every batch an agent was told was delivered
(PUBACK success, so it left the agent's outbox) must be stored.

The issue's 10-minute run is ``make soak`` (``test_ten_minute_run_with_an_attacker``), or this
script alone on a migrated database (e.g. from ``wrenchlight db migrate``)::

    PYTHONPATH=. python tests/security/lane_attack.py --minutes 10 \\
        --database-url postgresql://postgres@127.0.0.1:5432/wl_attack
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]

import psycopg  # noqa: E402
from broker_lanes import ConfiguredMosquitto, Probe  # noqa: E402

from api.devices import broker, credentials  # noqa: E402
from db import registry  # noqa: E402
from edge_agent.batcher import Batcher  # noqa: E402
from edge_agent.outbox import Outbox  # noqa: E402
from edge_agent.publisher import Publisher  # noqa: E402
from ingest.consumer import IngestWorker  # noqa: E402
from ingest.main import default_client_id, service_group  # noqa: E402
from wrenchlight.cli.broker import active_devices  # noqa: E402

ESCAPES = ("$share/ingest/wl/v1/+/telemetry", "wl/v1/+/telemetry", "#")
# Service names a device might log in under with its own password: the service users, and the
# bare word a device registered as ``ingest`` got before names were reserved (finding 9).
SERVICE_LOGINS = (broker.INGEST_USER, "ingest", broker.API_USER)


@dataclass
class Report:
    """What the run saw; ``lost`` must be empty and ``attacker_granted`` zero."""

    seconds: float
    devices: int
    sent: int = 0
    acknowledged: int = 0
    stored_of_acknowledged: int = 0
    still_buffered: int = 0
    lost: list[str] = field(default_factory=list)
    attacker_attempts: int = 0
    attacker_service_logins: int = 0
    attacker_refused: int = 0
    attacker_granted: list[str] = field(default_factory=list)


def _register(conn: psycopg.Connection, device_id: str) -> str:
    vehicle_id = registry.create_vehicle(conn, vin="WL" + uuid.uuid4().hex[:15].upper())
    registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id)
    return credentials.issue(conn=conn, device_id=device_id, created_by=None).password


def _attack(
    mosquitto: ConfiguredMosquitto,
    who: str,
    secret: str,
    targets: list[str],
    stop: threading.Event,
    report: Report,
) -> None:
    """Every second: take over a worker's session, log in as a service, join the group, read
    everything."""

    def login(what: str, username: str, client_id: str) -> None:
        """One attempt to take a session (kept: clean_start off), counted refused or granted."""
        p = Probe(
            mosquitto.port,
            username=username,
            password=secret,
            client_id=client_id,
            clean_start=False,
            session_expiry_s=3600,
        )
        report.attacker_attempts += 1
        if p.refused:
            report.attacker_refused += 1
        else:
            report.attacker_granted.append(what)
        p.close()

    while not stop.is_set():
        for service in SERVICE_LOGINS:
            # Under a worker's client id, to take its session too if the login were accepted.
            client_id = targets[0] if service != broker.API_USER else f"wl-api-{uuid.uuid4().hex}"
            report.attacker_service_logins += 1
            login(f"login {service}", service, client_id)
        for client_id in targets:
            login(f"session {client_id}", who, client_id)
        p = Probe(
            mosquitto.port, username=who, password=secret, client_id=broker.device_client_id(who)
        )
        for escape in ESCAPES:
            report.attacker_attempts += 1
            if p.subscribe(escape).is_failure:
                report.attacker_refused += 1
            else:
                report.attacker_granted.append(f"subscribe {escape}")
        p.close()
        stop.wait(1.0)


def run(
    database_url: str,
    *,
    seconds: float,
    devices: int = 3,
    batches_per_s: float = 5.0,
    workers: int = 2,
    legacy: bool = False,
) -> Report:
    """The run on a migrated database; returns its report. ``legacy``: the access list,
    client ids and group of before issue 15, to show the run detects the losses."""
    report = Report(seconds=seconds, devices=devices)
    run_id = uuid.uuid4().hex[:8]
    ids = [f"atk{run_id}-car{i}" for i in range(devices)]
    attacker = f"atk{run_id}-evil"
    with psycopg.connect(database_url, autocommit=True) as conn:
        passwords = {d: _register(conn, d) for d in [*ids, attacker]}
        mode = "legacy" if legacy else "dynsec"
        mosquitto = ConfiguredMosquitto(active_devices(conn), mode=mode).start()
    work = Path(tempfile.mkdtemp(prefix="wl-attack-"))
    url = mosquitto.service_url(broker.INGEST_USER)
    ingest = [
        IngestWorker(
            database_url,
            url,
            client_id=default_client_id(i, mqtt_url=None if legacy else url),
            group="ingest" if legacy else service_group("ingest", url),
            upkeep=False,
        )
        for i in range(workers)
    ]
    publishers: dict[str, Publisher] = {}
    sent: dict[str, list[int]] = {d: [] for d in ids}
    stop = threading.Event()
    try:
        for worker in ingest:
            worker.start()
        attack = threading.Thread(
            target=_attack,
            args=(
                mosquitto,
                attacker,
                passwords[attacker],
                [w.client_id for w in ingest],
                stop,
                report,
            ),
            daemon=True,
        )
        attack.start()
        for d in ids:
            pub = Publisher(
                mqtt_url=mosquitto.url(d, passwords[d]),
                device_id=d,
                outbox=Outbox(work / f"{d}.db"),
                signals=["speed_kmh"],
            )
            pub.start()
            publishers[d] = pub
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now_ms = int(time.time() * 1000)
            for d, pub in publishers.items():
                batch = Batcher(device_id=d, vin="")
                for k in range(5):
                    batch.add("speed_kmh", now_ms - 1000 * (5 - k), float(k))
                cut = batch.cut(seq=0)
                assert cut is not None
                sent[d].append(pub.send(cut))
                report.sent += 1
            time.sleep(1.0 / batches_per_s)
        stop.set()
        attack.join(30)
        for pub in publishers.values():
            pub.wait_drained(60)
    finally:
        stop.set()
        for pub in publishers.values():
            pub.stop()
        for worker in ingest:
            worker.stop()
        mosquitto.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for d, pub in publishers.items():
            pending = {seq for seq, _ in pub.outbox.pending(limit=10**9)}
            acked = set(sent[d]) - pending  # left the outbox: the agent was told "delivered"
            rows = conn.execute("SELECT seq FROM batches WHERE device_id = %s", (d,)).fetchall()
            stored = {r[0] for r in rows}
            report.acknowledged += len(acked)
            report.still_buffered += len(pending)
            report.stored_of_acknowledged += len(acked & stored)
            report.lost += [f"{d}#{s}" for s in sorted(acked - stored)]
            pub.outbox.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--database-url", required=True, help="a migrated database")
    parser.add_argument("--devices", type=int, default=3)
    args = parser.parse_args()
    report = run(args.database_url, seconds=args.minutes * 60, devices=args.devices)
    print(json.dumps(asdict(report) | {"lost": len(report.lost), "lost_sample": report.lost[:10]}))
    sys.exit(1 if report.lost or report.attacker_granted else 0)


if __name__ == "__main__":
    main()
