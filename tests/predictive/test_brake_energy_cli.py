# SPDX-License-Identifier: MIT
"""``wrenchlight predictive brake-energy`` on real recorded driving and standard cycles.

The CMAP tests need the shared drive-cycle data (``../shared/data/drive_cycles`` next to the
repository); the standard-cycle and error tests fall back to the repository's own copies.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from predictive import brakes
from predictive.brake_energy import TRIP_GAP_S
from wrenchlight.cli import build_app

app = build_app()

REPO = Path(__file__).resolve().parents[2]
SHARED = next(
    (
        p
        for p in (REPO.parent / "shared/data/drive_cycles", Path("/work/shared/data/drive_cycles"))
        if p.is_dir()
    ),
    None,
)
CMAP = SHARED / "real_world" / "cmap_2007" if SHARED else None
HAS_CMAP = CMAP is not None and CMAP.is_dir()
needs_cmap = pytest.mark.skipif(
    not HAS_CMAP, reason="CMAP data absent: ../shared/data/drive_cycles/real_world/cmap_2007"
)
UDDS = next(
    p
    for p in (
        *([SHARED / "standard" / "udds.csv"] if SHARED else []),
        REPO / "firmware_sim" / "data" / "cycles" / "standard" / "udds.csv",
    )
    if p.is_file()
)
# One trip of this day slows by 6.8 mph across a 15 s logging gap (3.5 % more in full).
GAP_DAY = ("4112082_1", "2007-07-03")


def _run(*args: str):
    return CliRunner().invoke(app, ["predictive", "brake-energy", *map(str, args)])


def _json(*args: str) -> dict:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def _days():
    assert CMAP is not None
    for vehicle in sorted(p for p in CMAP.iterdir() if p.is_dir()):
        with open(vehicle / "trips.csv", newline="") as f:
            trips = list(csv.DictReader(f))
        for day in sorted(vehicle.glob("2*.csv")):
            yield day, vehicle / "trips.csv", [t for t in trips if t["start_ts"][:10] == day.stem]


@needs_cmap
def test_cmap_day_with_trips_prints_json_per_trip_within_1pct_of_nrel():
    vehicle, day = GAP_DAY
    assert CMAP is not None
    trips_csv = CMAP / vehicle / "trips.csv"
    doc = _json("--speed-csv", CMAP / vehicle / f"{day}.csv", "--format", "cmap",
                "--trips", trips_csv, "--mass-kg", "1500")  # fmt: skip
    with open(trips_csv, newline="") as f:
        nrel = [t for t in csv.DictReader(f) if t["start_ts"].startswith(day)]
    assert doc["format"] == "cmap" and doc["mass_kg"] == 1500
    assert len(doc["trips"]) == len(nrel) == 6
    for trip, ref in zip(doc["trips"], nrel, strict=True):
        assert (trip["start"], trip["end"]) == (ref["start_ts"], ref["end_ts"])
        nrel_j_per_kg = -float(ref["total_kinetic_power_density_regen"])
        assert trip["reference_j_per_kg"] == pytest.approx(nrel_j_per_kg, rel=1e-12)
        assert abs(trip["kinetic_regen_j_per_kg"] / nrel_j_per_kg - 1) <= 0.01
        assert abs(trip["rel_diff"]) <= 0.01
        assert trip["kinetic_shed_j_per_kg"] >= trip["kinetic_regen_j_per_kg"] * (1 - 1e-12)
        assert 0 < trip["friction_j"] < 1500 * trip["kinetic_shed_j_per_kg"]
        assert trip["friction_front_j"] == pytest.approx(brakes.FRONT_SHARE * trip["friction_j"])
        assert trip["friction_front_j"] + trip["friction_rear_j"] == pytest.approx(
            trip["friction_j"]
        )
        assert trip["duration_s"] == trip["end_s"] - trip["start_s"] > 0
        assert 0.5 < trip["distance_km"] < 10
    # The full count of the drop across the gap, kept apart from NREL's figure.
    gap_trip = doc["trips"][4]
    assert gap_trip["kinetic_shed_j_per_kg"] > 1.03 * gap_trip["kinetic_regen_j_per_kg"]
    summary = doc["summary"]
    assert summary["trips"] == 6 and summary["max_abs_rel_diff"] <= 0.01
    assert summary["friction_j"] == pytest.approx(sum(t["friction_j"] for t in doc["trips"]))


@needs_cmap
def test_every_recorded_trip_agrees_with_nrel_within_1pct():
    diffs = []
    for day, trips_csv, nrel in _days():
        doc = _json("--speed-csv", day, "--format", "cmap", "--trips", trips_csv)
        assert [t["start"] for t in doc["trips"]] == [t["start_ts"] for t in nrel], day
        diffs += [abs(t["rel_diff"]) for t in doc["trips"]]
        assert doc["summary"]["max_abs_rel_diff"] == max(abs(t["rel_diff"]) for t in doc["trips"])
    assert len(diffs) == 125
    assert max(diffs) <= 0.01


@needs_cmap
def test_without_trips_the_day_splits_into_nrels_trips():
    for day, _, nrel in _days():
        doc = _json("--speed-csv", day, "--format", "cmap")
        got = [(t["start"], t["end"]) for t in doc["trips"]]
        assert got == [(t["start_ts"], t["end_ts"]) for t in nrel], day
        assert all(t["reference_j_per_kg"] is None for t in doc["trips"])
        assert "max_abs_rel_diff" not in doc["summary"]


@needs_cmap
def test_text_output_lists_trips_with_nrel_and_the_largest_difference():
    vehicle, day = GAP_DAY
    assert CMAP is not None
    result = _run("--speed-csv", CMAP / vehicle / f"{day}.csv", "--format", "cmap",
                  "--trips", CMAP / vehicle / "trips.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "NREL J/kg" in lines[1] and "friction" in lines[1]
    trip_rows = [line for line in lines if line.split()[:1] in (["1"], ["2"], ["5"], ["6"])]
    assert len(trip_rows) == 4 and "2007-07-03 17:41:48" in trip_rows[2]
    assert lines[-1].startswith("max |diff| vs NREL: 0.0000% (trip ")


def test_standard_cycle_is_one_trip_with_its_kinetic_energy():
    doc = _json("--speed-csv", UDDS, "--format", "cycle")
    with open(UDDS, newline="") as f:
        v = np.array([float(r["cycMps"]) for r in csv.DictReader(f)])
    expected = np.maximum(-0.5 * np.diff(v**2), 0.0).sum()
    assert doc["format"] == "standard cycle" and len(doc["trips"]) == 1
    trip = doc["trips"][0]
    assert trip["start"] is None and trip["duration_s"] == 1369
    assert trip["distance_km"] == pytest.approx(11.99, abs=0.01)  # EPA: 7.45 mi
    assert trip["kinetic_regen_j_per_kg"] == pytest.approx(expected, rel=1e-12)
    assert trip["kinetic_shed_j_per_kg"] == pytest.approx(expected, rel=1e-12)
    # Petrol: shed less road losses and engine braking; ~0.13 MJ/km for 1,400 kg on UDDS.
    assert 0.10 < trip["friction_j"] / 1e6 / trip["distance_km"] < 0.16
    assert trip["rel_diff"] is None and "max_abs_rel_diff" not in doc["summary"]


def test_fuel_type_and_mass_scale_the_friction_energy():
    def friction(*args: str) -> float:
        return _json("--speed-csv", UDDS, "--format", "cycle", *args)["trips"][0]["friction_j"]

    petrol = friction()
    # Twice the mass sheds twice the energy; drag, which does not grow with mass, takes less.
    assert 2.0 * petrol < friction("--mass-kg", "2800") < 2.2 * petrol
    hybrid = friction("--fuel-type", "hybrid")
    # No engine braking, then the regeneration share of REGEN_FRICTION_SHARE.
    assert 0.25 * petrol < hybrid < 0.5 * petrol
    assert friction("--fuel-type", "electric") == pytest.approx(hybrid)
    assert friction("--fuel-type", "diesel") == pytest.approx(petrol)


@pytest.mark.skipif(
    SHARED is None or not (SHARED / "real_world" / "tsdc_trip_42648.csv").is_file(),
    reason="tsdc_trip_42648.csv absent (../shared/data/drive_cycles/real_world)",
)
def test_tsdc_trip_is_detected_and_its_grade_counts(tmp_path):
    assert SHARED is not None
    path = SHARED / "real_world" / "tsdc_trip_42648.csv"
    doc = _json("--speed-csv", path, "--format", "cycle")
    assert doc["format"] == "tsdc trip" and doc["trips"][0]["duration_s"] == 300
    flat = tmp_path / "flat.csv"
    with open(path, newline="") as f:
        rows = [r[:2] for r in csv.reader(f)]
    flat.write_text("\n".join(",".join(r) for r in rows) + "\n")
    level = _json("--speed-csv", flat, "--format", "cycle")["trips"][0]
    assert level["kinetic_regen_j_per_kg"] == doc["trips"][0]["kinetic_regen_j_per_kg"]
    assert abs(level["friction_j"] / doc["trips"][0]["friction_j"] - 1) > 0.01


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        ("missing", ["--speed-csv", "{tmp}/nope.csv", "--format", "cmap"], "no such file"),
        ("cycle as cmap", ["--speed-csv", str(UDDS), "--format", "cmap"], "not a CMAP day file"),
        ("cmap as cycle", ["--speed-csv", "{tmp}/day.csv", "--format", "cycle"],
         "not a cycle file"),
        ("trips with cycle", ["--speed-csv", str(UDDS), "--format", "cycle",
                              "--trips", "{tmp}/trips.csv"], "--format cmap only"),
        ("bad trips columns", ["--speed-csv", "{tmp}/day.csv", "--format", "cmap",
                               "--trips", str(UDDS)], "not a trips file"),
        ("trips of another day", ["--speed-csv", "{tmp}/day.csv", "--format", "cmap",
                                  "--trips", "{tmp}/trips.csv"], "no trip of the trips file"),
        ("bad number", ["--speed-csv", "{tmp}/bad.csv", "--format", "cmap"],
         "line 3: speed_mph is 'fast', not a number"),
        ("time backwards", ["--speed-csv", "{tmp}/back.csv", "--format", "cmap"],
         "line 3: time does not increase"),
        ("empty", ["--speed-csv", "{tmp}/empty.csv", "--format", "cycle"], "empty file"),
        ("directory", ["--speed-csv", "{tmp}", "--format", "cycle"], "is a directory"),
    ],
)  # fmt: skip
def test_unusable_input_gives_one_line_and_exit_code_2(tmp_path, case, args, message):
    day = "timestamp,cycle_sec,timestep,speed_mph,accel_meters_ps\n"
    _write(tmp_path, "day.csv", day + "2007-07-03 08:00:00,0,1,0,0\n2007-07-03 08:00:01,1,1,5,5\n")
    _write(tmp_path, "trips.csv", "start_ts,end_ts\n2007-07-04 08:00:00,2007-07-04 09:00:00\n")
    _write(
        tmp_path,
        "bad.csv",
        "timestamp,speed_mph\n2007-07-03 08:00:00,1\n2007-07-03 08:00:01,fast\n",
    )
    _write(
        tmp_path, "back.csv", "timestamp,speed_mph\n2007-07-03 08:00:00,1\n2007-07-03 07:59:59,2\n"
    )
    _write(tmp_path, "empty.csv", "")
    result = _run(*(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2, (case, result.output)
    assert isinstance(result.exception, SystemExit)  # not a traceback
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_help_explains_formats_units_and_matches_the_constants():
    result = _run("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for phrase in ("cycSecs,cycMps", "time_s,mps", "speed in mph", "m/s", "J/kg", "--trips",
                   "total_kinetic_power_density_regen", "--json", "exit code 2"):  # fmt: skip
        assert phrase in text, phrase
    assert f"over {TRIP_GAP_S:g} s" in text
    front = round(brakes.FRONT_SHARE * 100)
    assert f"front/rear split ({front}/{100 - front})" in text
    assert f"({brakes.REGEN_FRICTION_SHARE['hybrid']:g})" in text


def test_the_console_script_registers_the_command():
    exe = Path(sys.executable).parent / "wrenchlight"
    proc = subprocess.run(
        [str(exe), "predictive", "brake-energy", "--speed-csv", str(UDDS), "--format", "cycle",
         "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["trips"][0]["duration_s"] == 1369
