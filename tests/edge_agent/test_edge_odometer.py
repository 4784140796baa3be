# SPDX-License-Identifier: MIT
"""Odometer integrated from speed where the car has no PID 0xA6."""

import pytest

from edge_agent.odometer import OdometerEstimate
from edge_agent.outbox import Outbox


def test_constant_speed_for_an_hour_adds_that_many_km():
    odo = OdometerEstimate(1000.0)
    for t in range(3601):
        odo.advance(float(t), 60.0)
    assert odo.km == pytest.approx(1060.0, abs=1e-6)


def test_no_starting_point_means_no_reading_and_gaps_add_nothing():
    odo = OdometerEstimate()
    assert odo.advance(0.0, 50.0) is None
    odo.reset(500.0)
    odo.advance(1.0, 50.0)
    assert odo.km == pytest.approx(500.0 + 50 / 3600)
    odo.advance(100.0, 50.0)  # a 99 s gap: not integrated
    assert odo.km == pytest.approx(500.0 + 50 / 3600)
    odo.advance(101.0, 50.0)
    assert odo.km == pytest.approx(500.0 + 2 * 50 / 3600)


def test_outbox_keeps_named_counters_across_reopen(tmp_path):
    box = Outbox(tmp_path / "b.db")
    assert box.get_meta("odometer_m") is None
    box.set_meta("odometer_m", 123_456)
    box.close()
    assert Outbox(tmp_path / "b.db").get_meta("odometer_m") == 123_456


def test_agent_reports_an_integrated_odometer_for_cars_without_pid_a6(tmp_path):
    import threading

    from harness import eventually

    from edge_agent.agent import EdgeAgent, Schedule
    from edge_agent.obd_link import ObdLink
    from edge_agent.publisher import Publisher
    from firmware_sim.cycles import load_cycle
    from firmware_sim.elm327 import Elm327
    from firmware_sim.realtime import RealtimeVehicle
    from firmware_sim.transport import PtyDongle
    from firmware_sim.vehicle import Vehicle, VehicleSpec
    from telemetry import decode

    spec = VehicleSpec(vin="1FTFW1ET5DFC10312", supports_odometer_pid=False)
    driver = RealtimeVehicle(Vehicle(spec), load_cycle("hwfet")[100:], speedup=10.0)
    driver.start()
    dongle = PtyDongle(Elm327(driver))
    # No broker listens on port 9: every batch stays in the outbox, where the test reads it.
    outbox = Outbox(tmp_path / "buf.db")
    publisher = Publisher(mqtt_url="mqtt://127.0.0.1:9", device_id="odo", outbox=outbox)
    agent = EdgeAgent(
        link=ObdLink(dongle.path),
        publisher=publisher,
        device_id="odo",
        schedule=Schedule(fast_period_s=0.2, slow_period_s=1.0),
        batch_window_s=1.0,
    )
    assert agent.apply_config(b'{"version": 1, "odometer_km": 1000}')

    def readings() -> list[tuple[int, float]]:
        return sorted(
            (t, value)
            for _, payload in outbox.pending()
            for t, signal, value in decode(payload).samples()
            if signal == "odometer_km"
        )

    def moved() -> bool:
        found = readings()
        return len(found) >= 3 and found[-1][1] > 1000.0

    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:
        eventually(moved, 60)  # a few batches, and the car past its starting point
    finally:
        stop.set()
        thread.join(timeout=15)
        driver.stop()
        dongle.close()
    assert "odometer_km" not in agent.stats.signals  # the car does not offer PID 0xA6
    found = readings()
    assert len(found) >= 3
    values = [v for _, v in found]
    assert values == sorted(values) and values[0] >= 1000.0
    assert values[-1] > 1000.0  # the car moved at highway speed for several seconds
    assert abs(outbox.get_meta("odometer_m") - values[-1] * 1000) <= 50  # codec keeps 0.1 km
