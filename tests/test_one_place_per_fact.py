# SPDX-License-Identifier: MIT
"""One place per fact: the J1979 PID table and the wear thresholds are defined once, and every
other part reads them (issue 16, part 3). A second copy added anywhere makes one of these fail."""

import ast
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from obd.protocols.protocol import Message

from db.registry import create_vehicle
from edge_agent import obd_link
from edge_agent.pids import parse_reply
from firmware_sim import obd_pids
from firmware_sim.vehicle_data import VehicleState
from modellab import policy
from predictive import brakes, health, thresholds
from telemetry.signals import SIGNALS, Signal, by_pid
from wrenchlight.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("telemetry", "firmware_sim", "edge_agent", "db", "ingest", "predictive", "orders",
            "api", "modellab", "benchmarks", "wrenchlight")  # fmt: skip
PID_SIGNALS = [s for s in SIGNALS if s.pid is not None]


def _python_obd(signal: Signal, data: bytes) -> float:
    """The value python-OBD's own command decodes from a 41/PID reply carrying these bytes."""
    command, unit = obd_link.SIGNAL_COMMANDS[signal.name]
    message = Message([])
    message.data = bytearray([0x41, signal.pid or 0]) + data
    value = command.decode([message])
    return float(value.to(unit).magnitude if unit else value)


@given(data=st.data())
@pytest.mark.parametrize("signal", PID_SIGNALS, ids=lambda s: s.name)
def test_each_pid_decodes_as_python_obd_does_and_round_trips(signal: Signal, data):
    assert signal.length is not None
    top = 256**signal.length - 1
    counts = data.draw(st.one_of(st.sampled_from([0, 1, top]), st.integers(0, top)))
    raw = counts.to_bytes(signal.length, "big")
    value = signal.decode(raw)
    assert value == pytest.approx(_python_obd(signal, raw), rel=1e-12, abs=1e-9)
    assert signal.encode(value) == raw


@pytest.mark.parametrize("signal", PID_SIGNALS, ids=lambda s: s.name)
def test_each_pid_has_the_length_python_obd_expects(signal: Signal):
    command, _ = obd_link.SIGNAL_COMMANDS[signal.name]
    assert command.pid == signal.pid
    assert command.bytes == 2 + (signal.length or 0)  # python-OBD counts the 41/PID bytes


def test_the_edge_agent_reads_the_table():
    assert set(obd_link.SIGNAL_COMMANDS) == {s.name for s in PID_SIGNALS}
    raw = b"\x41" + b"".join(bytes([s.pid or 0]) + s.encode(s.max / 3) for s in PID_SIGNALS)
    assert parse_reply(raw) == {s.pid: s.decode(s.encode(s.max / 3)) for s in PID_SIGNALS}


def test_the_simulator_reads_the_table():
    assert set(obd_pids.STATE_PIDS) == {s.pid for s in PID_SIGNALS}
    for pid, signal in obd_pids.STATE_PIDS.items():
        assert signal is by_pid(pid)
    state = VehicleState(speed_kmh=87.4, engine_rpm=2412.6, coolant_temp_c=91.2,
                         odometer_km=48_001.26, module_voltage_v=14.123)  # fmt: skip
    # What the simulator sends, the edge agent reads back to within half a count.
    for signal in PID_SIGNALS:
        [(pid, value)] = parse_reply(
            bytes([0x41, signal.pid or 0]) + obd_pids.state_data(signal.pid or 0, state)
        ).items()
        assert value == pytest.approx(getattr(state, signal.name), abs=signal.resolution / 2 + 1e-9)


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(ROOT)), ast.parse(path.read_text()))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_second_table_keyed_by_pid():
    """A dict literal keyed by three or more of the catalogue's PIDs is a second PID table."""
    pids = {s.pid for s in PID_SIGNALS}
    found = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if len(keys & pids) >= 3 and name != "telemetry/signals.py":
                    found.append(f"{name}:{node.lineno}")
    assert not found, f"PID facts belong in telemetry/signals.py: {found}"


def test_thresholds_are_defined_once():
    """No module but predictive/thresholds.py gives these names a number of its own."""
    names = {"OIL_DUE_SOON_PCT", "OIL_DUE_PCT", "PAD_DUE_SOON_MM", "PAD_DUE_MM", "NEW_PAD_MM",
             "MIN_PAD_MM"}  # fmt: skip
    found = []
    for name, tree in _modules():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and {t.id for t in node.targets if isinstance(t, ast.Name)} & names
                and name != "predictive/thresholds.py"
            ):
                found.append(f"{name}:{node.lineno}")
    assert not found, f"import these from predictive.thresholds: {found}"
    # Same objects, not equal copies.
    assert health.OIL_DUE_SOON_PCT is thresholds.OIL_DUE_SOON_PCT
    assert health.PAD_DUE_SOON_MM is thresholds.PAD_DUE_SOON_MM
    assert brakes.NEW_PAD_MM is thresholds.NEW_PAD_MM
    assert brakes.MIN_PAD_MM is thresholds.MIN_PAD_MM
    assert policy.OIL_DUE_PCT is thresholds.OIL_DUE_SOON_PCT
    assert policy.PAD_DUE_MM is thresholds.PAD_DUE_SOON_MM
    assert policy.NEW_PAD_MM is thresholds.NEW_PAD_MM
    fields = Settings.model_fields
    assert fields["oil_alert_pct"].default is thresholds.OIL_DUE_SOON_PCT
    assert fields["pad_alert_mm"].default is thresholds.PAD_DUE_SOON_MM
    assert any(
        getattr(m, "lt", None) is thresholds.NEW_PAD_MM for m in fields["pad_alert_mm"].metadata
    )


def test_settings_load_their_defaults_without_numpy_or_psycopg():
    """The device-side commands build Settings with numpy blocked and psycopg absent."""
    code = (
        "import sys; sys.modules['numpy'] = None; sys.modules['psycopg'] = None; "
        "from wrenchlight.settings import Settings; print(Settings(_env_file=None).oil_alert_pct)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unmeasured_pads_are_new_pads_in_the_database(conn: psycopg.Connection, unique_id: str):
    """db may import nothing of ours: the column default is its copy of NEW_PAD_MM."""
    vehicle_id = create_vehicle(conn, vin=f"WLFACT{unique_id[1:12].upper()}")
    row = conn.execute(
        "SELECT pad_front_mm, pad_rear_mm FROM vehicles WHERE vehicle_id = %s", (vehicle_id,)
    ).fetchone()
    assert row == (thresholds.NEW_PAD_MM, thresholds.NEW_PAD_MM)
