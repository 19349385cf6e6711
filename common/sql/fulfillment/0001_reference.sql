-- Reference fulfillment store, version 1: the latest status of each
-- order, as `recon import fulfillment` loads it and the demo uses it.

CREATE TABLE fulfillment.orders (
    order_id   text PRIMARY KEY,
    status     text NOT NULL CHECK (status IN ('pending', 'in_progress', 'on_hold',
                                               'shipped', 'delivered', 'cancelled',
                                               'returned')),
    updated_at timestamptz NOT NULL,
    shipped_at timestamptz
);
CREATE INDEX fulfillment_orders_order_idx
    ON fulfillment.orders (order_id COLLATE "C");
CREATE INDEX fulfillment_orders_updated_idx
    ON fulfillment.orders (updated_at);

-- The contract recon reads (DESIGN.md).
CREATE VIEW fulfillment.fulfillment_orders AS
SELECT order_id, status, updated_at, shipped_at
  FROM fulfillment.orders;
