# SPDX-License-Identifier: MIT
"""Trouble codes: the built-in table, format-derived descriptions, urgency and job rules."""

import contextlib
import csv
import io
import time
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictive import trouble_codes as tc
from predictive.health import PredictiveError
from predictive.trouble_codes import (
    JOBS,
    RULES,
    Finding,
    InvalidTroubleCode,
    Urgency,
    assess,
    assess_all,
    describe,
    worst,
)
from telemetry.dtc import DTC_RE

ALL_CODES = [f"{s}{d}{n:03X}" for s in "PCBU" for d in "0123" for n in range(0x1000)]


def _csv_rows() -> list[dict[str, str]]:
    text = resources.files("predictive").joinpath("data", "j2012_generic.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_table_rows_are_valid_unique_and_described():
    rows = _csv_rows()
    codes = [row["code"] for row in rows]
    assert len(rows) >= 300
    assert all(DTC_RE.fullmatch(code) for code in codes), [c for c in codes if not DTC_RE.match(c)]
    assert len(set(codes)) == len(codes)
    for row in rows:
        description = row["description"]
        assert description and description == description.strip(), row
        assert description[0].isupper() or description[0].isdigit(), row
    assert dict(tc.generic_table()) == {row["code"]: row["description"] for row in rows}


def test_table_holds_generic_codes_only():
    for code in tc.generic_table():
        assert tc.origin(code) == "generic", code


def test_table_loads_fast():
    tc.generic_table.cache_clear()
    started = time.perf_counter()
    table = tc.generic_table()
    assert time.perf_counter() - started < 0.050
    assert len(table) >= 300


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("P0101", "Mass air flow sensor A circuit range/performance"),
        ("P0171", "System too lean (bank 1)"),
        ("P0217", "Engine coolant over temperature condition"),
        ("P0300", "Random/multiple cylinder misfire detected"),
        ("P0304", "Cylinder 4 misfire detected"),
        ("P0312", "Cylinder 12 misfire detected"),
        ("P0335", "Crankshaft position sensor A circuit"),
        ("P0420", "Catalyst system efficiency below threshold (bank 1)"),
        ("P0442", "Evaporative emission system leak detected (small leak)"),
        ("P0524", "Engine oil pressure too low"),
        ("P0562", "System voltage low"),
        ("P0700", "Transmission control system (MIL request)"),
        ("C0035", "Left front wheel speed sensor circuit"),
        ("U0100", "Lost communication with ECM/PCM A"),
        ("U0121", "Lost communication with anti-lock brake system (ABS) control module"),
        ("U0001", "High speed CAN communication bus"),
    ],
)
def test_known_codes_are_described_from_the_table(code, description):
    assert describe(code) == description


@pytest.mark.parametrize(
    ("code", "description"),
    [
        (
            "P1234",
            "Manufacturer-specific powertrain code (fuel and air metering, injector circuit)",
        ),
        ("P1100", "Manufacturer-specific powertrain code (fuel and air metering)"),
        ("P1399", "Manufacturer-specific powertrain code (ignition system or misfire)"),
        ("P0A1F", "Generic powertrain code (hybrid propulsion)"),
        ("P0D00", "Generic powertrain code"),
        ("P2799", "Generic powertrain code (transmission)"),
        ("P3000", "Manufacturer-specific powertrain code"),
        ("P3FFF", "Generic powertrain code"),
        ("C1234", "Manufacturer-specific chassis code"),
        ("C0999", "Generic chassis code"),
        ("B2000", "Manufacturer-specific body code"),
        ("B00FF", "Generic body code (restraints)"),
        ("U3000", "SAE-reserved network code"),
        ("U0199", "Generic network code (lost communication)"),
    ],
)
def test_unknown_codes_are_described_from_their_format(code, description):
    assert code not in tc.generic_table()
    assert describe(code) == description


def test_codes_are_normalised():
    assert describe(" p0301\n") == describe("P0301")
    assert assess("p0301").code == "P0301"


@pytest.mark.parametrize(
    "bad", ["", "P030", "P03011", "X0301", "P4301", "P030G", "P 0301", None, 301]
)
def test_invalid_codes_raise_the_typed_error(bad):
    for call in (describe, assess, tc.rule_for, tc.origin, tc.subsystem):
        with pytest.raises(InvalidTroubleCode) as info:
            call(bad)
        assert isinstance(info.value, ValueError) and isinstance(info.value, PredictiveError)
    with pytest.raises(InvalidTroubleCode):
        assess_all(stored=["P0301", bad])


def test_non_ascii_look_alikes_are_rejected():
    with pytest.raises(InvalidTroubleCode):
        describe("P0\uff13\uff10\uff11")  # full-width digits
    with pytest.raises(InvalidTroubleCode):
        describe("P0\ufb00A")  # the "ff" ligature upper-cases to FF


@pytest.mark.parametrize("code", [f"P03{n:02d}" for n in range(13)])
def test_stored_misfire_is_critical_with_the_misfire_job(code):
    finding = assess(code)
    assert finding.urgency is Urgency.CRITICAL
    assert finding.job == tc.JOB_MISFIRE and finding.rule == "misfire"
    assert finding.urgency.severity == "critical"


@pytest.mark.parametrize(
    ("code", "urgency", "job", "rule"),
    [
        ("P0217", "critical", "cooling_system", "engine_overheat"),
        ("P0520", "critical", "oil_pressure", "oil_pressure"),
        ("P0524", "critical", "oil_pressure", "oil_pressure"),
        ("C0110", "critical", "brake_inspection", "brake_hydraulics"),
        ("P0420", "high", "emissions", "catalyst"),
        ("P0430", "high", "emissions", "catalyst"),
        ("C0035", "high", "brake_inspection", "wheel_speed_sensor"),
        ("C0050", "high", "brake_inspection", "wheel_speed_sensor"),
        ("C1234", "medium", "brake_inspection", "chassis"),
        ("P0562", "high", "battery_charging", "charging"),
        ("P0563", "high", "battery_charging", "charging"),
        ("P0351", "high", "misfire_diagnosis", "cylinder_fuel_ignition"),
        ("P0118", "medium", "cooling_system", "coolant_sensor"),
        ("U0100", "high", "network_diagnosis", "network_core"),
        ("U0140", "medium", "network_diagnosis", "network"),
        ("B0001", "high", "airbag_srs", "airbag"),
        ("P0442", "low", "emissions", "evap"),
        ("P0456", "low", "emissions", "evap"),
        ("P0755", "medium", "transmission_diagnosis", "transmission"),
        ("P1234", "medium", "trouble_code", "powertrain"),
        ("B1234", "low", "trouble_code", "body"),
    ],
)
def test_rules(code, urgency, job, rule):
    finding = assess(code)
    assert (str(finding.urgency), finding.job, finding.rule) == (urgency, job, rule)
    assert finding.system == tc.SYSTEMS[code[0]]


def test_pending_is_one_level_lower_and_permanent_counts_as_stored():
    for code in ("P0301", "P0420", "P0118", "P0442"):
        stored = assess(code)
        assert assess(code, "pending").urgency == max(stored.urgency - 1, Urgency.LOW)
        assert assess(code, "permanent").urgency == stored.urgency
    assert assess("P0301", "pending").urgency is Urgency.HIGH
    assert assess("P0442", "pending").urgency is Urgency.LOW
    with pytest.raises(ValueError, match="kind"):
        assess("P0301", "history")  # type: ignore[arg-type]


def test_assess_all_deduplicates_and_sorts_by_urgency():
    findings = assess_all(
        stored=["P0420", "P0442"],
        pending=["P0301", "P0420", "U0100"],
        permanent=["P0420", "P0128"],
    )
    assert [(f.code, f.kind, str(f.urgency)) for f in findings] == [
        ("P0420", "stored", "high"),  # stored wins the tie with permanent and beats pending
        ("P0301", "pending", "high"),
        ("U0100", "pending", "medium"),
        ("P0442", "stored", "low"),  # equal urgency: stored before permanent before pending
        ("P0128", "permanent", "low"),
    ]
    assert worst(findings) == findings[0]
    assert worst([]) is None
    assert assess_all() == []


def test_the_most_urgent_kind_of_a_code_wins():
    (finding,) = assess_all(pending=["P0301"], permanent=["P0301"])
    assert (finding.kind, finding.urgency) == ("permanent", Urgency.CRITICAL)


def test_urgency_order_and_alert_severity():
    assert Urgency.LOW < Urgency.MEDIUM < Urgency.HIGH < Urgency.CRITICAL
    assert [u.severity for u in Urgency] == ["info", "warning", "warning", "critical"]
    assert Urgency.LOW.lowered() is Urgency.LOW
    assert Urgency.CRITICAL.lowered() is Urgency.HIGH


def test_every_rule_is_reachable_and_every_job_is_documented():
    first = {tc.rule_for(code).name for code in ALL_CODES}
    assert first == {rule.name for rule in RULES}
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert {rule.job for rule in RULES} <= set(JOBS)
    assert "trouble_code" in JOBS  # the generic job of orders.jobs.CATALOGUE


def test_rules_only_match_valid_codes():
    with pytest.raises(ValueError, match="range"):
        tc.Range("P0312", "P0300")
    with pytest.raises(ValueError, match="range"):
        tc.Range("P0300", "C0312")
    with pytest.raises(InvalidTroubleCode):
        tc.Exact("P03")


def test_summary():
    assert assess("P0301").summary == "P0301: Cylinder 1 misfire detected"


@settings(max_examples=500, deadline=None)
@given(st.from_regex(DTC_RE))
def test_any_valid_code_is_described_and_assessed(code):
    for kind in ("stored", "pending", "permanent"):
        finding = assess(code, kind)
        assert isinstance(finding, Finding)
        assert finding.description and finding.description == describe(code)
        assert isinstance(finding.urgency, Urgency)
        assert finding.job in JOBS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=8))
def test_any_text_is_described_or_raises_the_typed_error(text):
    with contextlib.suppress(InvalidTroubleCode):
        assert describe(text)
