-- The analytics tables are keyed campaign first, and keep only the indexes a query of the product uses.
--
-- The analytics consumer adds a row to analytics_daily and to analytics_lines for every new day, campaign, dealer
-- (and SKU and category) it meets. Under load spread over many campaigns and dealers that is nearly every
-- redemption, and each row went into every index of its table: three for analytics_daily, four for
-- analytics_lines. Every analytics query filters by campaign, dealer and day range, or by some of them
-- (AnalyticsStore), and none by SKU or category alone:
--   * with the primary keys starting at campaign_id, day, they serve the campaign filter, and the separate
--     (campaign_id, day) indexes go;
--   * the (sku, day) and (category, day) indexes of analytics_lines served no query: grouping by SKU or category
--     reads the rows the other conditions select.
-- The dealer filter keeps analytics_daily_dealer.
ALTER TABLE analytics_daily DROP CONSTRAINT IF EXISTS analytics_daily_pkey;
ALTER TABLE analytics_daily ADD CONSTRAINT analytics_daily_pkey PRIMARY KEY (campaign_id, day, dealer_id);
DROP INDEX IF EXISTS analytics_daily_campaign;

ALTER TABLE analytics_lines DROP CONSTRAINT IF EXISTS analytics_lines_pkey;
ALTER TABLE analytics_lines ADD CONSTRAINT analytics_lines_pkey PRIMARY KEY (campaign_id, day, dealer_id, sku, category);
DROP INDEX IF EXISTS analytics_lines_campaign;
DROP INDEX IF EXISTS analytics_lines_sku;
DROP INDEX IF EXISTS analytics_lines_category;
