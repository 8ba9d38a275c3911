-- ANALYZE of the tables that grow with every redemption reads 3,000 rows instead of 30,000.
--
-- ANALYZE samples 300 rows per unit of the largest statistics target among a table's columns (100 by default),
-- then sorts the sample once per column. On the ledger that was 0.6 s of CPU for one automatic ANALYZE of about
-- 70,000 rows, and of the audit log 0.35 s: autovacuum's first round over a young database came a minute into a
-- load test, took about 1.5 s of CPU in all within five seconds on a two-core box already 80 % busy, and those
-- seconds' answers were the slowest of the run (full system at 1,050 /s: p99 of 117 to 538 ms in seconds 36 to 40,
-- against 64 to 123 ms with automatic ANALYZE off). On a large ledger the same sample is 30,000 random page reads,
-- every time the table has grown by a tenth.
--
-- Nothing here needs fine statistics: every query on these tables probes an index by key, and the lookups whose
-- estimates mattered have their distinct counts stated outright (0015). A target of 10 still keeps each column's ten
-- most common values, so the hot campaign or code is still estimated from its measured share.
DO $$
DECLARE
    t text;
    c text;
BEGIN
    FOREACH t IN ARRAY ARRAY['redemptions', 'audit_log', 'audit_seals', 'outbox', 'settlement_items', 'analytics_lines',
                             'analytics_daily', 'fraud_customer_dealers', 'fraud_code_dealers', 'fraud_invoices', 'fraud_rates']
    LOOP
        FOR c IN SELECT a.attname FROM pg_attribute a
                 WHERE a.attrelid = to_regclass(quote_ident(t)) AND a.attnum > 0 AND NOT a.attisdropped
        LOOP
            EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET STATISTICS 10', t, c);
        END LOOP;
    END LOOP;
END
$$;
