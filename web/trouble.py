# SPDX-License-Identifier: MIT
"""Trouble codes in the owner's words and language: a headline per rule, an action per urgency.

The descriptions of ``predictive.trouble_codes`` come from SAE J2012's catalogue: thousands of
English lines in a mechanic's vocabulary ("Cylinder 1 misfire detected"), far too many to
translate well. The rules that classify the codes are few (``RULES``, a few dozen), and they
are what an owner needs: what kind of fault it is, and how soon to act. So a card says the
rule's headline and the urgency's action, both translated ("Engine misfire: have it checked
today"), and gives the code and the catalogue's English line as the detail, for the shop.

Every rule has a headline here; ``tests/web/test_web_trouble_codes.py`` fails on a rule added
without one, or without its Chinese translation. The strings below are gettext messages,
translated when the page is rendered (``CodeLine.headline``), in the page's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from api.vehicles.schemas import AlertOut
from predictive.trouble_codes import InvalidTroubleCode, Urgency, rule_for
from web.i18n import gettext_

# What each rule of predictive.trouble_codes.RULES is about, for an owner.
HEADLINES: Mapping[str, str] = MappingProxyType(
    {
        "misfire": "Engine misfire",
        "engine_overheat": "Engine overheating",
        "oil_pressure": "Low engine oil pressure",
        "brake_hydraulics": "ABS brake pump or valve fault",
        "misfire_other": "Engine misfire at start-up or on low fuel",
        "cylinder_fuel_ignition": "Injector or ignition coil fault",
        "crank_cam_signal": "Crankshaft or camshaft sensor fault",
        "fuel_delivery": "Fuel pump or fuel pressure fault",
        "throttle_control": "Throttle or accelerator pedal fault",
        "overboost": "Turbocharger pressure too high",
        "catalyst": "Catalytic converter not working well",
        "wheel_speed_sensor": "Wheel speed sensor fault (ABS)",
        "brake_switch": "Brake light switch fault",
        "charging": "Battery charging fault",
        "cooling_fan": "Radiator fan fault",
        "control_module": "Engine computer fault",
        "transmission_slip": "Transmission slipping or overheating",
        "hybrid_battery": "Hybrid battery fault",
        "airbag": "Airbag system fault",
        "network_core": "The car's main computers cannot talk to each other",
        "thermostat": "Engine warms up too slowly (thermostat)",
        "coolant_sensor": "Coolant temperature sensor fault",
        "fuel_trim": "Fuel mixture too lean or too rich",
        "oxygen_sensor": "Oxygen sensor fault",
        "egr_secondary_air": "Exhaust gas recirculation or secondary air fault",
        "particulate_filter": "Particulate filter clogged",
        "evap": "Fuel vapour leak (often the fuel cap)",
        "fuel_level": "Fuel gauge unreliable",
        "transmission": "Transmission fault",
        "ignition": "Ignition system fault",
        "emissions": "Emission control fault",
        "powertrain": "Engine or drivetrain fault",
        "chassis": "Brake, steering or suspension fault",
        "network": "Communication fault between the car's computers",
        "body": "Body electronics fault",
    }
)
# Said when a finding names a rule this table does not know (an alert older than a rename).
UNKNOWN_HEADLINE = "Trouble code"

# How soon to act, by the finding's urgency (a pending code's is one level lower already).
ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        str(Urgency.CRITICAL): "have it checked today",
        str(Urgency.HIGH): "have it checked this week",
        str(Urgency.MEDIUM): "book a check in the next few weeks",
        str(Urgency.LOW): "have it looked at at the next service",
    }
)


@dataclass(frozen=True)
class CodeLine:
    """One open trouble code as a card says it."""

    code: str
    description: str  # the catalogue's, in English
    urgency: str  # low, medium, high or critical
    pending: bool  # failed once, not confirmed yet
    rule: str

    def headline(self) -> str:
        """What the fault is, in the page's language."""
        return gettext_(HEADLINES.get(self.rule, UNKNOWN_HEADLINE))

    def action(self) -> str:
        """How soon to act, in the page's language."""
        return gettext_(ACTIONS.get(self.urgency, ACTIONS[str(Urgency.MEDIUM)]))


def _rule(finding: Mapping[str, object]) -> str:
    """The rule that classified the finding: as the alert recorded it, else today's."""
    named = finding.get("rule")
    if isinstance(named, str) and named in HEADLINES:
        return named
    try:
        return rule_for(str(finding.get("code", ""))).name
    except InvalidTroubleCode:
        return ""


def lines(alerts: Iterable[AlertOut]) -> list[CodeLine]:
    """The codes of trouble-code alerts, as their findings list them (most urgent first)."""
    found: list[CodeLine] = []
    for alert in alerts:
        for finding in alert.evidence.get("findings") or []:
            found.append(
                CodeLine(
                    code=str(finding.get("code", "")),
                    description=str(finding.get("description", "")),
                    urgency=str(finding.get("urgency", alert.tier)),
                    pending=finding.get("kind") == "pending",
                    rule=_rule(finding),
                )
            )
    return found
