# SPDX-License-Identifier: MIT
"""What a trouble code means, how urgent it is, and which service job it calls for.

Descriptions come from a built-in table of SAE J2012 generic codes
(``predictive/data/j2012_generic.csv``); any other valid code is described from its format
(system letter, generic or manufacturer-specific, subsystem). Urgency and job come from
``RULES``, an ordered list of small rules: the first rule that matches a code decides.
Every code matches at least the catch-all rule of its system letter.

Urgency is for a *stored* code (confirmed, MIL on). A *pending* code (failed once, not yet
confirmed) is one level less urgent; a *permanent* code (stored and not yet cleared by the
car's own drive-cycle self-test, even if someone cleared the MIL) counts as stored.

Jobs are plain strings (``JOBS`` describes each); ``trouble_code`` is the generic
diagnostic job of the service-job catalogue in ``orders.jobs``, the rest are named here.

Exceptions::

    PredictiveError
     └── InvalidTroubleCode (also a ValueError)
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal, TypeAlias

from predictive.health import PredictiveError
from telemetry.dtc import DTC_RE

TABLE_RESOURCE = ("data", "j2012_generic.csv")

Kind = Literal["stored", "pending", "permanent"]
# When one code is reported under several kinds at equal urgency, the first here is kept.
KINDS: tuple[Kind, ...] = ("stored", "permanent", "pending")

SYSTEMS = {"P": "powertrain", "C": "chassis", "B": "body", "U": "network"}

# J2012's third character of a P0/P1 code names the subsystem (D-F are not assigned); P2
# codes follow it for 0-9 and use A for fuel and air metering; P3 codes do not follow it.
P_SUBSYSTEMS = {
    "0": "fuel and air metering and auxiliary emission controls",
    "1": "fuel and air metering",
    "2": "fuel and air metering, injector circuit",
    "3": "ignition system or misfire",
    "4": "auxiliary emission controls",
    "5": "vehicle speed, idle control and auxiliary inputs",
    "6": "computer and output circuit",
    "7": "transmission",
    "8": "transmission",
    "9": "transmission",
    "A": "hybrid propulsion",
    "B": "hybrid propulsion",
    "C": "hybrid propulsion",
}
# Generic network codes group by third character too.
U0_SUBSYSTEMS = {
    "0": "network electrical",
    "1": "lost communication",
    "2": "lost communication",
    "3": "control module software",
    "4": "invalid data received",
}

JOB_BRAKES = "brake_inspection"
JOB_MISFIRE = "misfire_diagnosis"
JOB_COOLING = "cooling_system"
JOB_EMISSIONS = "emissions"
JOB_CHARGING = "battery_charging"
JOB_OIL_PRESSURE = "oil_pressure"
JOB_TRANSMISSION = "transmission_diagnosis"
JOB_AIRBAG = "airbag_srs"
JOB_NETWORK = "network_diagnosis"
JOB_DIAGNOSTIC = "trouble_code"  # the catalogue's generic job in orders.jobs

JOBS: Mapping[str, str] = MappingProxyType(
    {
        JOB_BRAKES: "Brake and ABS inspection: wheel-speed sensors, hydraulics, brake switch",
        JOB_MISFIRE: "Ignition and misfire diagnosis: plugs, coils, injectors, crank/cam signals",
        JOB_COOLING: "Cooling system check: coolant level, thermostat, fans, temperature sensor",
        JOB_EMISSIONS: "Emissions diagnosis: catalyst, oxygen sensors, EGR, EVAP, particulates",
        JOB_CHARGING: "Battery and charging system test: battery, alternator, wiring",
        JOB_OIL_PRESSURE: "Oil level and oil pressure check before further driving",
        JOB_TRANSMISSION: "Transmission diagnosis: fluid level and condition, solenoids, sensors",
        JOB_AIRBAG: "Airbag (SRS) diagnosis: deployment loops, connectors, control module",
        JOB_NETWORK: "Vehicle network diagnosis: CAN wiring, module power and grounds",
        JOB_DIAGNOSTIC: "Read trouble codes, diagnose the cause and quote the repair",
    }
)


class InvalidTroubleCode(PredictiveError, ValueError):
    """Not a trouble code in SAE J2012 form (like P0301)."""


def _check(code: object) -> str:
    """The code in canonical form (stripped, upper case) or InvalidTroubleCode."""
    if isinstance(code, str) and code.isascii():
        canonical = code.strip().upper()
        if DTC_RE.fullmatch(canonical):
            return canonical
    raise InvalidTroubleCode(f"{code!r} is not a trouble code like P0301")


class Urgency(IntEnum):
    """How soon to act on a code; ordered, so ``max`` gives the most urgent."""

    LOW = 1  # at the next convenient service; informational
    MEDIUM = 2  # book a diagnosis within days to weeks
    HIGH = 3  # soon: a safety system is degraded or damage is likely if left
    CRITICAL = 4  # stop driving soon: engine, brakes or catalyst at risk now

    def __str__(self) -> str:
        return self.name.lower()

    def lowered(self) -> Urgency:
        """One level less urgent, never below LOW."""
        return Urgency(max(self - 1, Urgency.LOW))

    @property
    def severity(self) -> Literal["info", "warning", "critical"]:
        """The alert severity of the ``alerts`` table for this urgency."""
        if self is Urgency.CRITICAL:
            return "critical"
        return "info" if self is Urgency.LOW else "warning"


# --- matchers: what a rule applies to. Codes are normalised (upper case) before matching.


class Exact:
    """These codes exactly."""

    __slots__ = ("codes",)

    def __init__(self, *codes: str) -> None:
        self.codes = frozenset(_check(c) for c in codes)

    def __call__(self, code: str) -> bool:
        return code in self.codes

    def __repr__(self) -> str:
        return f"Exact({', '.join(sorted(self.codes))})"


class Prefix:
    """Codes starting with this text."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, code: str) -> bool:
        return code.startswith(self.prefix)

    def __repr__(self) -> str:
        return f"Prefix({self.prefix}…)"


class Range:
    """Codes from ``first`` to ``last`` inclusive, same letter, in hex order (P030A < P0310)."""

    __slots__ = ("first", "last", "letter")

    def __init__(self, first: str, last: str) -> None:
        first, last = _check(first), _check(last)
        if first[0] != last[0] or int(first[1:], 16) > int(last[1:], 16):
            raise ValueError(f"bad code range {first}-{last}")
        self.letter = first[0]
        self.first, self.last = int(first[1:], 16), int(last[1:], 16)

    def __call__(self, code: str) -> bool:
        return code[0] == self.letter and self.first <= int(code[1:], 16) <= self.last

    def __repr__(self) -> str:
        return f"Range({self.letter}{self.first:04X}-{self.letter}{self.last:04X})"


class Regex:
    """Codes this regular expression matches from the start."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __call__(self, code: str) -> bool:
        return self.pattern.match(code) is not None

    def __repr__(self) -> str:
        return f"Regex({self.pattern.pattern})"


class AnyOf:
    """Codes any of these matchers match."""

    __slots__ = ("matchers",)

    def __init__(self, *matchers: Matcher) -> None:
        self.matchers = matchers

    def __call__(self, code: str) -> bool:
        return any(m(code) for m in self.matchers)

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.matchers))


Matcher: TypeAlias = Exact | Prefix | Range | Regex | AnyOf


@dataclass(frozen=True)
class Rule:
    """Codes this rule matches are this urgent (when stored) and call for this job."""

    name: str
    match: Matcher
    urgency: Urgency
    job: str
    why: str


LOW, MEDIUM, HIGH, CRITICAL = Urgency

# Ordered: the first match wins, so specific rules come before the families that hold them.
# fmt: off
RULES: tuple[Rule, ...] = (
    # critical: stop driving soon
    Rule("misfire", Range("P0300", "P0312"), CRITICAL, JOB_MISFIRE,
         "misfire: unburnt fuel overheats the catalyst; a flashing MIL means stop now"),
    Rule("engine_overheat", Exact("P0217", "P0298"), CRITICAL, JOB_COOLING,
         "engine coolant or oil over temperature: risk of head gasket and bearing damage"),
    Rule("oil_pressure", Range("P0520", "P0524"), CRITICAL, JOB_OIL_PRESSURE,
         "oil pressure low or unknown: the engine can seize within minutes"),
    Rule("brake_hydraulics", Exact("C0110", "C0121"), CRITICAL, JOB_BRAKES,
         "ABS pump or valve relay fault: brake hydraulics degraded"),
    # high: soon
    Rule("misfire_other", Exact("P0313", "P0314", "P0316"), HIGH, JOB_MISFIRE,
         "misfire under special conditions (low fuel, start-up)"),
    Rule("cylinder_fuel_ignition",
         AnyOf(Range("P0200", "P0212"), Range("P0261", "P0296"), Range("P0350", "P0362")),
         HIGH, JOB_MISFIRE, "injector or ignition-coil circuit: that cylinder will misfire"),
    Rule("crank_cam_signal",
         AnyOf(Range("P0016", "P0019"), Range("P0320", "P0323"), Range("P0335", "P0349"),
               Range("P0365", "P0369"), Range("P0390", "P0394")),
         HIGH, JOB_MISFIRE, "crank/cam signal fault: the engine may stall or not restart"),
    Rule("fuel_delivery",
         AnyOf(Range("P0190", "P0194"), Range("P0230", "P0233"), Range("P0627", "P0629")),
         HIGH, JOB_DIAGNOSTIC, "fuel pump or rail pressure fault: the engine may stall"),
    Rule("throttle_control",
         AnyOf(Range("P0120", "P0124"), Range("P0220", "P0229"), Range("P2100", "P2139")),
         HIGH, JOB_DIAGNOSTIC, "throttle or pedal sensor fault: usually reduced-power mode"),
    Rule("overboost", Exact("P0234"), HIGH, JOB_DIAGNOSTIC,
         "turbo overboost can damage the engine"),
    Rule("catalyst", Range("P0420", "P0434"), HIGH, JOB_EMISSIONS,
         "catalyst efficiency low: fails inspection; often follows misfire or oil burning"),
    Rule("wheel_speed_sensor", Range("C0035", "C0050"), HIGH, JOB_BRAKES,
         "wheel-speed sensor fault: ABS and stability control may be off"),
    Rule("brake_switch", AnyOf(Exact("P0504", "C0161"), Range("P0571", "P0573")), HIGH, JOB_BRAKES,
         "brake switch fault: brake lights and cruise cancel depend on it"),
    Rule("charging", AnyOf(Range("P0560", "P0563"), Range("P0620", "P0626")), HIGH, JOB_CHARGING,
         "charging or system voltage fault: the vehicle may not restart"),
    Rule("cooling_fan", AnyOf(Range("P0480", "P0485"), Exact("P0691", "P0692")), HIGH, JOB_COOLING,
         "radiator fan fault: overheating in traffic"),
    Rule("control_module",
         AnyOf(Range("P0601", "P0607"), Range("P0641", "P0643"), Range("P0651", "P0653")),
         HIGH, JOB_DIAGNOSTIC, "engine computer or its sensor supply: several systems affected"),
    Rule("transmission_slip", AnyOf(Range("P0730", "P0736"), Exact("P0218", "P0741", "P0868")),
         HIGH, JOB_TRANSMISSION, "transmission slipping, hot or low on pressure: wear accelerates"),
    Rule("hybrid_battery", Exact("P0A80", "P0AA6"), HIGH, JOB_DIAGNOSTIC,
         "hybrid high-voltage battery fault"),
    Rule("airbag", Range("B0000", "B00FF"), HIGH, JOB_AIRBAG,
         "restraint system fault: airbags or pretensioners may not deploy"),
    Rule("network_core", AnyOf(Range("U0001", "U0009"), Exact("U0100", "U0101", "U0121")),
         HIGH, JOB_NETWORK, "high-speed bus down or engine/transmission/ABS module unreachable"),
    # medium and low: named families
    Rule("thermostat", Exact("P0128"), LOW, JOB_COOLING,
         "engine warms up slowly: thermostat stuck open; heating and economy suffer"),
    Rule("coolant_sensor", AnyOf(Range("P0115", "P0119"), Exact("P0125", "P0126", "P2181")),
         MEDIUM, JOB_COOLING, "coolant temperature doubtful: fan and fuel control affected"),
    Rule("fuel_trim",
         AnyOf(Range("P0170", "P0175"), Range("P2096", "P2099"), Range("P2177", "P2190")),
         MEDIUM, JOB_DIAGNOSTIC, "mixture too lean or rich: vacuum leak, MAF, fuel pressure"),
    Rule("oxygen_sensor",
         AnyOf(Range("P0030", "P0064"), Range("P0130", "P0167"), Range("P2195", "P2198"),
               Range("P2270", "P2273"), Range("P2A00", "P2A07")),
         MEDIUM, JOB_EMISSIONS, "oxygen sensor or heater: fuel control and catalyst monitoring"),
    Rule("egr_secondary_air",
         AnyOf(Range("P0400", "P0419"), Range("P0489", "P0492")), MEDIUM, JOB_EMISSIONS,
         "EGR or secondary air fault: emissions, sometimes rough running"),
    Rule("particulate_filter", Exact("P2002", "P2463"), MEDIUM, JOB_EMISSIONS,
         "particulate filter loaded: needs regeneration before limp mode"),
    Rule("evap", AnyOf(Range("P0440", "P0459"), Exact("P0496", "P0497")), LOW, JOB_EMISSIONS,
         "fuel-vapour system (often the fuel cap): no effect on driving"),
    Rule("fuel_level", Range("P0460", "P0464"), LOW, JOB_DIAGNOSTIC,
         "fuel gauge reading unreliable"),
    # catch-alls by subsystem and system letter
    Rule("transmission", Regex("P[0-2][7-9]"), MEDIUM, JOB_TRANSMISSION, "transmission code"),
    Rule("ignition", Regex("P[0-2]3"), MEDIUM, JOB_MISFIRE, "ignition-system code"),
    Rule("emissions", Regex("P[0-2]4"), MEDIUM, JOB_EMISSIONS, "auxiliary emission-control code"),
    Rule("powertrain", Prefix("P"), MEDIUM, JOB_DIAGNOSTIC,
         "powertrain code without a specific rule"),
    Rule("chassis", Prefix("C"), MEDIUM, JOB_BRAKES,
         "chassis code: mostly from the brake/ABS/stability module"),
    Rule("network", Prefix("U"), MEDIUM, JOB_NETWORK, "network communication code"),
    Rule("body", Prefix("B"), LOW, JOB_DIAGNOSTIC, "body code: comfort and convenience systems"),
)
# fmt: on


@dataclass(frozen=True)
class Finding:
    """One code assessed: what it is, how urgent, what to do, and which rule said so."""

    code: str
    kind: Kind
    description: str
    system: str
    urgency: Urgency
    job: str
    rule: str
    reason: str

    @property
    def summary(self) -> str:
        """``P0301: Cylinder 1 misfire detected``."""
        return f"{self.code}: {self.description}"


@cache
def generic_table() -> Mapping[str, str]:
    """The built-in table of generic codes: code → description (read once)."""
    resource = resources.files("predictive").joinpath(*TABLE_RESOURCE)
    reader = csv.DictReader(io.StringIO(resource.read_text(encoding="utf-8")))
    return MappingProxyType({row["code"]: row["description"] for row in reader})


def origin(code: str) -> Literal["generic", "manufacturer", "reserved"]:
    """Who defines the code, from its second character (and for P3xxx its range)."""
    code = _check(code)
    second = code[1]
    if code[0] == "P":
        if second == "3":  # P3000-P33FF are manufacturers', P3400-P3FFF SAE's
            return "generic" if code[2] >= "4" else "manufacturer"
        return "manufacturer" if second == "1" else "generic"
    if second == "0":
        return "generic"
    return "reserved" if second == "3" else "manufacturer"


def subsystem(code: str) -> str | None:
    """The subsystem named by the third character, where J2012 assigns one."""
    code = _check(code)
    if code[:2] in ("P0", "P1"):
        return P_SUBSYSTEMS.get(code[2])
    if code[:2] == "P2" and code[2] in "0123456789A":
        return P_SUBSYSTEMS["1" if code[2] == "A" else code[2]]
    if code[:2] == "U0":
        return U0_SUBSYSTEMS.get(code[2])
    if code[:3] == "B00":
        return "restraints"
    return None


def describe(code: str) -> str:
    """A plain-English description: from the table, else from the code's format."""
    code = _check(code)
    known = generic_table().get(code)
    if known is not None:
        return known
    who = {
        "generic": "Generic",
        "manufacturer": "Manufacturer-specific",
        "reserved": "SAE-reserved",
    }[origin(code)]
    part = subsystem(code)
    return f"{who} {SYSTEMS[code[0]]} code" + (f" ({part})" if part else "")


def rule_for(code: str) -> Rule:
    """The first rule matching the code."""
    code = _check(code)
    return next(rule for rule in RULES if rule.match(code))


def assess(code: str, kind: Kind = "stored") -> Finding:
    """Description, urgency and job for one code reported as stored, pending or permanent."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    code = _check(code)
    rule = rule_for(code)
    urgency, reason = rule.urgency, rule.why
    if kind == "pending":
        urgency = urgency.lowered()
        reason += "; pending (not yet confirmed), so one level lower"
    elif kind == "permanent":
        reason += "; permanent (not yet cleared by a passed self-test), counts as stored"
    return Finding(
        code, kind, describe(code), SYSTEMS[code[0]], urgency, rule.job, rule.name, reason
    )


def assess_all(
    *, stored: Iterable[str] = (), pending: Iterable[str] = (), permanent: Iterable[str] = ()
) -> list[Finding]:
    """Every code assessed once (its most urgent kind wins), most urgent first."""
    best: dict[str, Finding] = {}
    by_kind: tuple[tuple[Kind, Iterable[str]], ...] = (
        ("stored", stored),
        ("permanent", permanent),
        ("pending", pending),
    )
    for kind, codes in by_kind:  # in KINDS order, so on a tie the earlier kind stays
        for code in codes:
            finding = assess(code, kind)
            held = best.get(finding.code)
            if held is None or finding.urgency > held.urgency:
                best[finding.code] = finding
    return sorted(best.values(), key=_rank)


def worst(findings: Iterable[Finding]) -> Finding | None:
    """The most urgent finding (stored before pending on a tie), or None if there are none."""
    return min(findings, key=_rank, default=None)


def _rank(finding: Finding) -> tuple[int, int, str]:
    """Sort key: most urgent first, then stored before permanent before pending, then code."""
    return (-finding.urgency, KINDS.index(finding.kind), finding.code)
