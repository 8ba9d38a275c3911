-- The audit trail, order-time exception approvals, and API key rotation / last use.

-- Append-only record of every state change. Rows are inserted unsealed (seq, prev_hash, hash null)
-- in the same transaction as the change they describe; the sealer (AuditSealer) then chains them:
-- hash = SHA-256(prev_hash || canonical content), seq = previous seq + 1.
CREATE TABLE IF NOT EXISTS audit_log (
    id           bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_key_id text,
    actor_role   text,
    action       text        NOT NULL,
    entity_type  text        NOT NULL,
    entity_id    text        NOT NULL,
    reason_code  text,
    note         text,
    documents    jsonb,
    before       jsonb,
    after        jsonb,
    seq          bigint      UNIQUE,
    prev_hash    bytea,
    hash         bytea
);

CREATE INDEX IF NOT EXISTS audit_log_entity ON audit_log (entity_type, entity_id, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor_key_id, id);
CREATE INDEX IF NOT EXISTS audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

-- The head of the sealed chain, written by the sealer in the same transaction as the rows it seals,
-- so that removing the newest sealed rows is detected too (not only gaps).
CREATE TABLE IF NOT EXISTS audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint  NOT NULL,
    hash      bytea   NOT NULL
);

-- The table's owner cannot be denied UPDATE or DELETE, so a trigger makes it append-only: the only
-- update allowed is the sealer's, which sets seq/prev_hash/hash on an unsealed row and nothing else.
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_log is append-only: DELETE is not allowed' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.seq IS NOT NULL THEN
        RAISE EXCEPTION 'audit_log is append-only: row % is sealed', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.at IS DISTINCT FROM OLD.at
       OR NEW.actor_key_id IS DISTINCT FROM OLD.actor_key_id OR NEW.actor_role IS DISTINCT FROM OLD.actor_role
       OR NEW.action IS DISTINCT FROM OLD.action OR NEW.entity_type IS DISTINCT FROM OLD.entity_type
       OR NEW.entity_id IS DISTINCT FROM OLD.entity_id OR NEW.reason_code IS DISTINCT FROM OLD.reason_code
       OR NEW.note IS DISTINCT FROM OLD.note OR NEW.documents IS DISTINCT FROM OLD.documents
       OR NEW.before IS DISTINCT FROM OLD.before OR NEW.after IS DISTINCT FROM OLD.after THEN
        RAISE EXCEPTION 'audit_log is append-only: only seq, prev_hash and hash may be set' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

CREATE OR REPLACE FUNCTION audit_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: TRUNCATE is not allowed' USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();

-- Order-time exception approvals: raised by the redemption path, decided by approvers, consumed once.
CREATE TABLE IF NOT EXISTS approvals (
    id             text        PRIMARY KEY,
    status         text        NOT NULL,
    dealer_id      text        NOT NULL,
    order_hash     text        NOT NULL,
    amount         bigint      NOT NULL CHECK (amount >= 0),
    currency       text,
    campaign_id    text,
    code           text,
    reason         text        NOT NULL,
    note           text,
    requested_by   text,
    requested_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    decided_by     text,
    decided_role   text,
    decided_at     timestamptz,
    decision_code  text,
    decision_note  text,
    consumed_at    timestamptz,
    consumed_by    text,
    CONSTRAINT approvals_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'consumed'))
);

CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (requested_at, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS approvals_dealer ON approvals (dealer_id, requested_at);

-- Rotation keeps the previous hash valid for a short grace; last use is recorded at most once a minute.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS previous_key_hash text;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS previous_valid_until timestamptz;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS rotated_at timestamptz;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS revoked_by text;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS last_used_at timestamptz;
CREATE INDEX IF NOT EXISTS api_keys_previous_hash ON api_keys (previous_key_hash) WHERE previous_key_hash IS NOT NULL;
