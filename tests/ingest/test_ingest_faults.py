# SPDX-License-Identifier: MIT
"""Fault injection: the ingest worker under load while processes and servers die.

Every test publishes a known load (devices x consecutive sequence numbers) with a QoS 1
publisher that retransmits until PUBACK, injects one fault while flushes are being written,
and then checks that the database holds every (device, seq) exactly once and exactly the
readings published, no more. Servers that a test stops are private ones on free ports
(private_servers.py); the machine's shared PostgreSQL and broker are never stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import psutil
import psycopg
import pytest
from ingest_support import Device, forget_session, make_batch, register
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from private_servers import MOSQUITTO, PrivateMosquitto, PrivatePostgres, free_port

import db
from ingest import IngestWorker
from telemetry import encode, topics
from telemetry.mqtt_url import MqttUrl

WRENCHLIGHT = Path(sys.executable).with_name("wrenchlight")
# A PUBACK with this reason code means the broker took the message but nobody was
# subscribed, so it went nowhere. Mosquitto 2.0.11 answers it after a restart until the
# workers are back: it restores a persistent session's ordinary subscriptions from its
# persistence file, but not its shared ones (the workers subscribe again on reconnect).
NO_MATCHING_SUBSCRIBERS = 0x10
# How long the producer waits before publishing again what reached no subscriber.
REPUBLISH_AFTER_S = 0.5
SIGNALS_PER_BATCH = 4  # make_batch: speed, rpm, coolant, odometer


# --- waiting ------------------------------------------------------------------------------


def eventually(predicate: Callable[[], object], timeout_s: float, poll_s: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes; return its last verdict."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return bool(predicate())


# A worker process's start (interpreter, imports, database and broker) on a loaded CI machine:
# seen to take over 30 s with four test processes and two browsers on two cores.
START_S = 90


def wait_for(
    predicate: Callable[[], object], timeout_s: float, what: str, detail: Callable[[], str] = str
) -> None:
    """Like ``eventually``, but fail the test naming what never happened."""
    if not eventually(predicate, timeout_s):
        pytest.fail(f"timed out after {timeout_s} s waiting for {what}\n{detail()}")


# --- the load -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """``per_device`` consecutive batches of ``samples`` one-second samples for each device."""

    devices: list[Device]
    per_device: int
    samples: int = 5

    @property
    def total(self) -> int:
        return len(self.devices) * self.per_device

    @property
    def readings_per_vehicle(self) -> int:
        return self.per_device * self.samples * SIGNALS_PER_BATCH

    @property
    def device_ids(self) -> list[str]:
        return [d.device_id for d in self.devices]

    def messages(self) -> list[tuple[str, bytes]]:
        """(topic, payload) in publishing order: the devices take turns, seq by seq.

        Each batch covers its own seconds, ending a little before now, so a doubled reading
        would also show as two rows with the same (vehicle, signal, time).
        """
        span_ms = self.samples * 1000
        first_ms = int(time.time() * 1000) - (self.per_device + 2) * span_ms
        return [
            (
                topics.topic(d.device_id, "telemetry"),
                encode(
                    make_batch(
                        d.device_id,
                        seq,
                        vin=d.vin,
                        base_time_ms=first_ms + seq * span_ms,
                        n=self.samples,
                    )
                ),
            )
            for seq in range(self.per_device)
            for d in self.devices
        ]


def stored_batches(database_url: str, load: Load) -> int:
    """How many of the load's batches are committed (0 while the database is unreachable)."""
    try:
        with psycopg.connect(database_url, connect_timeout=2) as c:
            row = c.execute(
                "SELECT count(*) FROM batches WHERE device_id = ANY(%s)", (load.device_ids,)
            ).fetchone()
    except psycopg.OperationalError:
        return 0
    assert row is not None
    return int(row[0])


def assert_stored_exactly_once(database_url: str, load: Load) -> None:
    """Every (device, seq) of the load once, and per vehicle exactly the readings published."""
    vehicle_ids = [d.vehicle_id for d in load.devices]
    with psycopg.connect(database_url) as c:
        keys = c.execute(
            "SELECT device_id, seq FROM batches WHERE device_id = ANY(%s)", (load.device_ids,)
        ).fetchall()
        readings = c.execute(
            "SELECT vehicle_id, count(*), count(DISTINCT (signal_id, time)) FROM readings_long "
            "WHERE vehicle_id = ANY(%s) GROUP BY vehicle_id",
            (vehicle_ids,),
        ).fetchall()
        dead = c.execute(
            "SELECT reason, count(*) FROM dead_letters WHERE topic = ANY(%s) GROUP BY reason",
            ([topics.topic(d, "telemetry") for d in load.device_ids],),
        ).fetchall()
    expected = {(d, seq) for d in load.device_ids for seq in range(load.per_device)}
    got = {(str(d), int(s)) for d, s in keys}
    assert not dead, f"batches of the load were dead-lettered: {dead}"
    assert not expected - got, f"{len(expected - got)} batches lost: {sorted(expected - got)[:10]}"
    assert got == expected and len(keys) == load.total
    per_vehicle = {v: (n, distinct) for v, n, distinct in readings}
    want = load.readings_per_vehicle
    assert per_vehicle == {v: (want, want) for v in vehicle_ids}, (
        f"readings per vehicle (rows, distinct rows) {per_vehicle}; each should be {want}"
    )


# --- a producer that retransmits until acknowledged -------------------------------------------


class Producer:
    """Publishes messages at QoS 1 at a steady rate from a thread, until each is delivered.

    paho keeps every message until its PUBACK and sends the unacknowledged ones again after
    each reconnect (also those published while disconnected). A PUBACK saying "no matching
    subscribers" is not a delivery either: such a message is published again (the ingest
    de-duplication makes that safe), as a careful device would.
    """

    def __init__(
        self,
        mqtt_url: str,
        client_id: str,
        messages: list[tuple[str, bytes]],
        rate_per_s: float,
        *,
        hold_at: float = 1.0,
    ) -> None:
        self._url = MqttUrl.parse(mqtt_url)
        self._messages = messages
        self._rate = rate_per_s
        # Publishing pauses at this fraction of the messages until release(), so that a fault
        # injected "mid-load" is followed by more load however slow the machine is.
        self._hold_at = int(len(messages) * hold_at)
        self._released = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        self._client.on_publish = self._on_publish
        self._acks: dict[int, ReasonCode] = {}  # mid -> reason code of its PUBACK
        self._mids: list[int] = []  # message index -> mid of its latest publish
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"producer-{client_id}")
        self.error: BaseException | None = None
        self.republished = 0  # after "no matching subscribers"

    def __enter__(self) -> Producer:
        self._client.connect(self._url.host, self._url.port)
        self._client.loop_start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._released.set()
        self._thread.join(10)
        self._client.disconnect()
        self._client.loop_stop()

    def _publish(self, i: int) -> int:
        topic, payload = self._messages[i]
        info = self._client.publish(topic, payload, qos=1)
        # While the broker is away paho answers NO_CONN but keeps the message and sends it
        # after reconnecting.
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise RuntimeError(f"publish refused locally: {info.rc}")
        return info.mid

    def _unheard(self, i: int) -> bool:
        rc = self._acks.get(self._mids[i])
        return rc is not None and rc.value == NO_MATCHING_SUBSCRIBERS

    def _run(self) -> None:
        clock = time.monotonic()  # when message 0 was due; moved on by a hold
        retry_at = clock
        held = False
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= retry_at:  # a pause between rounds, so nobody is flooded
                    retry_at = now + REPUBLISH_AFTER_S
                    for i in range(len(self._mids)):
                        if self._unheard(i):
                            self._mids[i] = self._publish(i)
                            self.republished += 1
                n = len(self._mids)
                if n == len(self._messages) and self.unacknowledged() == 0:
                    return
                if n >= self._hold_at and not self._released.is_set():
                    held = True
                elif held:  # released: go on at the same pace from here
                    held = False
                    clock = now - n / self._rate
                while not held and n < len(self._messages) and clock + n / self._rate <= now:
                    self._mids.append(self._publish(n))
                    n += 1
                    held = n >= self._hold_at and not self._released.is_set()
                self._stop.wait(0.02)
        except BaseException as exc:
            self.error = exc

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acks[mid] = reason_code

    def release(self) -> None:
        """Publish the rest of the messages."""
        self._released.set()

    @property
    def published(self) -> int:
        return len(self._mids)

    def unacknowledged(self) -> int:
        """Messages without a PUBACK that delivered them (to a subscriber, or refused)."""
        return sum(
            mid not in self._acks or self._acks[mid].value == NO_MATCHING_SUBSCRIBERS
            for mid in list(self._mids)
        )

    def wait_acknowledged(self, timeout_s: float) -> None:
        wait_for(
            lambda: not self._thread.is_alive(),
            timeout_s,
            "the broker to take every message",
            self.describe,
        )
        assert self.error is None, f"producer failed: {self.error!r}"
        assert self.published == len(self._messages)
        refused = [str(rc) for rc in self._acks.values() if rc.is_failure]
        assert not refused, f"the broker refused publishes: {refused[:5]}"
        assert self.unacknowledged() == 0, self.describe()

    def describe(self) -> str:
        return (
            f"producer: published {self.published}/{len(self._messages)}, unacknowledged "
            f"{self.unacknowledged()}, republished {self.republished}, error {self.error!r}"
        )


# --- the service as operators run it -------------------------------------------------------


class IngestService:
    """``wrenchlight ingest`` as a subprocess: a supervisor and its worker processes."""

    def __init__(
        self,
        directory: Path,
        database_url: str,
        mqtt_url: str,
        *,
        workers: int,
        group: str,
        client_prefix: str,
        session_expiry_s: int,
        metrics_port: int = 0,
    ) -> None:
        assert WRENCHLIGHT.exists(), f"{WRENCHLIGHT} missing: is the project installed?"
        self.directory = directory
        self.log = directory / "ingest.log"
        self.client_ids = [f"{client_prefix}-{i}" for i in range(workers)]
        self.args = [
            str(WRENCHLIGHT),
            "ingest",
            f"--workers={workers}",
            f"--group={group}",
            f"--client-prefix={client_prefix}",
            f"--session-expiry={session_expiry_s}",
            f"--metrics-port={metrics_port}",
        ]
        self.env = {
            **os.environ,
            "WRENCHLIGHT_DATABASE_URL": database_url,
            "WRENCHLIGHT_MQTT_URL": mqtt_url,
            "WRENCHLIGHT_LOG_LEVEL": "INFO",
            # The supervisor's metrics directory, which a SIGKILL leaves behind, lands here.
            "TMPDIR": str(directory),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process: subprocess.Popen | None = None
        self._seen: set[int] = set()  # every pid of the tree, for the final clean-up

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.directory
            )
        self._seen.add(self.process.pid)

    def subscribed_workers(self) -> int:
        """Workers that have logged being subscribed and running, over all starts."""
        return self.log.read_text(errors="replace").count("ingest running with 1 worker(s)")

    def workers(self) -> list[psutil.Process]:
        """The live worker processes (not the multiprocessing resource tracker)."""
        assert self.process is not None
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        found = []
        for child in children:
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(
                    child.cmdline()
                ):
                    found.append(child)
                    self._seen.add(child.pid)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        return found

    def kill_tree(self) -> None:
        """SIGKILL the workers and the supervisor: nothing gets to drain or disconnect."""
        assert self.process is not None
        workers = self.workers()
        for worker in workers:  # the workers first, while they may be mid-flush
            worker.kill()
        rest = psutil.Process(self.process.pid).children(recursive=True)
        self.process.kill()
        for proc in rest:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        self.process.wait(10)
        psutil.wait_procs([*workers, *rest], timeout=10)

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM: the workers commit and acknowledge what they hold, then all exit."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"ingest did not stop within {timeout_s} s on SIGTERM\n{self.tail()}")

    def close(self) -> None:
        """Whatever happened, leave no process of ours behind."""
        if self.process is not None and self.process.poll() is None:
            for proc in psutil.Process(self.process.pid).children(recursive=True):
                self._seen.add(proc.pid)
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        leftovers = []
        for pid in self._seen:
            try:
                proc = psutil.Process(pid)
                if proc.status() != psutil.STATUS_ZOMBIE and proc.cwd() == str(self.directory):
                    proc.kill()
                    leftovers.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        psutil.wait_procs(leftovers, timeout=10)

    def tail(self, chars: int = 4000) -> str:
        try:
            return "ingest log:\n" + self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def gone(proc: psutil.Process) -> bool:
    """True once the process has exited (a zombie nobody reaps counts as exited)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def flush_in_flight(conn: psycopg.Connection) -> bool:
    """True while an ingest connection to this database is inside a statement or transaction."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'wrenchlight' AND pid <> pg_backend_pid() "
        "AND state IN ('active', 'idle in transaction')"
    ).fetchone()
    return row is not None and row[0] > 0


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def private_broker() -> Iterator[PrivateMosquitto]:
    """A Mosquitto of this test's own, with persistence, that the test may restart."""
    if MOSQUITTO is None:
        pytest.skip("needs the mosquitto binary")
    broker = PrivateMosquitto()
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own, migrated, that the test may restart."""
    server = PrivatePostgres()
    try:
        db.upgrade(server.start())
        yield server
    finally:
        server.close()


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "ingest"
    directory.mkdir()
    return directory


def devices(conn: psycopg.Connection, unique_id: str, n: int = 4) -> list[Device]:
    return [register(conn, f"{unique_id}-d{i}") for i in range(n)]


# --- 1. a worker killed mid-flush ----------------------------------------------------------


@pytest.mark.child_clock
@pytest.mark.slow
@pytest.mark.parametrize("kill", ["worker", "supervisor", "service"])
def test_sigkill_mid_flush_stores_every_batch_exactly_once(
    kill: str, db_url, conn, quiet_broker: str, service_dir: Path, unique_id
):
    """SIGKILL while a flush is in a transaction; the broker redelivers the unacknowledged.

    ``worker``: the supervisor restarts its dead child. ``supervisor``: the orphaned worker
    notices, drains and exits by itself (else it would fight the next one over its client
    id), and the command is started again. ``service``: the whole process tree dies and the
    command is started again. Either way the new worker resumes the broker session of the
    same client id and gets what the dead one had not acknowledged.
    """
    load = Load(devices(conn, unique_id), per_device=300)
    service = IngestService(
        service_dir,
        db_url,
        quiet_broker,
        workers=1,
        group=unique_id,
        client_prefix=f"{unique_id}-w",
        session_expiry_s=300,
    )
    try:
        service.start()
        wait_for(lambda: service.subscribed_workers() == 1, START_S, "the worker", service.tail)
        (first,) = service.workers()
        with Producer(
            quiet_broker, f"{unique_id}-pub", load.messages(), 300, hold_at=0.6
        ) as producer:

            def detail() -> str:
                stored = stored_batches(db_url, load)
                return f"{producer.describe()}\nstored {stored}\n{service.tail()}"

            wait_for(lambda: stored_batches(db_url, load) >= load.total // 5, 30, "batches", detail)
            # Kill while the worker's connection is inside a flush's statement or transaction.
            wait_for(lambda: flush_in_flight(conn), 20, "a flush in flight", detail)
            if kill == "worker":
                first.kill()
            elif kill == "supervisor":
                assert service.process is not None
                service.process.kill()
                service.process.wait(10)
            else:
                service.kill_tree()
            assert producer.published < load.total, "the load ended before the kill"
            producer.release()
            if kill == "worker":
                wait_for(
                    lambda: [w.pid for w in service.workers()] not in ([], [first.pid]),
                    20,
                    "the supervisor to restart the killed worker",
                    detail,
                )
                assert service.process is not None and service.process.poll() is None
            else:
                if kill == "supervisor":
                    wait_for(lambda: gone(first), 20, "the orphaned worker to stop", detail)
                service.start()
            wait_for(lambda: service.subscribed_workers() == 2, START_S, "the new worker", detail)
            producer.wait_acknowledged(30)
            wait_for(lambda: stored_batches(db_url, load) == load.total, 30, "every batch", detail)
        assert service.stop() == 0, service.tail()
        assert_stored_exactly_once(db_url, load)
    finally:
        service.close()
        for client_id in service.client_ids:
            forget_session(quiet_broker, client_id)


# --- 2. the broker restarted ---------------------------------------------------------------


@pytest.mark.slow
def test_broker_restart_mid_load_loses_and_doubles_nothing(
    db_url, conn, private_broker: PrivateMosquitto, unique_id, caplog
):
    """Mosquitto (with persistence) stops and starts again under load; the same worker
    reconnects by itself, resumes its session and stores everything exactly once."""
    load = Load(devices(conn, unique_id), per_device=300)
    worker = IngestWorker(
        db_url,
        private_broker.url,
        client_id=f"{unique_id}-w",
        group=unique_id,
        session_expiry_s=300,
        flush_interval_s=0.1,
    )
    caplog.set_level("WARNING", logger="ingest.consumer")
    producer = Producer(private_broker.url, f"{unique_id}-pub", load.messages(), 300, hold_at=0.6)
    with worker, producer:

        def detail() -> str:
            return f"{producer.describe()}\nworker {worker.stats.snapshot()}\n{caplog.text}"

        wait_for(lambda: worker.stats.batches >= load.total // 5, 30, "batches", detail)
        first_pid = private_broker.process.pid if private_broker.process else None
        private_broker.stop()
        assert producer.published < load.total, "the load ended before the broker stopped"
        producer.release()  # into the outage: paho keeps what it cannot send yet
        wait_for(lambda: "lost the broker" in caplog.text, 10, "the worker to notice", detail)
        private_broker.start()
        assert private_broker.process is not None and private_broker.process.pid != first_pid
        producer.wait_acknowledged(30)
        wait_for(lambda: worker.stats.batches >= load.total, 30, "every batch", detail)
    assert_stored_exactly_once(db_url, load)
    # One worker, never restarted, stored the whole load itself.
    assert worker.stats.batches == load.total
    assert worker.stats.samples == load.total * load.samples * SIGNALS_PER_BATCH


# --- 3. PostgreSQL restarted ---------------------------------------------------------------


@pytest.mark.slow
def test_database_restart_mid_load_loses_and_doubles_nothing(
    private_postgres: PrivatePostgres, quiet_broker: str, unique_id
):
    """A fast shutdown of PostgreSQL under load, a few seconds down, then up again: the
    worker retries without acknowledging and stores everything exactly once."""
    url = private_postgres.url()
    with psycopg.connect(url, autocommit=True) as c:
        load = Load(devices(c, unique_id), per_device=200)
    worker = IngestWorker(
        url,
        quiet_broker,
        client_id=f"{unique_id}-w",
        group=unique_id,
        session_expiry_s=0,
        flush_interval_s=0.1,
    )
    producer = Producer(quiet_broker, f"{unique_id}-pub", load.messages(), 300, hold_at=0.6)
    with worker, producer:

        def detail() -> str:
            return (
                f"{producer.describe()}\nworker {worker.stats.snapshot()}\n"
                f"postgres log:\n{private_postgres.log.read_text(errors='replace')[-2000:]}"
            )

        wait_for(lambda: worker.stats.batches >= load.total // 4, 30, "batches", detail)
        private_postgres.stop()
        assert producer.published < load.total, "the load ended before the database stopped"
        producer.release()
        wait_for(lambda: worker.stats.retries >= 1, 20, "the worker to retry", detail)
        down_at = worker.stats.batches
        # Down until the worker has failed that flush twice more (backing off 0.5 s, then 1 s).
        wait_for(lambda: worker.stats.retries >= 3, 20, "the worker to retry again", detail)
        assert worker.stats.batches == down_at, "a flush committed while the database was down"
        private_postgres.start()
        producer.wait_acknowledged(30)
        wait_for(lambda: worker.stats.batches >= load.total, 30, "every batch", detail)
    assert_stored_exactly_once(url, load)
    assert worker.stats.samples == load.total * load.samples * SIGNALS_PER_BATCH


# --- 4. two workers share the load ---------------------------------------------------------


def test_two_workers_in_a_group_split_the_load(db_url, conn, quiet_broker: str, unique_id):
    """Two members of one shared subscription: each stores a real share, together all once."""
    load = Load(devices(conn, unique_id), per_device=150)
    workers = [
        IngestWorker(
            db_url,
            quiet_broker,
            client_id=f"{unique_id}-w{i}",
            group=unique_id,
            session_expiry_s=0,
            flush_interval_s=0.1,
        )
        for i in range(2)
    ]
    with workers[0], workers[1]:
        with Producer(quiet_broker, f"{unique_id}-pub", load.messages(), 1000) as producer:
            producer.wait_acknowledged(30)
        wait_for(
            lambda: sum(w.stats.batches for w in workers) >= load.total,
            30,
            "every batch",
            lambda: str([w.stats.snapshot() for w in workers]),
        )
    assert_stored_exactly_once(db_url, load)
    shares = [w.stats.batches for w in workers]
    assert sum(shares) == load.total and sum(w.stats.duplicates for w in workers) == 0
    assert min(shares) >= load.total // 5, f"one worker took (almost) everything: {shares}"


# What a worker logs when it stops: "{client id} stopped: {counters}".
STOPPED = re.compile(r"(\S+) stopped: .*'batches': (\d+)")


def metric(port: int, name: str) -> float:
    """The value of an unlabelled sample from the supervisor's /metrics (0 if absent)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


@pytest.mark.child_clock
@pytest.mark.slow
def test_service_with_two_workers_splits_the_load(
    db_url, conn, quiet_broker: str, service_dir: Path, unique_id
):
    """``wrenchlight ingest --workers 2``: the summed metrics count every batch once, and
    each worker process reports a real share of them when it stops."""
    load = Load(devices(conn, unique_id), per_device=150)
    port = free_port()
    service = IngestService(
        service_dir,
        db_url,
        quiet_broker,
        workers=2,
        group=unique_id,
        client_prefix=f"{unique_id}-w",
        session_expiry_s=0,
        metrics_port=port,
    )
    service.args.append("--json-logs")
    try:
        service.start()
        wait_for(lambda: service.subscribed_workers() == 2, 30, "both workers", service.tail)
        with Producer(quiet_broker, f"{unique_id}-pub", load.messages(), 1000) as producer:
            producer.wait_acknowledged(30)
        wait_for(
            lambda: metric(port, "wl_ingest_batches_total") >= load.total,
            30,
            "the metrics to count every batch",
            service.tail,
        )
        assert metric(port, "wl_ingest_batches_total") == load.total
        assert metric(port, "wl_ingest_duplicates_total") == 0
        assert service.stop() == 0, service.tail()
        assert_stored_exactly_once(db_url, load)
        # Each worker logs its counters when it stops.
        shares = {}
        for line in service.log.read_text().splitlines():
            if line.startswith("{"):
                found = STOPPED.match(json.loads(line).get("message", ""))
                if found:
                    shares[found[1]] = int(found[2])
        assert set(shares) == set(service.client_ids), service.tail()
        assert sum(shares.values()) == load.total
        assert min(shares.values()) >= load.total // 5, f"one worker took everything: {shares}"
    finally:
        service.close()
