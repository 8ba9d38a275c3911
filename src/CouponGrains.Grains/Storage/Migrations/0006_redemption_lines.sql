-- What the rule engine decided per redemption, kept for partial returns, warranty single use and
-- stacking on an order.
ALTER TABLE redemptions ADD COLUMN IF NOT EXISTS lines jsonb;
ALTER TABLE redemptions ADD COLUMN IF NOT EXISTS eligible_value bigint NOT NULL DEFAULT 0;
ALTER TABLE redemptions ADD COLUMN IF NOT EXISTS warranty_key text;
ALTER TABLE redemptions ADD COLUMN IF NOT EXISTS exclusive boolean NOT NULL DEFAULT false;
-- How many reversals (partial returns and the final one) the redemption has had; a cap gives back a
-- reversal once per '{id}#{n}'.
ALTER TABLE redemptions ADD COLUMN IF NOT EXISTS reversal_seq integer NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS redemptions_warranty ON redemptions (campaign_id, warranty_key)
    WHERE warranty_key IS NOT NULL AND status <> 'aborted';
CREATE INDEX IF NOT EXISTS redemptions_order ON redemptions (dealer_id, order_id)
    WHERE order_id IS NOT NULL AND status <> 'aborted';
