-- The redemption outbox: one row per ledger change (committed, reversed, invoiced), written in the
-- same statement as the change itself, so an event exists exactly when its change committed. The
-- relay hands rows to the downstream grains and deletes them once every consumer has them; a crash
-- in between redelivers, and every consumer deduplicates by event_id.
CREATE TABLE IF NOT EXISTS outbox (
    seq           bigserial   PRIMARY KEY,
    event_id      text        NOT NULL UNIQUE,
    type          text        NOT NULL CHECK (type IN ('redemption_committed', 'redemption_reversed', 'redemption_invoiced')),
    redemption_id text        NOT NULL,
    amount        bigint      NOT NULL DEFAULT 0,
    at            timestamptz NOT NULL DEFAULT now()
);
