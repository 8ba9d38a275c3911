-- Per-line analytics: redemptions, discount and gross margin by SKU and category (issue 6), fed by
-- the analytics consumer in the same transaction as analytics_daily, so the exactly-once record by
-- event id (pipeline_processed) covers both.

-- What a reversal brought back, per line: [{line, sku, category, quantity, unitPrice, unitCost,
-- discount}] with the quantity returned and the discount restored by that reversal alone. Written in
-- the reversal's own statement; the redemption's lines only hold running totals, which a relay that
-- reads two reversals of one redemption together could not tell apart. Null for other event types
-- (a committed event takes its lines from the redemption, where what was bought never changes).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS lines jsonb;

-- analytics_lines: per UTC day (of redeemed_at, reversals included, as in analytics_daily),
-- campaign, dealer, SKU and category (as the order line named it; '' when it named none), over the
-- lines that carry a share of the discount. The dealer is in the key so that pipeline partitions (by
-- dealer) never update the same row; region and channel tier are the dealer's as first seen.
--   lines, units, revenue (Σ qty × unit price), discount (the lines' shares), cost (Σ qty × unit
--   cost over lines whose cost is known): as bought;
--   uncosted_*: the part of units / revenue / discount on lines whose order gave no unit cost;
--   returns, returned_*: what partial returns and full reversals brought back (units, their value at
--   the line's price and cost, the discount restored: floor(line discount × returned / bought) in all).
-- Net = bought − returned. Margins are over costed lines only (see analytics_margin); with line
-- costs now recorded, this supersedes the note in 0005 that no margin percentage is available.
CREATE TABLE IF NOT EXISTS analytics_lines (
    day                         date   NOT NULL,
    campaign_id                 text   NOT NULL,
    dealer_id                   text   NOT NULL,
    sku                         text   NOT NULL,
    category                    text   NOT NULL DEFAULT '',
    region                      text,
    channel_tier                text,
    currency                    text   NOT NULL,
    lines                       bigint NOT NULL DEFAULT 0,
    units                       bigint NOT NULL DEFAULT 0,
    revenue                     bigint NOT NULL DEFAULT 0,
    discount                    bigint NOT NULL DEFAULT 0,
    cost                        bigint NOT NULL DEFAULT 0,
    uncosted_units              bigint NOT NULL DEFAULT 0,
    uncosted_revenue            bigint NOT NULL DEFAULT 0,
    uncosted_discount           bigint NOT NULL DEFAULT 0,
    returns                     bigint NOT NULL DEFAULT 0,
    returned_units              bigint NOT NULL DEFAULT 0,
    returned_revenue            bigint NOT NULL DEFAULT 0,
    returned_discount           bigint NOT NULL DEFAULT 0,
    returned_cost               bigint NOT NULL DEFAULT 0,
    returned_uncosted_units     bigint NOT NULL DEFAULT 0,
    returned_uncosted_revenue   bigint NOT NULL DEFAULT 0,
    returned_uncosted_discount  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, campaign_id, dealer_id, sku, category)
);
CREATE INDEX IF NOT EXISTS analytics_lines_campaign ON analytics_lines (campaign_id, day);
CREATE INDEX IF NOT EXISTS analytics_lines_sku ON analytics_lines (sku, day);
CREATE INDEX IF NOT EXISTS analytics_lines_category ON analytics_lines (category, day);

-- Net figures and gross margin per analytics_lines row, for BI tools. Margin before discount =
-- costed revenue − cost; after = costed revenue − costed discount − cost; margin_bps is the margin
-- after discount over costed revenue net of discount (null without costed sales). Sum the base
-- columns, not the ratios, when rolling up. margin_impact is minus the net discount of every line.
CREATE OR REPLACE VIEW analytics_margin AS
SELECT l.day, l.campaign_id, l.dealer_id, l.sku, NULLIF(l.category, '') AS category, l.region, l.channel_tier, l.currency,
       n.net_units, n.net_revenue, n.net_discount, n.uncosted_revenue, n.costed_revenue, n.cost,
       CASE WHEN n.costed THEN n.costed_revenue - n.cost END AS margin_before_discount,
       CASE WHEN n.costed THEN n.costed_revenue - n.costed_discount - n.cost END AS margin_after_discount,
       CASE WHEN n.costed AND n.costed_revenue - n.costed_discount > 0
            THEN (n.costed_revenue - n.costed_discount - n.cost) * 10000 / (n.costed_revenue - n.costed_discount) END AS margin_bps,
       -n.net_discount AS margin_impact
FROM analytics_lines l
CROSS JOIN LATERAL (
    SELECT l.units - l.returned_units AS net_units,
           l.revenue - l.returned_revenue AS net_revenue,
           l.discount - l.returned_discount AS net_discount,
           l.uncosted_revenue - l.returned_uncosted_revenue AS uncosted_revenue,
           (l.revenue - l.returned_revenue) - (l.uncosted_revenue - l.returned_uncosted_revenue) AS costed_revenue,
           (l.discount - l.returned_discount) - (l.uncosted_discount - l.returned_uncosted_discount) AS costed_discount,
           l.cost - l.returned_cost AS cost,
           l.units > l.uncosted_units AS costed) n;
