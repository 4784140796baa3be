# SPDX-License-Identifier: MIT
"""An outbox event when a fleet's manager approves or rejects an order, so the shop hears.

``order.approval_decided``: written by a trigger when an order's history records an
``approval`` event and the order's approval is then ``approved`` or ``rejected`` (the
manager's decision, ``orders.approval.decide``); the policy's own verdicts (``auto``,
``pending``) stay in the history alone. The payload carries the decision and its note. The
event's ``shop_id`` is the history row's: the order's shop once a shop holds it, NULL while it
is only offered (the matcher's best is nobody's yet). Live streams give it to whoever may see
the order (``api.access.events``: the shop holding it or offered it, the fleet); the
notification dispatcher tells the staff of those shops; webhook subscribers ask for it by name.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION wl_approval_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (event_type, vehicle_id, fleet_id, shop_id, payload)
    SELECT 'order.approval_decided', o.vehicle_id, v.fleet_id, NEW.shop_id, jsonb_build_object(
        'order_id', o.order_id, 'vehicle_id', o.vehicle_id, 'vin', o.vin,
        'shop_id', NEW.shop_id, 'status', o.status, 'approval', o.approval,
        'note', o.approval_note, 'issue', o.issue, 'job_code', o.job_code, 'at', NEW.at)
    FROM service_orders o JOIN vehicles v USING (vehicle_id)
    WHERE o.order_id = NEW.order_id AND o.approval IN ('approved', 'rejected');
    RETURN NULL;
END $$;
CREATE TRIGGER order_approval_event AFTER INSERT ON service_order_events
    FOR EACH ROW WHEN (NEW.kind = 'approval') EXECUTE FUNCTION wl_approval_event();
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS order_approval_event ON service_order_events;
DROP FUNCTION IF EXISTS wl_approval_event();
DELETE FROM notify_deliveries WHERE event_id IN (
    SELECT event_id FROM outbox WHERE event_type = 'order.approval_decided');
DELETE FROM webhook_deliveries WHERE event_id IN (
    SELECT event_id FROM outbox WHERE event_type = 'order.approval_decided');
DELETE FROM outbox WHERE event_type = 'order.approval_decided';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
