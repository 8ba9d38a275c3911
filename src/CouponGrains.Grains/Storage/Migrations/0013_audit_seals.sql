-- Audit seals in a table of their own, chained in the order the rows' transactions ended.
--
-- Sealing used to UPDATE every audit row: a second version of a wide row and of each of its index
-- entries, and dead versions left in the unsealed index for the sealer to step over until a vacuum.
-- It was about 40 % of PostgreSQL's statement time at 2,500 redemptions/s. Now the sealer inserts one
-- narrow row per sealed audit row into audit_seals, and audit rows are never updated at all.
--
-- Finding what to seal without an "unsealed" marker: every audit row records the transaction that
-- wrote it (tx). All transactions below pg_snapshot_xmin(pg_current_snapshot()) have ended, so the
-- rows with tx below it are final: none can still appear there. The sealer chains those rows in
-- (tx, id) order and remembers where it stopped (audit_chain_head.tx, audit_id); every row it has not
-- sealed lies after that position. A transaction still open holds back the rows of the transactions
-- that started after it, never longer than it stays open.

CREATE TABLE IF NOT EXISTS audit_seals (
    seq       bigint PRIMARY KEY,
    audit_id  bigint NOT NULL UNIQUE,
    prev_hash bytea  NOT NULL,
    hash      bytea  NOT NULL
);

ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS tx xid8;
ALTER TABLE audit_log ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
ALTER TABLE audit_chain_head ADD COLUMN IF NOT EXISTS tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE audit_chain_head ADD COLUMN IF NOT EXISTS audit_id bigint NOT NULL DEFAULT 0;

-- Rows sealed before this migration keep their place in the chain (and no tx, so the sealer never
-- reads them again); rows still unsealed are sealed first, in id order, as one old transaction.
INSERT INTO audit_seals (seq, audit_id, prev_hash, hash)
SELECT seq, id, prev_hash, hash FROM audit_log WHERE seq IS NOT NULL
ON CONFLICT DO NOTHING;
UPDATE audit_log SET tx = '1' WHERE seq IS NULL AND tx IS NULL;

DROP TRIGGER IF EXISTS audit_log_sealed_once ON audit_log;
DROP INDEX IF EXISTS audit_log_unsealed;
ALTER TABLE audit_log DROP COLUMN IF EXISTS seq, DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS hash;

CREATE INDEX IF NOT EXISTS audit_log_tx ON audit_log (tx, id) WHERE tx IS NOT NULL;

-- Both tables are append-only. Their owner cannot be denied UPDATE or DELETE, so triggers refuse them:
-- any UPDATE naming an audit row's content or tx, any change to a seal, any DELETE or TRUNCATE.
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS audit_log_content_frozen ON audit_log;
CREATE TRIGGER audit_log_content_frozen
    BEFORE UPDATE OF id, at, actor_key_id, actor_role, action, entity_type, entity_id, reason_code, note, documents, before, after, tx
    ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

DROP TRIGGER IF EXISTS audit_seals_append_only ON audit_seals;
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

DROP TRIGGER IF EXISTS audit_seals_no_truncate ON audit_seals;
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();
