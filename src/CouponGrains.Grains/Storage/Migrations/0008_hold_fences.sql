-- Hold fences: every activation of a grain that grants holds on a cap (a campaign, a coupon, a cap
-- shard) takes the next epoch of its key here before it reads its totals from the ledger, and every
-- redemption is committed only if each grain that granted one of its holds is still at the epoch it
-- had when it granted it.
--
-- Why: holds live in memory. When a silo dies (or stops) with holds pending, the grain's next
-- activation cannot know them; if their redemptions could still commit, the new activation would
-- grant the same room again and a cap could be exceeded. A ledger commit takes a shared advisory lock
-- per fence key (hashtextextended(key, 0)) before the statement that checks the epochs, and a new
-- activation's epoch update takes the exclusive one: every commit under the old epoch is in the ledger
-- before the new activation reads its totals, and none can follow. Advisory locks keep commits from
-- writing to these rows at all.
CREATE TABLE IF NOT EXISTS hold_fences (
    key        text        PRIMARY KEY,
    epoch      bigint      NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
