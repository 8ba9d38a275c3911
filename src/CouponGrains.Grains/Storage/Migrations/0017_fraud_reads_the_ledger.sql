-- Fraud scoring no longer keeps a copy of every redemption.
--
-- fraud_observations held one row per committed redemption (campaign, dealer, branch, customer, order, invoice,
-- code, times) with a primary key and an order index: about 360 bytes per redemption, written by every fraud
-- transaction, for two rules. The duplicate-order rule now reads the ledger, whose redemptions_order index
-- (dealer_id, order_id) already finds an order's redemptions. Invoices are mapped to a redemption later and
-- rarely, so the duplicate-invoice rule keeps a table of its own with only the invoiced redemptions.
CREATE TABLE IF NOT EXISTS fraud_invoices (
    redemption_id  text PRIMARY KEY,
    campaign_id    text NOT NULL,
    dealer_id      text NOT NULL,
    invoice_number text NOT NULL,
    order_id       text
);
CREATE INDEX IF NOT EXISTS fraud_invoices_key ON fraud_invoices (campaign_id, dealer_id, invoice_number);

-- The invoices fraud scoring saw before, so a later mapping of the same invoice still meets them. A silo of the
-- build before this one that is still running fails its fraud transactions from here on; its offsets stay where
-- they were, and a silo of this build applies those events once it has the partition.
DO $$
BEGIN
    IF to_regclass('fraud_observations') IS NOT NULL THEN
        INSERT INTO fraud_invoices (redemption_id, campaign_id, dealer_id, invoice_number, order_id)
        SELECT redemption_id, campaign_id, dealer_id, invoice_number, order_id FROM fraud_observations
        WHERE invoice_number IS NOT NULL
        ON CONFLICT DO NOTHING;
        DROP TABLE fraud_observations;
    END IF;
END
$$;
