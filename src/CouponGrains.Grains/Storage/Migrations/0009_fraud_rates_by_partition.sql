-- Per-minute fraud rates are counted per pipeline partition (summed when read). A hot public code is
-- redeemed by dealers of every partition; with one row per code and minute, every partition's
-- transaction waited for the others' to commit before it could add to that row, and the pipeline fell
-- behind the engine. One row per partition removes the wait.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'fraud_rates' AND column_name = 'part') THEN
        ALTER TABLE fraud_rates ADD COLUMN part integer NOT NULL DEFAULT 0;
        ALTER TABLE fraud_rates DROP CONSTRAINT fraud_rates_pkey;
        ALTER TABLE fraud_rates ADD PRIMARY KEY (kind, entity, minute, part);
    END IF;
END
$$;
