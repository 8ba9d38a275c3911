-- Fewer index entries per pipeline event. Each costs every consumer transaction a random b-tree insert.
--
-- Fraud observations are only ever probed by (campaign, dealer, order) and (campaign, dealer,
-- invoice): code sharing and customer spread read their own small tables. The code and customer
-- indexes had no reader.
DROP INDEX IF EXISTS fraud_obs_code;
DROP INDEX IF EXISTS fraud_obs_customer;

-- processed_at only serves the relay's once-a-minute prune and its range predicate, and rows arrive
-- in processed_at order: a BRIN index answers that range from a few block summaries and costs an
-- insert nothing per row, where the b-tree took one entry per event and consumer.
DROP INDEX IF EXISTS pipeline_processed_at;
CREATE INDEX IF NOT EXISTS pipeline_processed_at_brin ON pipeline_processed USING brin (processed_at);
