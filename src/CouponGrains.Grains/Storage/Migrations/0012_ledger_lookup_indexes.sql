-- Ledger lookups that only one index can serve.
--
-- The cap-totals lookups (CapTotalsReader) run with a generic plan, built the first time a pooled
-- session executes them. On a young ledger PostgreSQL estimates every index alike, so that plan could
-- take any index whose first column matched: one branch lookup settled on redemptions_customer with
-- only campaign_id as its condition, and then read every redemption of the campaign for each branch,
-- 11 ms a key on a hot campaign, for as long as the session lived.
--
-- So each lookup now has exactly one usable index, whatever the statistics:
--   * campaign, dealer and branch totals share (campaign_id, dealer_id, branch_id). Its predicate
--     names campaign_id and dealer_id, which every row has, so only a query that names both can use
--     it: the dealer and branch lookups do, the campaign lookup says dealer_id IS NOT NULL, and the
--     customer, warranty and order lookups each name just one of them (an empty ledger's generic
--     plan for orders otherwise scanned this whole index for the dealer);
--   * customer totals use (campaign_id, customer_id) limited to rows with a customer, which no other
--     lookup implies; warranty (0006) and order (0006) were already limited the same way.
-- One index fewer per redemption, too: dealer and branch no longer have one each.
DROP INDEX IF EXISTS redemptions_campaign;
DROP INDEX IF EXISTS redemptions_branch;
DROP INDEX IF EXISTS redemptions_customer;

CREATE INDEX IF NOT EXISTS redemptions_members ON redemptions (campaign_id, dealer_id, branch_id)
    WHERE campaign_id IS NOT NULL AND dealer_id IS NOT NULL AND status <> 'aborted';
CREATE INDEX IF NOT EXISTS redemptions_customers ON redemptions (campaign_id, customer_id)
    WHERE customer_id IS NOT NULL AND status <> 'aborted';
