-- CouponGrains' own tables. The redemption ledger is the source of truth for every counter:
-- a cap grain's committed total is always re-derived from it when the grain activates.

CREATE TABLE IF NOT EXISTS redemptions (
    id                text        PRIMARY KEY,
    -- 'committed' | 'reversed' | 'aborted'. An aborted row is a tombstone written when a hold
    -- outlived its coordinator: it wins the primary key, so the late commit can never land.
    status            text        NOT NULL,
    idem_scope        text,
    idem_key          text,
    request_hash      text,
    code              text,
    campaign_id       text,
    dealer_id         text,
    branch_id         text,
    customer_id       text,
    order_id          text,
    discount          bigint      NOT NULL DEFAULT 0 CHECK (discount >= 0),
    reversed_discount bigint      NOT NULL DEFAULT 0 CHECK (reversed_discount >= 0 AND reversed_discount <= discount),
    currency          text,
    redeemed_at       timestamptz NOT NULL DEFAULT now(),
    actor_key_id      text,
    invoice_number    text,
    invoice_date      date,
    delivery_proof_ref text,
    reversed_at       timestamptz,
    reversal_reason   text,
    CONSTRAINT redemptions_status_check CHECK (status IN ('committed', 'reversed', 'aborted')),
    CONSTRAINT redemptions_idempotency UNIQUE (idem_scope, idem_key)
);

CREATE INDEX IF NOT EXISTS redemptions_campaign ON redemptions (campaign_id, dealer_id) WHERE status <> 'aborted';
CREATE INDEX IF NOT EXISTS redemptions_branch ON redemptions (campaign_id, branch_id) WHERE status <> 'aborted';
CREATE INDEX IF NOT EXISTS redemptions_customer ON redemptions (campaign_id, customer_id) WHERE status <> 'aborted';
CREATE INDEX IF NOT EXISTS redemptions_code ON redemptions (code) WHERE status <> 'aborted';

CREATE TABLE IF NOT EXISTS coupons (
    code        text        PRIMARY KEY,
    campaign_id text        NOT NULL,
    dealer_id   text,
    max_uses    integer     CHECK (max_uses IS NULL OR max_uses > 0),
    expires_at  timestamptz,
    named       boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text
);

CREATE INDEX IF NOT EXISTS coupons_campaign ON coupons (campaign_id);

CREATE TABLE IF NOT EXISTS api_keys (
    id           text        PRIMARY KEY,
    name         text        NOT NULL,
    role         text        NOT NULL,
    dealer_id    text,
    key_hash     text        NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_dealer_role CHECK ((role = 'dealer') = (dealer_id IS NOT NULL))
);
