# SPDX-License-Identifier: MIT
"""modellab.registration: the models get the mass production would know, through production's
own function, never the simulated car's exact mass (issue 19, item 5)."""

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import modellab
from firmware_sim import catalogue
from firmware_sim.vehicle_data import Trace, VehicleSpec
from modellab import observe, registration
from predictive import mass
from predictive.mass import VehicleMass

START = 1_780_000_000.0


def _specs(n):
    rng = np.random.default_rng(5)
    return [catalogue.make_spec(rng) for _ in range(n)]


def test_every_simulated_model_line_has_a_body_type():
    for m in catalogue.MODELS:
        assert registration.BODY_OF_MODEL[(m.make, m.model)] in mass.BODY_TYPES


def test_registrations_in_their_shares_with_a_small_entry_error():
    specs = _specs(2000)
    regs = [registration.registration_of(s, seed) for seed, s in enumerate(specs)]
    typed = [(r.mass_kg, s.mass_kg) for r, s in zip(regs, specs, strict=True) if r.mass_kg]
    body = [r for r in regs if r.mass_kg is None and r.body_type is not None]
    assert len(typed) / 2000 == pytest.approx(registration.REGISTERED_SHARE, abs=0.03)
    assert len(body) / 2000 == pytest.approx(registration.BODY_ONLY_SHARE, abs=0.03)
    errors = np.array([t / m - 1.0 for t, m in typed])
    assert errors.std() == pytest.approx(registration.ENTRY_REL_SD, abs=0.005)
    assert all(t % 10 == 0 for t, _ in typed)  # typed to 10 kg
    assert registration.registration_of(specs[3], 3) == registration.registration_of(specs[3], 3)


def test_production_mass_is_predictives_function_of_the_registration():
    for seed, spec in enumerate(_specs(200)):
        reg = registration.registration_of(spec, seed)
        expected = mass.vehicle_mass(
            registered_kg=reg.mass_kg, body_type=reg.body_type, fuel_type=spec.kind
        )
        assert registration.production_mass(spec, seed) == expected


def test_body_class_defaults_cover_the_simulated_cars():
    """The class defaults are not the simulator's masses, but the spread they state is
    honest: nearly every simulated car lies within two of its class's standard deviations."""
    z = []
    for spec in _specs(1000):
        body = registration.BODY_OF_MODEL[(spec.make, spec.model)]
        guess = mass.vehicle_mass(registered_kg=None, body_type=body, fuel_type=spec.kind)
        z.append(np.log(spec.mass_kg / guess.mass_kg) / guess.rel_sd)
    assert np.mean(np.abs(z) < 2.0) > 0.9


def _trace(spec):
    t = np.arange(1800.0)
    speed = np.round(np.maximum(0.0, 60.0 * np.sin(t / 90.0)))
    signals = {
        "speed_kmh": speed,
        "engine_rpm": 800.0 + speed * 30.0,
        "engine_load_pct": np.full(t.size, 30.0),
        "coolant_temp_c": np.minimum(20.0 + t / 10.0, 90.0),
        "oil_temp_c": np.minimum(20.0 + t / 12.0, 100.0),
        "ambient_temp_c": np.full(t.size, 12.0),
    }
    return Trace(
        vin=spec.vin, start=dt.datetime.fromtimestamp(START, dt.UTC), t_s=t, signals=signals
    )


def test_the_observed_car_brakes_with_productions_mass_not_the_specs(monkeypatch):
    spec = VehicleSpec(vin="WLREG000000000001", mass_kg=1500.0)
    energy = {}
    for kg in (800.0, 1600.0):
        monkeypatch.setattr(
            registration, "vehicle_mass", lambda kg=kg, **_: VehicleMass(kg, 0.3, "unknown")
        )
        car = observe.ObservedVehicle(spec, seed=11, estimate=False)
        assert car.mass.mass_kg == kg
        energy[kg] = car.trip(_trace(spec), 0)[0][1]
    # The spec's 1,500 kg never changed: only production's mass moves the braking energy.
    assert energy[800.0] > 0.0
    assert 2.0 <= energy[1600.0] / energy[800.0] <= 2.4


def test_no_modellab_model_input_reads_the_specs_mass():
    """``spec.mass_kg`` is read in registration (what is typed at registration) and for the
    hidden truth's physics (``drives.trip_physics``) only."""
    readers = set()
    for path in Path(modellab.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "mass_kg"
                    and "spec" in ast.unparse(node.value)
                ):
                    readers.add(f"{path.stem}.{fn.name}")
    assert readers == {"registration.registration_of", "drives.trip_physics"}
