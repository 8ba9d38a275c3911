-- Pipeline consumers remember how far they have applied each partition (an offset), not which events
-- they have applied (a row per event and consumer in pipeline_processed).
--
-- Those rows were PostgreSQL's largest cost after the ledger with the pipeline consuming: three inserts
-- per event, and the relay's once-a-second sweep counting them for every outbox row. An offset needs
-- one order in which no event can appear behind a position already read. Seq alone is not that order:
-- concurrent writers take their seqs before they commit. So every outbox row records the transaction
-- that wrote it (tx), and the relay reads only rows whose transaction is below pg_snapshot_xmin, the
-- oldest transaction still open: those rows are final. It reads them in (tx, seq) order, the same way
-- the audit sealer chains audit rows (0013).

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS tx bigint;
-- Rows written before this migration come first, as one old transaction.
UPDATE outbox SET tx = 0 WHERE tx IS NULL;
ALTER TABLE outbox ALTER COLUMN tx SET DEFAULT pg_current_xact_id()::text::bigint, ALTER COLUMN tx SET NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_position ON outbox (tx, seq);
-- Consumers no longer look events up by id, and the ledger writes each change's event once (an invoice's
-- only on its first mapping): the unique text index was one more entry per event for nothing.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;

-- How far each consumer has applied each partition: every event of the partition at or below (tx, seq)
-- is applied, in the same transaction that moved the offset. gap_at: the consumer's last transaction
-- dropped batches that started after its offset (one before them was lost); the relay sends the
-- partition again from the offset.
CREATE TABLE IF NOT EXISTS pipeline_offsets (
    consumer   text        NOT NULL,
    part       integer     NOT NULL,
    tx         bigint      NOT NULL DEFAULT 0,
    seq        bigint      NOT NULL DEFAULT 0,
    applied_at timestamptz NOT NULL DEFAULT now(),
    gap_at     timestamptz,
    PRIMARY KEY (consumer, part)
);

-- The partition count the offsets were taken under, fixed when the relay first leads: an offset means
-- nothing under another partitioning.
CREATE TABLE IF NOT EXISTS pipeline_layout (
    id         integer PRIMARY KEY CHECK (id = 1),
    partitions integer NOT NULL CHECK (partitions > 0)
);

-- When fraud scoring saw each redemption (the pipeline's lag, per event).
ALTER TABLE fraud_observations ADD COLUMN IF NOT EXISTS observed_at timestamptz NOT NULL DEFAULT clock_timestamp();

-- pipeline_processed stays until the rows written before this migration are gone from the outbox: a
-- consumer skips such an old event if it is recorded there. Nothing writes to it any more.
DROP INDEX IF EXISTS pipeline_processed_at_brin;
