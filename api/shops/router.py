# SPDX-License-Identifier: MIT
"""Routes of the shops domain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import ConnDep, ShopIdDep
from api.problems import not_found, problem_response

router = APIRouter(prefix="/shops", tags=["shops"])


class ShopOut(BaseModel):
    """A shop's profile."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "shop_id": 4,
                    "name": "Becker Garage",
                    "address": "Hauptstr. 1, München",
                    "phone": "+49 89 123456",
                    "lat": 48.14,
                    "lon": 11.58,
                    "capabilities": ["OIL-CHG", "BRAKE-PADS"],
                    "hours": {"mon": ["08:00", "18:00"]},
                }
            ]
        }
    )

    shop_id: int
    name: str
    address: str | None
    phone: str | None
    lat: float
    lon: float
    capabilities: list[str]
    hours: dict[str, Any]


@router.get("/{shop_id}", response_model=ShopOut, responses=problem_response(404))
def get_shop(shop_id: ShopIdDep, conn: ConnDep) -> ShopOut:
    """A shop's profile: address, position, capabilities and opening hours."""
    row = conn.execute(
        "SELECT shop_id, name, address, phone, lat, lon, capabilities, hours FROM shops "
        "WHERE shop_id = %s",
        (shop_id,),
    ).fetchone()
    if row is None:  # deleted between the check and the read
        raise not_found("shop", shop_id)
    return ShopOut(**dict(zip(ShopOut.model_fields, row, strict=True)))
