-- The append-only guard of audit_log (0003) ran its plpgsql function for every row of every UPDATE,
-- the sealer's included: one call and twelve column comparisons (three of them jsonb) per sealed
-- row, at one sealed row per redemption. Split by what an UPDATE names instead:
--   * an UPDATE that names a content column always meets the guard, which refuses any change;
--   * an UPDATE that names seq, prev_hash or hash meets it only for a row already sealed, and that
--     test (WHEN) is evaluated without calling the function, so sealing a fresh row costs nothing;
--   * DELETE always meets it, and TRUNCATE still meets audit_log_no_truncate.
-- Every change to a row names the columns it sets, so nothing gets past that the old trigger stopped.
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;

DROP TRIGGER IF EXISTS audit_log_content_frozen ON audit_log;
CREATE TRIGGER audit_log_content_frozen
    BEFORE UPDATE OF id, at, actor_key_id, actor_role, action, entity_type, entity_id, reason_code, note, documents, before, after
    ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

DROP TRIGGER IF EXISTS audit_log_sealed_once ON audit_log;
CREATE TRIGGER audit_log_sealed_once
    BEFORE UPDATE OF seq, prev_hash, hash ON audit_log
    FOR EACH ROW WHEN (OLD.seq IS NOT NULL) EXECUTE FUNCTION audit_log_guard();

DROP TRIGGER IF EXISTS audit_log_no_delete ON audit_log;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
