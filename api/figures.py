# SPDX-License-Identifier: MIT
"""The precision of figures in responses, per unit, in one place.

Models compute in full floating point; a response shows what a person can use:
``remaining_km`` 2011.9 rather than 2011.9462971153253. Each alias below is a float that
rounds when it is serialized to JSON (responses, CSV exports); Python values stay exact.
Money rounds to the minor unit of its currency (ISO 4217), so a model holding money says
which field names its currency by deriving from ``InCurrency``.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, PlainSerializer, SerializerFunctionWrapHandler, model_serializer


def _rounded(digits: int) -> PlainSerializer:
    return PlainSerializer(lambda value: round(value, digits), return_type=float, when_used="json")


Km = Annotated[float, _rounded(1)]  # 100 m: below what an odometer or a projection can promise
Pct = Annotated[float, _rounded(1)]  # oil life, life left: a tenth of a percent
Mm = Annotated[float, _rounded(2)]  # pad thickness: what a caliper reads
Coordinate = Annotated[float, _rounded(6)]  # degrees: 6 decimals are about 0.1 m
Hours = Annotated[float, _rounded(2)]  # durations in hours: to the minute or so
Seconds = Annotated[float, _rounded(1)]
Share = Annotated[float, _rounded(3)]  # a rate from 0 to 1: a tenth of a percent
Score = Annotated[float, _rounded(2)]  # ratings (0-5) and recommendations (0-10)
Reading = Annotated[float, _rounded(2)]  # a model output in its own unit (percent or mm)


class _MoneyMark:
    """Marks a float as an amount in the currency of the model that holds it."""


Money = Annotated[float, _MoneyMark()]

# ISO 4217 minor units of the currencies that do not have two decimals; every other has two.
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def minor_unit(currency: str) -> int:
    """Decimals of ``currency`` (ISO 4217 code): 2 unless the standard says otherwise."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount: float, currency: str) -> float:
    """``amount`` rounded to the minor unit of ``currency``."""
    return round(amount, minor_unit(currency))


def _per_currency(amounts: dict[str, float]) -> dict[str, float]:
    return {currency: round_money(amount, currency) for currency, amount in amounts.items()}


# Sums keyed by currency code, each rounded to its currency's minor unit.
MoneyPerCurrency = Annotated[
    dict[str, float], PlainSerializer(_per_currency, return_type=dict[str, float], when_used="json")
]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's annotation may hold (``Price``, ``list[Price]``, ``Price | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (list, tuple, typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _is_money(annotation: Any, metadata: list[Any]) -> bool:
    """Whether a field is ``Money`` or ``Money | None``."""
    marks = list(metadata) + [
        m for arg in typing.get_args(annotation) for m in getattr(arg, "__metadata__", ())
    ]
    return any(isinstance(m, _MoneyMark) for m in marks)


def _round_money_in(model: type[BaseModel], data: Any, digits: int) -> None:
    if not isinstance(data, dict):
        return
    for name, field in model.model_fields.items():
        value = data.get(name)
        if _is_money(field.annotation, field.metadata):
            if isinstance(value, float):
                data[name] = round(value, digits)
            continue
        for inner in _models_in(field.annotation):
            for item in value if isinstance(value, list) else [value]:
                _round_money_in(inner, item, digits)


class InCurrency(BaseModel):
    """A model with a ``currency`` field: its ``Money`` figures, nested ones included, are
    rounded to that currency's minor unit in JSON."""

    @model_serializer(mode="wrap")
    def _money_to_minor_unit(self, handler: SerializerFunctionWrapHandler, info):  # type: ignore[no-untyped-def]
        data = handler(self)
        if info.mode_is_json():
            _round_money_in(type(self), data, minor_unit(getattr(self, "currency", "")))
        return data


def _estimate(estimate: dict[str, Any]) -> dict[str, Any]:
    total, currency = estimate.get("total"), estimate.get("currency")
    if isinstance(total, float) and isinstance(currency, str):
        return {**estimate, "total": round_money(total, currency)}
    return estimate


# A shop's estimate ({"total", "currency", "jobs"}): the total in the currency's minor unit.
Estimate = Annotated[
    dict[str, Any], PlainSerializer(_estimate, return_type=dict[str, Any], when_used="json")
]
