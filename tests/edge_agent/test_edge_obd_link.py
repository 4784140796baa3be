# SPDX-License-Identifier: MIT
"""ObdLink against the simulated dongle over a real pseudo-terminal with unmodified python-OBD."""

import pytest

from edge_agent.obd_link import SIGNAL_COMMANDS, ObdLink
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec

VIN = "1FTFW1ET5DFC10312"


@pytest.fixture(scope="module")
def link():
    vehicle = Vehicle(VehicleSpec(vin=VIN, initial_odometer_km=48_123.4))
    vehicle.ignition(True)
    vehicle.step(1.0, 0.0)  # engine idling, standing still: values hold between reads
    dongle = PtyDongle(Elm327(vehicle))
    obd_link = ObdLink(dongle.path)
    obd_link.connect()
    yield obd_link
    obd_link.close()
    dongle.close()


def test_reads_vin_and_supported_signals(link):
    assert link.read_vin() == VIN
    assert set(link.supported_signals()) == set(SIGNAL_COMMANDS)
    assert link.is_can


def test_multi_pid_requests_give_the_same_values_as_one_pid_each(link):
    names = list(SIGNAL_COMMANDS)
    each = link._read_each(names)
    multi = link._read_multi(names)
    assert set(multi) == set(each) == set(names)
    for name in names:
        assert multi[name] == pytest.approx(each[name], abs=1e-6), name
    assert multi["odometer_km"] == pytest.approx(48_123.4, abs=0.1)


def test_multi_pid_needs_fewer_adapter_round_trips(link, monkeypatch):
    sent = []
    original = link.conn.query
    monkeypatch.setattr(
        link.conn, "query", lambda cmd, force=False: sent.append(cmd) or original(cmd, force=force)
    )
    link.read(list(SIGNAL_COMMANDS))
    assert len(sent) == 2  # ten signals in requests of at most six PIDs


def test_repeated_requests_carry_the_expected_response_count():
    vehicle = Vehicle(VehicleSpec(vin=VIN))
    vehicle.ignition(True)
    elm = Elm327(vehicle)
    seen = []
    handle = elm.handle
    elm.handle = lambda cmd, **kw: seen.append(cmd.strip()) or handle(cmd, **kw)
    with PtyDongle(elm) as dongle:
        obd_link = ObdLink(dongle.path)
        obd_link.connect()
        try:
            for names in (
                ["speed_kmh", "engine_rpm"],
                ["coolant_temp_c"],
                ["speed_kmh", "engine_rpm"],
            ):
                assert obd_link.read(names)
        finally:
            obd_link.close()
    requests = [c for c in seen if c.startswith("01")]
    # The first time python-OBD learns how many frames answer; afterwards it tells the adapter.
    assert "010D0C" in requests
    assert "010D0C1" in requests
