# SPDX-License-Identifier: MIT
"""The catalogue, the vectorised fleet simulator and ``wrenchlight sim fleet``."""

import datetime as dt
import json
import threading
import time
from collections import Counter

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from firmware_sim import catalogue, cycles, physics, powertrain
from firmware_sim.daily_driving import make_fleet
from firmware_sim.fleet_arrays import FleetSim
from firmware_sim.vehicle import Vehicle
from firmware_sim.vehicle_data import ELECTRIC_SIGNALS
from firmware_sim.vin import model_year_code, vin_check_digit
from telemetry.mqtt_url import MqttUrl
from wrenchlight.cli import build_app

app = build_app()

DAY = dt.date(2024, 10, 7)


class QuietRng:
    """Sensor noise switched off, so batched and single runs can be compared exactly."""

    def normal(self, loc: float, scale: float, n: int) -> np.ndarray:
        return np.full(n, float(loc))


def test_fleet_is_varied_valid_and_deterministic() -> None:
    fleet = make_fleet(120, seed=5)
    specs = [m.vehicle.spec for m in fleet]
    assert [s.vin for s in specs] == [m.vehicle.spec.vin for m in make_fleet(120, seed=5)]
    assert [s.vin for s in specs] != [m.vehicle.spec.vin for m in make_fleet(120, seed=6)]
    assert all(vin_check_digit(s.vin) == s.vin[8] for s in specs)
    assert all(s.vin[9] == model_year_code(s.model_year) for s in specs)
    assert set(Counter(s.kind for s in specs)) == {"petrol", "diesel", "hybrid", "electric"}
    protocols = Counter(s.protocol for s in specs)
    assert protocols["6"] > len(specs) / 2 and set(protocols) <= {"6", "7", "3"}
    assert all(s.protocol != "3" or s.model_year < 2008 for s in specs)
    assert all(len(s.calibration_id) <= 16 and s.make and s.model for s in specs)
    cities = {c.name: c for c in catalogue.CITIES}
    assert catalogue.CITIES[0].name == "Chicago"
    assert Counter(s.home_city for s in specs).most_common(1)[0][0] == "Chicago"
    homes = {(s.home_lat, s.home_lon) for s in specs}
    assert homes <= {(c.lat, c.lon) for c in cities.values()}
    assert any("misfire" in s.latent_faults for s in specs)
    assert all("misfire" not in s.latent_faults for s in specs if s.kind == "electric")


def test_batched_physics_equals_one_trip_at_a_time() -> None:
    fleet = make_fleet(10, seed=2)
    picks = [m.vehicle for m in fleet if m.vehicle.spec.kind in ("petrol", "hybrid", "electric")]
    vehicles = picks[:4]
    trips = [cycles.load_cycle(c) for c in ("udds", "us06", "hwfet", "wltc_class3_low3")]
    for v in vehicles:
        v.ignition(True)
    starts = [v.start_values() for v in vehicles]
    params = powertrain.Params.from_specs([v.spec for v in vehicles])
    seg = physics.Segments(np.array([t.size for t in trips]))
    batch = powertrain.simulate(
        np.concatenate(trips), seg, params, powertrain.Start.stack(starts), 1.0, QuietRng()
    )
    for j, (v, speeds, start) in enumerate(zip(vehicles, trips, starts, strict=True)):
        one = powertrain.simulate(
            speeds,
            physics.Segments(np.array([speeds.size])),
            powertrain.Params.from_specs([v.spec]),
            powertrain.Start.stack([start]),
            1.0,
            QuietRng(),
        )
        a, b = seg.starts[j], seg.starts[j] + speeds.size
        for name, values in one.signals.items():
            np.testing.assert_allclose(batch.signals[name][a:b], values, rtol=1e-9, atol=1e-9)
        for name, total in one.sums.items():
            assert batch.sums[name][j] == pytest.approx(total[0], rel=1e-9, abs=1e-9), name


def test_fleet_sim_drives_every_vehicle_and_updates_its_truth() -> None:
    fleet = make_fleet(25, seed=3)
    before = [m.vehicle.truth.pad_front_mm for m in fleet]
    sim = FleetSim(fleet, seed=9)
    trips = list(sim.run(DAY, 2))
    driven = {i for i, _ in trips}
    assert driven == set(range(25)) or len(driven) >= 20  # weekend-free drivers may rest
    for i, trace in trips:
        v = fleet[i].vehicle
        assert trace.vin == v.spec.vin and trace.start is not None and trace.start.tzinfo
        if v.spec.kind == "electric":
            assert set(trace.signals) == set(ELECTRIC_SIGNALS)
        assert all(a.size == trace.t_s.size for a in trace.signals.values())
    assert sum(len(t) for _, t in trips) == sim.steps
    assert any(m.vehicle.truth.pad_front_mm < b for m, b in zip(fleet, before, strict=True))
    assert all(not m.vehicle.state.ignition_on for m in fleet)
    again = list(FleetSim(make_fleet(25, seed=3), seed=9).run(DAY, 2))
    assert [t.signals["odometer_km"][-1] for _, t in again] == [
        t.signals["odometer_km"][-1] for _, t in trips
    ]


def test_fleet_sim_generates_over_a_million_samples_per_second() -> None:
    sim = FleetSim(make_fleet(100, seed=1), seed=1)
    list(sim.run(DAY, 1))  # warm the cycle caches
    t0 = time.perf_counter()
    steps0, samples0 = sim.steps, sim.samples
    list(sim.run(DAY + dt.timedelta(days=1), 1))
    elapsed = time.perf_counter() - t0
    assert (sim.samples - samples0) / elapsed > 1_000_000
    assert sim.steps > steps0


def test_one_vehicle_through_fleetsim_matches_its_own_drive() -> None:
    members = make_fleet(1, seed=4)
    twin = Vehicle(members[0].vehicle.spec, seed=members[0].vehicle.seed)
    (_, trace), *_ = FleetSim(members, seed=1).run_day(DAY)
    speeds = trace.signals["speed_kmh"]
    twin.parked_at = None
    mine = twin.drive(speeds)
    assert mine.signals["odometer_km"][-1] == pytest.approx(trace.signals["odometer_km"][-1])
    assert twin.truth.total_braking_energy_j == pytest.approx(
        trace.truth.total_braking_energy_j, rel=1e-9
    )
    assert twin.truth.pad_front_mm == pytest.approx(trace.truth.pad_front_mm, rel=1e-9)


def test_sim_fleet_command_publishes_through_the_agent(mqtt_url: str, unique_id: str) -> None:
    # Someone must take the batches: an agent keeps a batch the broker routed to nobody
    # ("no matching subscribers") and the run would never drain.
    url = MqttUrl.parse(mqtt_url)
    received: list[str] = []
    subscribed = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    listener.on_connect = lambda c, *a: c.subscribe(f"$share/{unique_id}/wl/v1/+/telemetry", 1)
    listener.on_subscribe = lambda *a: subscribed.set()
    listener.on_message = lambda c, u, m: received.append(m.topic)
    listener.connect(url.host, url.port)
    listener.loop_start()
    try:
        assert subscribed.wait(10)
        result = CliRunner().invoke(
            app, ["sim", "fleet", "--vehicles", "3", "--days", "1", "--seed", "2", "--json",
                  "--mqtt", mqtt_url],
        )  # fmt: skip
    finally:
        listener.disconnect()
        listener.loop_stop()
    assert result.exit_code == 0, result.output
    assert any(t.startswith("wl/v1/sim-2-") for t in received)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["vehicles"] == 3 and summary["drained"] is True
    assert summary["batches_published"] > 0 and summary["samples_published"] > 0
    assert summary["samples_generated"] >= summary["samples_published"]


def test_sim_fleet_without_a_broker_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("WRENCHLIGHT_MQTT_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["sim", "fleet", "--vehicles", "1"])
    assert result.exit_code == 2
    assert "WRENCHLIGHT_MQTT_URL" in result.output
