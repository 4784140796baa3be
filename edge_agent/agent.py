# SPDX-License-Identifier: MIT
"""The polling loop: read signals on their schedule, batch them, hand batches to the publisher."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from edge_agent.batcher import Batcher
from edge_agent.config import ConfigError, parse_config
from edge_agent.errors import AdapterError
from edge_agent.obd_link import ObdLink
from edge_agent.odometer import OdometerEstimate
from edge_agent.publisher import Publisher
from telemetry.dtc import DtcSnapshot

log = logging.getLogger(__name__)
SILENT_POLLS = 5
MAX_RETRY_DELAY_S = 60.0
# Below this a parked car's 12 V battery is low (about 50 % charge); a dongle polling every
# minute would flatten it over a few weeks, so it waits up to 15 minutes between attempts.
LOW_BATTERY_V = 12.2
LOW_BATTERY_MAX_DELAY_S = 900.0
ODOMETER_KEY = "odometer_m"  # the integrated odometer, in the outbox's meta table


@dataclass(frozen=True)
class Schedule:
    """Which signals to poll how often."""

    # Speed, rpm and load change within a second and drive the braking and oil models; the
    # temperatures, fuel and odometer move over minutes, so polling them every 10 s frees
    # the slow adapter link for the fast ones.
    fast: tuple[str, ...] = ("speed_kmh", "engine_rpm", "engine_load_pct", "throttle_pct")
    slow: tuple[str, ...] = (
        "coolant_temp_c",
        "oil_temp_c",
        "ambient_temp_c",
        "fuel_level_pct",
        "module_voltage_v",
        "odometer_km",
    )
    fast_period_s: float = 1.0
    slow_period_s: float = 10.0
    # Trouble codes change rarely and cost three requests; once a minute finds a new one well
    # before anyone could act on it.
    dtc_period_s: float = 60.0


@dataclass
class AgentStats:
    """Counters for the status line and --json output."""

    polls: int = 0
    samples: int = 0
    batches: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    # Measured time one poll of the fast signals takes (moving average), and the polling
    # period that results: the configured one, or longer when the adapter cannot keep up.
    read_s: float = 0.0
    fast_period_effective_s: float = 0.0
    vin: str | None = None
    signals: tuple[str, ...] = ()


class EdgeAgent:
    """Reads one vehicle through one adapter and publishes its batches."""

    def __init__(
        self,
        *,
        link: ObdLink,
        publisher: Publisher,
        device_id: str,
        schedule: Schedule | None = None,
        batch_window_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.publisher = publisher
        self.device_id = device_id
        self.schedule = schedule or Schedule()
        self.batch_window_s = batch_window_s
        self.clock = clock
        self.stats = AgentStats()
        self._supported: set[str] = set()
        self._reconfigured = threading.Event()
        self._last_dtcs: dict[str, tuple[str, ...]] | None = None
        stored_m = publisher.outbox.get_meta(ODOMETER_KEY)
        self.odometer = OdometerEstimate(None if stored_m is None else stored_m / 1000)
        publisher.on_config = self.apply_config

    def _connect(self, stop: threading.Event) -> None:
        """Reach the car, backing off while it is off; sleep longer on a weak battery."""
        delay = 1.0
        while not stop.is_set():
            try:
                self.link.connect()
                return
            except AdapterError as exc:
                # Ignition off or adapter unplugged: retry with exponential backoff. A parked
                # car's battery below LOW_BATTERY_V gets polled rarely, so the dongle does not
                # finish draining it; the ignition coming on is seen at the next attempt.
                low = exc.battery_v is not None and exc.battery_v < LOW_BATTERY_V
                ceiling = LOW_BATTERY_MAX_DELAY_S if low else MAX_RETRY_DELAY_S
                self.stats.connect_failures += 1
                battery = f" (battery {exc.battery_v:.1f} V)" if exc.battery_v else ""
                log.warning("%s%s; retrying in %.0f s", exc, battery, delay)
                stop.wait(delay)
                delay = min(delay * 2, ceiling)

    def run(self, stop: threading.Event) -> AgentStats:
        """Poll until ``stop`` is set; flush what is pending and return the counters."""
        self._connect(stop)
        if stop.is_set():
            return self.stats
        vin = self.link.read_vin() or ""
        self._supported = set(self.link.supported_signals())
        fast, slow = self._polled()
        self.stats.vin, self.stats.signals = vin, tuple(fast + slow)
        self.publisher.signals = list(self.stats.signals)
        log.info("vehicle %s: polling %s fast, %s slow", vin or "(no VIN)", fast, slow)
        batcher = Batcher(
            device_id=self.device_id, vin=vin, max_window_ms=int(self.batch_window_s * 1000)
        )
        next_slow = next_dtc = 0.0
        silent = 0
        while not stop.is_set():
            started = self.clock()
            # Re-read every cycle: a remote configuration may have replaced the schedule.
            fast, slow = self._polled()
            batcher.max_window_ms = int(self.batch_window_s * 1000)
            names = fast + (slow if started >= next_slow else [])
            if started >= next_slow:
                next_slow = started + self.schedule.slow_period_s
            try:
                values = self.link.read(names)
                self._measure(self.clock() - started, with_slow=len(names) > len(fast))
            except Exception as exc:  # python-OBD raises serial errors on unplug
                log.warning("read failed (%s); reconnecting", exc)
                self._reconnect(stop)
                silent = 0
                continue
            # python-OBD turns a vanished adapter into empty answers rather than an error; a
            # run of polls with no value at all means the link is gone, so start over.
            silent = 0 if values else silent + 1
            if silent >= SILENT_POLLS:
                log.warning("adapter silent for %d polls; reconnecting", silent)
                self._reconnect(stop)
                silent = 0
                continue
            if started >= next_dtc:
                next_dtc = started + self.schedule.dtc_period_s
                self._check_dtcs(vin)
            now_ms = int(self.clock() * 1000)
            self._estimate_odometer(values, now_ms, slow_due=bool(slow) and len(names) > len(fast))
            for name, value in values.items():
                batcher.add(name, now_ms, value)
            self.stats.polls += 1
            self.stats.samples += len(values)
            if batcher.due(now_ms):
                self._flush(batcher)
            self._sleep(stop, self.schedule.fast_period_s - (self.clock() - started))
        self._flush(batcher)
        return self.stats

    def _measure(self, elapsed_s: float, *, with_slow: bool) -> None:
        """Track how long the adapter takes, and report when the achievable period shifts."""
        if with_slow:
            return  # polls that also carry the slow signals would overstate the fast cost
        stats = self.stats
        stats.read_s = elapsed_s if stats.read_s == 0 else 0.8 * stats.read_s + 0.2 * elapsed_s
        effective = max(self.schedule.fast_period_s, stats.read_s)
        previous = stats.fast_period_effective_s
        stats.fast_period_effective_s = effective
        if previous == 0 or abs(effective - previous) > 0.1 * previous:
            # A slow adapter stretches the period instead of queueing requests it cannot
            # serve; the cloud sees the achieved rate in the status message.
            self.publisher.report(
                adapter_read_s=round(stats.read_s, 3), fast_period_s=round(effective, 3)
            )

    def _check_dtcs(self, vin: str) -> None:
        """Read the trouble codes and send a snapshot when they differ from the last one."""
        try:
            codes = self.link.read_dtcs()
        except Exception as exc:  # a failed read is retried next period, not fatal
            log.warning("reading trouble codes failed: %s", exc)
            return
        if codes == self._last_dtcs:
            return
        self._last_dtcs = codes
        snapshot = DtcSnapshot(self.device_id, vin, int(self.clock() * 1000), **codes)
        log.info("trouble codes now %s", codes)
        self.publisher.send_dtc(snapshot)

    def _reconnect(self, stop: threading.Event) -> None:
        self.link.close()
        self._connect(stop)
        self.stats.reconnects += 1

    def _estimate_odometer(self, values: dict[str, float], now_ms: int, *, slow_due: bool) -> None:
        """Integrate speed into odometer_km when the car has no PID 0xA6."""
        if "odometer_km" in self._supported or "speed_kmh" not in values:
            return
        km = self.odometer.advance(now_ms / 1000, values["speed_kmh"])
        if km is not None and slow_due:
            values["odometer_km"] = round(km, 1)
            self.publisher.outbox.set_meta(ODOMETER_KEY, round(km * 1000))

    def _sleep(self, stop: threading.Event, seconds: float) -> None:
        # A new configuration cuts the current wait short, so a faster period applies at once.
        deadline = time.monotonic() + max(0.0, seconds)
        while not stop.is_set() and not self._reconfigured.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stop.wait(min(remaining, 0.05))
        self._reconfigured.clear()

    def _polled(self) -> tuple[list[str], list[str]]:
        schedule = self.schedule
        return (
            [s for s in schedule.fast if s in self._supported],
            [s for s in schedule.slow if s in self._supported],
        )

    def apply_config(self, payload: bytes) -> bool:
        """Apply a remote configuration message, or reject it whole and report why."""
        try:
            config = parse_config(payload)
        except ConfigError as exc:
            log.warning("%s", exc)
            self.publisher.report(config_error=str(exc))
            return False
        changes = {
            k: v
            for k, v in config.model_dump(
                exclude={"version", "batch_window_s", "odometer_km"}
            ).items()
            if v is not None
        }
        if config.odometer_km is not None:
            self.odometer.reset(config.odometer_km)
            self.publisher.outbox.set_meta(ODOMETER_KEY, round(config.odometer_km * 1000))
        self.schedule = replace(self.schedule, **changes)
        if config.batch_window_s is not None:
            self.batch_window_s = config.batch_window_s
        self._reconfigured.set()
        log.info("configuration %d applied: %s", config.version, self.schedule)
        self.publisher.report(config_version=config.version, config_error=None)
        return True

    def _flush(self, batcher: Batcher) -> None:
        batch = batcher.cut(seq=0)
        if batch is not None:
            self.publisher.send(batch)
            self.stats.batches += 1
