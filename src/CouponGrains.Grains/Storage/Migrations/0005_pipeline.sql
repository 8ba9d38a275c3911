-- The redemption event pipeline (outbox → relay → Orleans streams → fraud, settlement, analytics).
-- Every table below is fed only through idempotent consumers; BI tools may read any of them
-- (the analytics_* tables and views are meant for that), none is written by hand.

-- Which consumer has durably applied which outbox event. Written in the same transaction as the
-- consumer's effect; the relay deletes an outbox row once all consumers have it. Rows are kept for a
-- day after that (pruned by the relay) so that a late duplicate delivery is still recognised.
CREATE TABLE IF NOT EXISTS pipeline_processed (
    event_id     text        NOT NULL,
    consumer     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (event_id, consumer)
);
CREATE INDEX IF NOT EXISTS pipeline_processed_at ON pipeline_processed (processed_at);

---------------------------------------------------------------------------------------------------
-- Fraud
---------------------------------------------------------------------------------------------------
-- One row per committed redemption as fraud scoring saw it (invoice filled in when mapped).
CREATE TABLE IF NOT EXISTS fraud_observations (
    redemption_id  text        PRIMARY KEY,
    campaign_id    text        NOT NULL,
    dealer_id      text        NOT NULL,
    branch_id      text,
    customer_id    text,
    order_id       text,
    invoice_number text,
    code           text        NOT NULL,
    redeemed_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS fraud_obs_order ON fraud_observations (campaign_id, dealer_id, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS fraud_obs_invoice ON fraud_observations (campaign_id, dealer_id, invoice_number) WHERE invoice_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS fraud_obs_code ON fraud_observations (code, dealer_id);
CREATE INDEX IF NOT EXISTS fraud_obs_customer ON fraud_observations (customer_id, redeemed_at) WHERE customer_id IS NOT NULL;

-- Which dealers used a code, and at which dealers a customer redeemed (small, so the sharing
-- rules stay cheap however hot a code or customer is).
CREATE TABLE IF NOT EXISTS fraud_code_dealers (
    code      text        NOT NULL,
    dealer_id text        NOT NULL,
    n         bigint      NOT NULL,
    last_at   timestamptz NOT NULL,
    PRIMARY KEY (code, dealer_id)
);
CREATE TABLE IF NOT EXISTS fraud_customer_dealers (
    customer_id text        NOT NULL,
    dealer_id   text        NOT NULL,
    n           bigint      NOT NULL,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (customer_id, dealer_id)
);

-- Redemptions per minute per entity (kind: dealer | branch | code), for velocity against the
-- entity's own trailing average.
CREATE TABLE IF NOT EXISTS fraud_rates (
    kind   text        NOT NULL,
    entity text        NOT NULL,
    minute timestamptz NOT NULL,
    n      integer     NOT NULL,
    PRIMARY KEY (kind, entity, minute)
);

-- A flag: one per rule and subject (re-evaluation updates its evidence, never adds a second flag).
CREATE TABLE IF NOT EXISTS fraud_flags (
    id            bigserial   PRIMARY KEY,
    type          text        NOT NULL CHECK (type IN ('duplicate_order', 'duplicate_invoice', 'velocity', 'code_sharing', 'customer_across_dealers')),
    subject       text        NOT NULL,
    dealer_id     text,
    campaign_id   text,
    score         integer     NOT NULL CHECK (score BETWEEN 0 AND 100),
    reason        text        NOT NULL,
    evidence      jsonb       NOT NULL,
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'confirmed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    decided_by    text,
    decided_at    timestamptz,
    decision_note text,
    UNIQUE (type, subject)
);
CREATE INDEX IF NOT EXISTS fraud_flags_created ON fraud_flags (created_at, id);

CREATE TABLE IF NOT EXISTS blacklist (
    id          text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('dealer', 'customer', 'code')),
    value       text        NOT NULL,
    reason      text        NOT NULL,
    expires_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text,
    removed_at  timestamptz,
    removed_by  text
);
CREATE INDEX IF NOT EXISTS blacklist_active ON blacklist (kind, value) WHERE removed_at IS NULL;

---------------------------------------------------------------------------------------------------
-- Settlement
---------------------------------------------------------------------------------------------------
-- One row per committed redemption as settlement knows it. credited_* is set by the credit note
-- that paid it (once); debited_amount grows with debit lines for reversals after settlement.
CREATE TABLE IF NOT EXISTS settlement_items (
    redemption_id      text        PRIMARY KEY,
    campaign_id        text        NOT NULL,
    dealer_id          text        NOT NULL,
    currency           text        NOT NULL,
    amount             bigint      NOT NULL,
    redeemed_at        timestamptz NOT NULL,
    committed          boolean     NOT NULL DEFAULT false,
    invoice_number     text,
    invoice_date       date,
    delivery_proof_ref text,
    reversed_amount    bigint      NOT NULL DEFAULT 0,
    credit_note_id     text,
    credited_amount    bigint      NOT NULL DEFAULT 0,
    debited_amount     bigint      NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS settlement_items_open ON settlement_items (dealer_id, invoice_date) WHERE credit_note_id IS NULL AND invoice_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS settlement_items_debit ON settlement_items (dealer_id) WHERE credit_note_id IS NOT NULL;

-- Campaigns whose redemptions need a delivery proof before they are credited.
CREATE TABLE IF NOT EXISTS settlement_campaign_rules (
    campaign_id             text    PRIMARY KEY,
    requires_delivery_proof boolean NOT NULL
);

CREATE TABLE IF NOT EXISTS claims (
    id              text        PRIMARY KEY,
    dealer_id       text        NOT NULL,
    campaign_id     text,
    kind            text        NOT NULL CHECK (kind IN ('goodwill', 'warranty', 'retro_rebate')),
    amount          bigint      NOT NULL CHECK (amount > 0),
    currency        text        NOT NULL,
    description     text        NOT NULL,
    documents       jsonb       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('submitted', 'approved', 'partially_accepted', 'rejected')),
    accepted_amount bigint,
    reason_code     text,
    note            text,
    submitted_by    text,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    decided_by      text,
    decided_at      timestamptz,
    credit_note_id  text
);
CREATE INDEX IF NOT EXISTS claims_dealer ON claims (dealer_id, submitted_at);

CREATE TABLE IF NOT EXISTS credit_notes (
    id           text        PRIMARY KEY,
    dealer_id    text        NOT NULL,
    currency     text        NOT NULL,
    period_from  date        NOT NULL,
    period_to    date        NOT NULL,
    total        bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text
);
CREATE INDEX IF NOT EXISTS credit_notes_dealer ON credit_notes (dealer_id, created_at);

-- kind: credit (an invoiced redemption, amount > 0), debit (a reversal after it was credited,
-- amount < 0), claim (an accepted claim amount). A redemption is credited once (unique index).
CREATE TABLE IF NOT EXISTS credit_note_lines (
    credit_note_id   text        NOT NULL REFERENCES credit_notes (id),
    line_no          integer     NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('credit', 'debit', 'claim')),
    redemption_id    text,
    claim_id         text,
    campaign_id      text,
    invoice_number   text,
    amount           bigint      NOT NULL,
    redeemed_at      timestamptz,
    seconds_to_settle bigint,
    PRIMARY KEY (credit_note_id, line_no)
);
CREATE UNIQUE INDEX IF NOT EXISTS credit_note_lines_once ON credit_note_lines (redemption_id) WHERE kind = 'credit';
CREATE UNIQUE INDEX IF NOT EXISTS credit_note_lines_claim_once ON credit_note_lines (claim_id) WHERE kind = 'claim';

---------------------------------------------------------------------------------------------------
-- Analytics (for BI tools)
---------------------------------------------------------------------------------------------------
-- analytics_daily: per UTC day (of redeemed_at), campaign and dealer, with the dealer's region and
-- channel tier as known when first seen. redemptions/discount are gross; reversals/reversed_discount
-- what was given back (partial returns included); net discount = discount − reversed_discount. The
-- gross margin impact of a discount is the net discount itself (a discount comes straight off margin);
-- eligible_value (Σ qty × price over the discounted lines) gives the discount rate. Line costs are
-- not in the ledger, so margin percentages are not available.
CREATE TABLE IF NOT EXISTS analytics_daily (
    day               date   NOT NULL,
    campaign_id       text   NOT NULL,
    dealer_id         text   NOT NULL,
    region            text,
    channel_tier      text,
    currency          text   NOT NULL,
    redemptions       bigint NOT NULL DEFAULT 0,
    discount          bigint NOT NULL DEFAULT 0,
    eligible_value    bigint NOT NULL DEFAULT 0,
    reversals         bigint NOT NULL DEFAULT 0,
    reversed_discount bigint NOT NULL DEFAULT 0,
    invoiced          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, campaign_id, dealer_id)
);
CREATE INDEX IF NOT EXISTS analytics_daily_campaign ON analytics_daily (campaign_id, day);
CREATE INDEX IF NOT EXISTS analytics_daily_dealer ON analytics_daily (dealer_id, day);

-- Campaign facts the analytics need (budget for burn), captured when the campaign is first seen.
CREATE TABLE IF NOT EXISTS analytics_campaigns (
    campaign_id text   PRIMARY KEY,
    name        text,
    kind        text,
    currency    text,
    budget      bigint
);

-- Budget burn: cumulative net discount per campaign and day, and the share of the budget spent.
CREATE OR REPLACE VIEW analytics_budget_burn AS
SELECT d.campaign_id, d.day,
       sum(d.discount - d.reversed_discount) AS net_discount,
       sum(sum(d.discount - d.reversed_discount)) OVER (PARTITION BY d.campaign_id ORDER BY d.day) AS cumulative_net_discount,
       c.budget
FROM analytics_daily d LEFT JOIN analytics_campaigns c ON c.campaign_id = d.campaign_id
GROUP BY d.campaign_id, d.day, c.budget;
