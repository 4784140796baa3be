# SPDX-License-Identifier: MIT
"""Figures in responses carry their unit's precision (api/figures.py), and the fleet CSV
writes times and figures exactly as the JSON does (ISO 8601)."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import factories
import pytest
from pydantic import BaseModel

from api.figures import InCurrency, Km, Money, MoneyPerCurrency, minor_unit, round_money
from api.fleets.schemas import FleetKpis
from api.shops.schemas import PriceOut, ShopOut

_vins = itertools.count()


class _Priced(InCurrency):
    currency: str
    cost: Money | None
    prices: list[PriceOut]


@pytest.mark.parametrize(
    ("currency", "expected"), [("EUR", 89.46), ("usd", 89.46), ("JPY", 89.0), ("KWD", 89.456)]
)
def test_money_rounds_to_the_minor_unit_of_its_currency(currency, expected):
    priced = _Priced(
        currency=currency, cost=89.4561, prices=[PriceOut(job_code="X", price=89.4561, labour_h=1)]
    )
    body = priced.model_dump(mode="json")
    assert body["cost"] == body["prices"][0]["price"] == expected
    assert round_money(89.4561, currency) == expected
    assert priced.model_dump()["cost"] == 89.4561  # Python values stay exact


def test_units_round_in_json_and_keep_their_schema():
    class Distance(BaseModel):
        km: Km | None

    assert Distance(km=2011.9462971153253).model_dump(mode="json") == {"km": 2011.9}
    assert Distance(km=None).model_dump_json() == '{"km":null}'
    assert Distance.model_json_schema(mode="serialization")["properties"]["km"] == {
        "anyOf": [{"type": "number"}, {"type": "null"}],
        "title": "Km",
    }
    assert minor_unit("JPY") == 0 and minor_unit("BHD") == 3 and minor_unit("CHF") == 2

    class Sums(BaseModel):
        cost: MoneyPerCurrency

    assert Sums(cost={"EUR": 6120.456, "JPY": 980.6}).model_dump(mode="json") == {
        "cost": {"EUR": 6120.46, "JPY": 981.0}
    }


def test_shop_and_kpi_figures():
    shop = ShopOut.model_validate(ShopOut.model_config["json_schema_extra"]["examples"][0])  # type: ignore[index]
    shop = shop.model_copy(
        update={"lat": 41.88512345678, "on_time_rate": 0.94444, "labour_rate_per_h": 84.129}
    )
    body = shop.model_dump(mode="json")
    assert (body["lat"], body["on_time_rate"], body["labour_rate_per_h"]) == (
        41.885123,
        0.944,
        84.13,
    )
    kpis = FleetKpis.model_validate(FleetKpis.model_config["json_schema_extra"]["examples"][0])  # type: ignore[index]
    kpis = kpis.model_copy(update={"downtime_hours": 71.51234, "on_time_service_rate": 0.92166})
    assert kpis.model_dump(mode="json")["downtime_hours"] == 71.51
    assert kpis.model_dump(mode="json")["on_time_service_rate"] == 0.922


@pytest.fixture
def fleet_vehicle(conn) -> dict[str, int]:
    """A fleet vehicle seen a minute ago whose predictions carry every float digit."""
    fleet_id = factories.fleet(conn, name="figures").fleet_id
    vin = f"WLP{next(_vins):014d}"
    vehicle_id = factories.vehicle(
        conn, vin=vin, fleet_id=fleet_id, make="Sim", model="One"
    ).vehicle_id
    now = datetime.now(UTC)
    factories.vehicle_state(
        conn, vehicle_id, last_seen=now - timedelta(minutes=1), odometer_km=48213.4167
    )
    for model, value, unit, remaining, evidence in (
        ("oil_life", 54.123456, "%", 2011.9462971153253, {}),
        (
            "brake_pads",
            6.1234567,
            "mm",
            19800.04321,
            {"pad_front_mm": 6.1234567, "pad_rear_mm": 8.3456789},
        ),
    ):
        factories.prediction(
            conn,
            vehicle_id,
            model=model,
            value=value,
            unit=unit,
            time=now - timedelta(minutes=2),
            model_version="test-1",
            remaining_km=remaining,
            evidence=evidence,
        )
    return {"fleet": fleet_id, "vehicle": vehicle_id}


def test_vehicle_health_figures_are_rounded(admin_client, fleet_vehicle):
    health = admin_client.get(f"/vehicles/{fleet_vehicle['vehicle']}/health").json()
    assert health["odometer_km"] == 48213.4
    assert (health["oil"]["oil_life_pct"], health["oil"]["remaining_km"]) == (54.1, 2011.9)
    assert health["brake_pads"]["remaining_km"] == 19800.0
    predictions = admin_client.get(f"/vehicles/{fleet_vehicle['vehicle']}/predictions").json()
    assert sorted(p["remaining_km"] for p in predictions["items"]) == [2011.9, 19800.0]
    assert sorted(p["value"] for p in predictions["items"]) == [6.12, 54.12]


def test_fleet_table_and_csv_agree_with_iso_times_and_rounded_figures(admin_client, fleet_vehicle):
    row = admin_client.get(f"/fleets/{fleet_vehicle['fleet']}/health").json()["items"][0]
    assert (row["oil_remaining_km"], row["pad_front_mm"], row["pad_rear_mm"]) == (
        2011.9,
        6.12,
        8.35,
    )
    text = admin_client.get(f"/fleets/{fleet_vehicle['fleet']}/health.csv").text
    [line] = list(csv.DictReader(io.StringIO(text)))
    # The CSV says what the JSON says, ISO 8601 times included.
    for column in (
        "last_seen",
        "odometer_km",
        "oil_life_pct",
        "oil_remaining_km",
        "pad_front_mm",
        "pad_rear_mm",
        "pads_remaining_km",
    ):
        assert line[column] == str(row[column]), column
    assert "T" in line["last_seen"] and " " not in line["last_seen"]
    seen = datetime.fromisoformat(line["last_seen"])
    assert seen.tzinfo is not None and abs(datetime.now(UTC) - seen) < timedelta(hours=1)
