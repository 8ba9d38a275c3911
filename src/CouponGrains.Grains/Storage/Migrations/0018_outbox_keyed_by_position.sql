-- The outbox is keyed by its position (tx, seq), the one order anything reads it in: the relay reads and
-- sweeps in that order, and the backlog gauge takes its first row. The seq primary key beside the position
-- index was a second index entry per event that no query used.
CREATE UNIQUE INDEX IF NOT EXISTS outbox_position_key ON outbox (tx, seq);
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_pkey;
ALTER TABLE outbox ADD CONSTRAINT outbox_pkey PRIMARY KEY USING INDEX outbox_position_key;
DROP INDEX IF EXISTS outbox_position;
