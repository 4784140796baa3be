# SPDX-License-Identifier: MIT
"""What the shop's job card shows and the steps it takes, with the API's own services.

A job is an order the caller's shop won (``GET /service-orders/{id}`` as shop staff read it,
its ``shop`` theirs) from its acceptance to its report. Any other order, another shop's
included, is the same 404 as the API's. The steps are the functions the API's routes call
(``POST /service-orders/{id}/check-in``, ``/start``, ``/complete``: ``orders.feedback``'s
``check_in``, ``start_service`` and ``complete``), under the same role rule
(``api.orders.actions.may_take``); a refused step is ``web.orders.Refusal``.

The completion form is read here into the API's own ``WorkReport``, field by field, so each
mistake is named next to its field in plain words (a ``FieldError``'s ``why``, put in words by
the template) and what was typed is shown again. A reading the orders package finds cannot be
true (``ImplausibleReport``: an odometer below the car's last known, pads thicker than new)
is put next to its field the same way. A part is a row of the form (name, part number, batch
number, quantity, unit); blank rows are ignored, so the form works without JavaScript.

Completing keeps the technician's signature (drawn on the pad, else their typed name drawn as
one) and has the platform sign the report (``orders.attest.complete_signed``); its photos are
uploaded before, on the same card (``web.reports``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from pydantic import ValidationError

from api.auth.principal import Principal
from api.orders import service
from api.orders.actions import may_take
from api.shops.service import shop as shop_profile
from api.vehicles.schemas import ServiceRecord
from api.vehicles.service import service_report
from db.registry import last_odometer
from orders import attest, feedback
from orders import evidence as report_files
from orders.approval import BLOCKING
from orders.errors import ImplausibleReport, OrderNotFound
from orders.evidence import CleanImage, Evidence
from orders.feedback import TECHNICIAN_MAX, WorkReport
from predictive.brakes import NEW_PAD_MM
from web import orders as order_pages
from web import shop as gather
from web.orders import Refusal
from web.units import KM_PER_MILE

# The statuses of a won order, from acceptance to its report.
JOB_STATUSES = ("accepted", "scheduled", "checked_in", "in_service", "completed")
# The step each status allows on the job card (the API's step names).
NEXT_STEP = {"scheduled": "check-in", "checked_in": "start", "in_service": "complete"}
PART_FIELDS = ("part", "part_number", "batch", "quantity", "unit")
PART_ROWS = 4  # empty rows the form offers; more come back when all are used
WORK_MAX = 4000
TEXT_MAX = 120  # a part's name, number, batch or unit
COST_MAX = Decimal("99999999.99")  # the report's numeric(10, 2)
LABOUR_MAX = 1000.0
PAD_MAX = 30.0
CURRENCY = re.compile(r"^[A-Z]{3}$")


class NotAJob(Exception):
    """Not an order the caller's shop won: the API's 404."""


@dataclass(frozen=True)
class FieldError:
    """A field's mistake: ``why`` names the case for the page (``required``, ``number``,
    ``range``, ``both_axles``, ``odometer_needed``, ``odometer_below``, ``thicker_than_new``,
    ``currency``, ``part_name``, ``too_long``, ``invalid``, ``signature``); ``low``/``high``
    the figures the words quote."""

    why: str
    low: float | None = None
    high: float | None = None


@dataclass
class ReportForm:
    """The completion form as typed (strings), its part rows, and its mistakes by field
    (``part-{i}`` for a part row's)."""

    values: dict[str, str]
    parts: list[dict[str, str]]
    errors: dict[str, FieldError] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, str]]:
        """The part rows to show: those typed, and empty ones to reach ``PART_ROWS`` (one
        more at least)."""
        empty = {k: "" for k in PART_FIELDS}
        more = max(1, PART_ROWS - len(self.parts))
        return self.parts + [dict(empty) for _ in range(more)]


@dataclass(frozen=True)
class Job:
    """Everything the job card shows."""

    item: gather.Item  # the order with its pre-diagnosis, job and estimate, as the inbox has it
    steps: frozenset[str]
    report: ServiceRecord | None
    last_odometer_km: float | None
    currency: str
    timezone: str
    shop: None = None  # the owner's report template's shop card: the report's own labour here

    @property
    def order_id(self) -> int:
        """The job's order."""
        return self.item.order.order_id

    @property
    def status(self) -> str:
        """The order's status."""
        return self.item.order.status


def job(*, conn: psycopg.Connection, principal: Principal, order_id: int) -> Job:
    """The job card of ``order_id`` as ``principal`` (shop staff) may see it; ``NotAJob``."""
    if principal.shop_id is None or not order_pages.is_visible(conn, principal, order_id):
        raise NotAJob(order_id)
    try:
        order = service.detail(conn=conn, order_id=order_id, principal=principal)
    except OrderNotFound as exc:
        raise NotAJob(order_id) from exc
    if order.shop is None or order.shop.shop_id != principal.shop_id:
        raise NotAJob(order_id)
    if order.status not in JOB_STATUSES:
        raise NotAJob(order_id)
    profile = shop_profile(conn=conn, shop_id=principal.shop_id)
    evidence = order_pages.evidence_of(order)
    jobs = gather.jobs_of(order)
    item = gather.Item(
        order=order,
        evidence=evidence,
        codes=gather.code_lines(evidence),
        estimate=order_pages.estimate_of(order, order_pages.ranked_shops(order)),
        prices=[p for p in profile.prices if p.job_code in jobs],
        offer=None,
        seconds_left=None,
        slots=[],
    )
    step = NEXT_STEP.get(order.status)
    if order.approval is not None and order.approval.state in BLOCKING:
        step = None  # the work waits for the fleet, or the fleet rejected the order
    return Job(
        item=item,
        steps=frozenset({step} if step and may_take(principal, step) else set()),
        report=service_report(conn=conn, order_id=order_id)
        if order.status == "completed"
        else None,
        last_odometer_km=last_odometer(conn, vehicle_id=order.vehicle_id),
        currency=profile.currency,
        timezone=profile.timezone,
    )


def blank_form(found: Job, units: str) -> ReportForm:
    """The completion form before anything is typed: the odometer at the car's last known
    reading (in the user's units, rounded up so it is not below it), the cost at the shop's
    estimate when it is in the shop's currency, the shop's currency, the oil changed when the
    job is an oil change."""
    estimate = found.item.estimate or {}
    cost = ""
    if estimate.get("total") is not None and estimate.get("currency") == found.currency:
        cost = f"{Decimal(str(estimate['total'])):.2f}"
    odometer = ""
    if found.last_odometer_km is not None:
        value = found.last_odometer_km / (KM_PER_MILE if units == "imperial" else 1.0)
        odometer = str(int(-(-value // 1)))
    oil = "yes" if "OIL-CHG" in gather.jobs_of(found.item.order) else "no"
    return ReportForm(
        values={
            "odometer": odometer,
            "cost": cost,
            "currency": found.currency,
            "oil_changed": oil,
        },
        parts=[],
    )


def _number(text: str) -> float:
    """A number as typed: a decimal comma is a point; ``ValueError`` when it is none."""
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    value = float(cleaned.replace(",", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _ranged(
    form: ReportForm, name: str, low: float, high: float, *, required: bool = False
) -> float | None:
    """The field's number within ``low``..``high``, or None with its mistake noted."""
    text = form.values.get(name, "").strip()
    if not text:
        if required:
            form.errors[name] = FieldError("required")
        return None
    try:
        value = _number(text)
    except ValueError:
        form.errors[name] = FieldError("number")
        return None
    if not low <= value <= high:
        form.errors[name] = FieldError("range", low, high)
        return None
    # To the hundredth: finer is not measured, and the report's real columns underflow on it.
    return round(value, 2)


def _text(form: ReportForm, name: str, limit: int, *, required: bool = False) -> str:
    text = form.values.get(name, "").strip()
    if required and not text:
        form.errors[name] = FieldError("required")
    elif len(text) > limit:
        form.errors[name] = FieldError("too_long", high=limit)
    return text


def _cost(form: ReportForm) -> Decimal | None:
    text = form.values.get("cost", "").strip()
    if not text:
        form.errors["cost"] = FieldError("required")
        return None
    try:
        value = Decimal(str(_number(text))).quantize(Decimal("0.01"))
    except (ValueError, InvalidOperation):
        form.errors["cost"] = FieldError("number")
        return None
    if not Decimal(0) <= value <= COST_MAX:
        form.errors["cost"] = FieldError("range", 0, float(COST_MAX))
        return None
    return value


def _parts(form: ReportForm) -> list[dict[str, Any]]:
    """The typed part rows as the report's parts; a row with anything typed needs a name."""
    found: list[dict[str, Any]] = []
    for i, row in enumerate(form.parts):
        key = f"part-{i}"
        if any(len(v) > TEXT_MAX for v in row.values()):
            form.errors[key] = FieldError("too_long", high=TEXT_MAX)
            continue
        if not row["part"]:
            form.errors[key] = FieldError("part_name")
            continue
        part: dict[str, Any] = {"part": row["part"]}
        for name in ("part_number", "batch", "unit"):
            if row[name]:
                part[name] = row[name]
        if row["quantity"]:
            try:
                quantity = _number(row["quantity"])
            except ValueError:
                form.errors[key] = FieldError("number")
                continue
            if not 0 < quantity <= 10000:
                form.errors[key] = FieldError("range", 0, 10000)
                continue
            part["quantity"] = quantity
        found.append(part)
    return found


def read_form(
    values: Mapping[str, str], parts: Sequence[Mapping[str, str]], units: str
) -> tuple[ReportForm, WorkReport | None]:
    """The completion form as typed, and the report it makes (None while it has mistakes).
    Blank part rows are dropped; the odometer is in the user's units."""
    form = ReportForm(
        values={k: str(v) for k, v in values.items()},
        parts=[
            {k: str(row.get(k) or "").strip() for k in PART_FIELDS}
            for row in parts
            if any(str(row.get(k) or "").strip() for k in PART_FIELDS)
        ],
    )
    # PostgreSQL's text cannot hold a NUL: such a field is refused like any other mistake.
    for name, value in form.values.items():
        if "\x00" in value:
            form.values[name] = value.replace("\x00", "")
            form.errors[name] = FieldError("invalid")
    for i, row in enumerate(form.parts):
        if any("\x00" in v for v in row.values()):
            form.parts[i] = {k: v.replace("\x00", "") for k, v in row.items()}
            form.errors[f"part-{i}"] = FieldError("invalid")
    work = _text(form, "work_done", WORK_MAX, required=True)
    technician = _text(form, "technician", TECHNICIAN_MAX, required=True)
    cost = _cost(form)
    currency = form.values.get("currency", "").strip().upper()
    form.values["currency"] = currency
    if not CURRENCY.match(currency):
        form.errors["currency"] = FieldError("currency")
    labour = _ranged(form, "labour_h", 0, LABOUR_MAX)
    front = _ranged(form, "pad_front_mm", 0, PAD_MAX)
    rear = _ranged(form, "pad_rear_mm", 0, PAD_MAX)
    if (front is None) != (rear is None) and not {"pad_front_mm", "pad_rear_mm"} & set(form.errors):
        form.errors["pad_front_mm" if front is None else "pad_rear_mm"] = FieldError("both_axles")
    scale = KM_PER_MILE if units == "imperial" else 1.0
    odometer = _ranged(form, "odometer", 0, 10_000_000 / scale)
    oil_changed = form.values.get("oil_changed") == "yes"
    if odometer is None and "odometer" not in form.errors and (oil_changed or front is not None):
        form.errors["odometer"] = FieldError("odometer_needed")
    parts = _parts(form)
    if form.errors or cost is None:
        return form, None
    try:
        report = WorkReport(
            work_done=work,
            parts=parts,
            cost=cost,
            currency=currency,
            odometer_km=None if odometer is None else odometer * scale,
            oil_changed=oil_changed,
            oil_sampled=form.values.get("oil_sampled") == "yes",
            pad_front_mm=front,
            pad_rear_mm=rear,
            labour_h=labour,
            technician=technician,
        )
    except ValidationError:  # every rule of the model is checked above; kept as a guard
        form.errors["work_done"] = FieldError("invalid")
        return form, None
    return form, report


def step(
    *, conn: psycopg.Connection, principal: Principal, order_id: int, name: str, now: datetime
) -> None:
    """Check the vehicle in or start work (``check-in``, ``start``), as the API's routes do."""
    if not may_take(principal, name):
        raise Refusal("not_allowed")
    take = feedback.check_in if name == "check-in" else feedback.start_service
    with order_pages.refusals(), conn.transaction():
        take(conn=conn, order_id=order_id, now=now, actor=principal.subject)


def read_signature(form: ReportForm, drawn: str, technician: str) -> CleanImage | None:
    """The technician's signature: what they drew on the pad (a PNG data URL), else their
    typed name drawn as one (the keyboard's way to sign); None with the mistake in ``form``."""
    # The pad's drawing travels in a hidden field, not kept between tries: it is drawn again.
    if drawn.strip():
        try:
            return report_files.drawn_signature(drawn.strip())
        except report_files.EvidenceRefused:
            form.errors["signature"] = FieldError("signature")
            return None
    name = technician.strip()
    if not name or "technician" in form.errors:
        return None
    return report_files.typed_signature(name)


def complete(
    *,
    conn: psycopg.Connection,
    principal: Principal,
    order_id: int,
    report: WorkReport,
    form: ReportForm,
    now: datetime,
    units: str,
    evidence: Evidence,
    signature: CleanImage | None,
) -> bool:
    """Record the report, keep the signature, sign the report and close the job (as
    ``POST /service-orders/{id}/complete`` does); False with the reading that cannot be true
    named in ``form``'s errors."""
    if not may_take(principal, "complete"):
        raise Refusal("not_allowed")
    try:
        with order_pages.refusals():
            attest.complete_signed(
                conn=conn,
                evidence=evidence,
                order_id=order_id,
                now=now,
                report=report,
                actor=principal.subject,
                signature=signature,
            )
    except ImplausibleReport as exc:
        if exc.field == "odometer_km":
            limit = exc.limit / (KM_PER_MILE if units == "imperial" else 1.0) if exc.limit else 0
            form.errors["odometer"] = FieldError("odometer_below", low=limit)
        elif exc.field in ("pad_front_mm", "pad_rear_mm"):
            form.errors[exc.field] = FieldError("thicker_than_new", high=NEW_PAD_MM)
        else:
            form.errors["work_done"] = FieldError("invalid")
        return False
    return True
