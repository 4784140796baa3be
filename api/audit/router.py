# SPDX-License-Identifier: MIT
"""Routes of the audit domain: admins read the log of writes, newest first."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.audit.log import read_page
from api.deps import ConnDep, require_roles
from api.pagination import CursorQuery, LimitQuery, decode_cursor, next_cursor
from api.problems import problem_response

router = APIRouter(prefix="/audit-log", tags=["audit"])


class AuditEntry(BaseModel):
    """One write the API was asked to do."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 812,
                    "at": "2026-11-21T09:12:00Z",
                    "user_id": 3,
                    "key_id": 5,
                    "method": "POST",
                    "route": "/devices/{device_id}/credentials",
                    "path": "/devices/dongle-0001/credentials",
                    "status": 201,
                    "object_type": "device",
                    "object_id": "dongle-0001",
                }
            ]
        }
    )

    id: int
    at: datetime
    user_id: int | None = Field(description="Null when the caller was not authenticated")
    key_id: int | None = Field(description="The API key used, if any")
    method: str
    route: str = Field(description="The route template, e.g. /devices/{device_id}")
    path: str
    status: int = Field(description="The HTTP status answered")
    object_type: str | None
    object_id: str | None


class AuditPage(BaseModel):
    """One page of the audit log, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "next_cursor": None}]})

    items: list[AuditEntry]
    next_cursor: str | None


@router.get(
    "",
    response_model=AuditPage,
    responses=problem_response(400) | problem_response(403),
    dependencies=[Depends(require_roles())],  # no role but admin
)
def read_audit_log(conn: ConnDep, limit: LimitQuery = 50, cursor: CursorQuery = None) -> AuditPage:
    """The audit log (admins only)."""
    rows = read_page(conn=conn, limit=limit, after=decode_cursor(cursor))
    items = [AuditEntry.model_validate(row, from_attributes=True) for row in rows]
    return AuditPage(items=items[:limit], next_cursor=next_cursor([e.id for e in items], limit))
