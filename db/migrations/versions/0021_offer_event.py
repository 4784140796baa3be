# SPDX-License-Identifier: MIT
"""An outbox event when an order is offered to a shop, so its staff can be told.

``offer.made``: written by a trigger when a row of ``service_offers`` is inserted waiting for
an answer (an order assigned in ``auto`` mode is inserted accepted: nobody has to answer it).
The event's ``shop_id`` is the shop the offer went to, not the order's (which is only the
matcher's best until a shop accepts): a broadcast to three shops is three events, one per
shop. The notification dispatcher sends it to that shop's staff; ``api.access.events`` gives
it to that shop's staff alone (the owner's own order events already say it was offered).

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07
"""

from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION wl_offer_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (event_type, vehicle_id, fleet_id, shop_id, payload)
    SELECT 'offer.made', o.vehicle_id, v.fleet_id, NEW.shop_id, jsonb_build_object(
        'offer_id', NEW.offer_id, 'order_id', NEW.order_id, 'shop_id', NEW.shop_id,
        'vehicle_id', o.vehicle_id, 'vin', o.vin, 'status', 'offered', 'mode', NEW.mode,
        'issue', o.issue, 'job_code', o.job_code, 'offered_at', NEW.offered_at,
        'expires_at', NEW.expires_at)
    FROM service_orders o JOIN vehicles v USING (vehicle_id) WHERE o.order_id = NEW.order_id;
    RETURN NULL;
END $$;
CREATE TRIGGER offer_made_event AFTER INSERT ON service_offers
    FOR EACH ROW WHEN (NEW.response IS NULL) EXECUTE FUNCTION wl_offer_event();
"""

DOWNGRADE = """
DROP TRIGGER IF EXISTS offer_made_event ON service_offers;
DROP FUNCTION IF EXISTS wl_offer_event();
DELETE FROM notify_deliveries WHERE event_id IN (
    SELECT event_id FROM outbox WHERE event_type = 'offer.made');
DELETE FROM webhook_deliveries WHERE event_id IN (
    SELECT event_id FROM outbox WHERE event_type = 'offer.made');
DELETE FROM outbox WHERE event_type = 'offer.made';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
