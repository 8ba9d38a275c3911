-- Per-line analytics: redemptions, discount and gross margin by SKU and category (issue 6), fed by
-- the analytics consumer in the same transaction as analytics_daily, so the exactly-once record by
-- event id (pipeline_processed) covers both.

-- What a reversal brought back, per line: [{line, sku, category, quantity, unitPrice, unitCost,
-- discount}] with the quantity returned and the discount restored by that reversal alone. Written in
-- the reversal's own statement; the redemption's lines only hold running totals, which a relay that
-- reads two reversals of one redemption together could not tell apart. Null for other event types
-- (a committed event takes its lines from the redemption, where what was bought never changes).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS lines jsonb;
