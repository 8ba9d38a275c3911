using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Audit;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Caps;
using CouponGrains.Contracts.Coupons;
using CouponGrains.Contracts.Events;
using CouponGrains.Contracts.Redemptions;
using CouponGrains.Domain.Time;
using CouponGrains.Grains.Audit;
using CouponGrains.Grains.Redemptions;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Storage;

/// <summary>A redemption to append, with the idempotency key it answers.</summary>
public sealed record LedgerEntry(RedemptionRecord Record, string IdempotencyScope, string IdempotencyKey,
    string RequestHash, Actor Actor, HeldCaps Held);

/// <summary>
/// The holds a redemption took besides its campaign's: whether its coupon held a use, which member caps,
/// and the fence of every grain that granted a hold (its campaign's included).
/// </summary>
public sealed record HeldCaps(bool Coupon, IReadOnlyList<(string ShardKey, string Member)> Members, IReadOnlyList<HoldFence> Fences);

/// <summary>The activation epoch of a grain that granted a hold (see 0008_hold_fences.sql), keyed by its grain id.</summary>
public readonly record struct HoldFence(string Key, long Epoch);

public enum AppendStatus
{
    Committed,
    /// <summary>Another redemption already holds this idempotency key.</summary>
    KeyTaken,
    /// <summary>A hold outlived this attempt and its id was tombstoned; the attempt did not commit.</summary>
    Aborted,
    /// <summary>A grain that granted a hold has been activated afresh since (its silo died or stopped); the attempt did not commit.</summary>
    Fenced,
}

/// <summary>A committed redemption together with the request hash its key was first used with.</summary>
public sealed record StoredRedemption(RedemptionRecord Record, string? RequestHash);

/// <summary>Counter totals of one cap, as derived from the ledger.</summary>
public sealed record LedgerTotals(long Amount, long Count, IReadOnlyCollection<string> RecentlyReversed);

/// <summary>
/// The redemption ledger in PostgreSQL. Every change also writes its event to the outbox in the same
/// statement (see 0004_outbox.sql), so downstream consumers get exactly the changes that committed, and
/// every redemption its row in the audit trail (who redeemed what, sealed into the hash chain later).
/// Appends are group-committed: concurrent redemptions queue
/// here and a few writer loops insert them many rows per statement, so the commit cost is shared.
/// A task completes only after its row's transaction committed, which is what makes a 2xx durable.
/// </summary>
public sealed class RedemptionLedger : IAsyncDisposable
{
    public const int MaxBatch = 512;
    public const int Writers = 4;

    /// <summary>
    /// How long a writer that finds only a few rows queued waits for more, when redemptions arrive fast enough
    /// that more will come meanwhile (<see cref="LingerFromRate"/>). Each batch costs the silo and PostgreSQL
    /// much the same whether it carries 4 rows or 8: at 1,300 redemptions a second the writers had sent
    /// batches of 4, and waiting made them 7–8 and cut PostgreSQL's CPU per redemption by about 15 %.
    /// </summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(2);

    /// <summary>A writer lingers only when fewer rows than this are queued.</summary>
    public const int LingerBelow = 32;

    /// <summary>
    /// Appends a second from which a writer lingers: at this rate one more row is expected within <see cref="Linger"/>.
    /// Below it (a quiet hour, one dealer at a time) a redemption is written at once.
    /// </summary>
    public const int LingerFromRate = 500;

    private readonly NpgsqlDataSource _db;

    /// <summary>Where batches are appended: sessions that keep the append's generic plan (see <see cref="Database.GenericPlans"/>).</summary>
    private readonly NpgsqlDataSource _appends;
    private readonly ILogger<RedemptionLedger> _logger;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _writers;

    /// <summary>Held by the writer that is collecting the next batch (see <see cref="CollectAsync"/>).</summary>
    private readonly SemaphoreSlim _collecting = new(1, 1);
    private readonly CapTotalsReader _totals;
    private long _batches;
    private long _rows;
    private long _unknownBatches;
    private long _awaitingResolution;

    /// <summary>Appends a second, over a quarter second or so.</summary>
    private readonly RateMeter _arrivals = new(250, Environment.TickCount64);

    private readonly IGrainFactory _grains;

    private readonly RedemptionTimings _timings;

    private readonly ILedgerFaults? _faults;

    /// <summary>Ends the background resolutions of failed batches when the silo stops.</summary>
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>
    /// How long a failed batch whose resolution could not reach PostgreSQL is resolved again in the background: a
    /// hold's lifetime, after which the grains that granted it resolve it themselves.
    /// </summary>
    public static readonly TimeSpan RetryResolutionFor = Caps.EscrowGrain.HoldTimeout;

    public RedemptionLedger(Database database, IGrainFactory grains, RedemptionTimings timings, ILogger<RedemptionLedger> logger,
        ILedgerFaults? faults = null)
    {
        _timings = timings;
        _faults = faults;
        _grains = grains;
        _db = database.DataSource;
        _appends = database.GenericPlans;
        _logger = logger;
        _totals = new CapTotalsReader(database.GenericPlans, logger);
        _writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
    }

    /// <summary>
    /// For metrics: batches written and rows in them, batches whose outcome was unknown, and redemptions of such batches
    /// whose resolution is still waiting for PostgreSQL.
    /// </summary>
    public (long Batches, long Rows, long UnknownBatches, long AwaitingResolution) Stats =>
        (Interlocked.Read(ref _batches), Interlocked.Read(ref _rows), Interlocked.Read(ref _unknownBatches), Interlocked.Read(ref _awaitingResolution));

    public Task<AppendStatus> AppendAsync(LedgerEntry entry)
    {
        var pending = new Pending(entry, new TaskCompletionSource<AppendStatus>(TaskCreationOptions.RunContinuationsAsynchronously),
            Stopwatch.GetTimestamp());
        _arrivals.Add();
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The ledger is shutting down.");
        }

        return pending.Done.Task;
    }

    /// <summary>
    /// Fills <paramref name="batch"/> with the next rows to write; false once the ledger is shutting down. One writer
    /// collects at a time while the others write theirs: only the collector waits on the queue, so a row wakes one
    /// writer, and a batch forms while the one before it commits. (Every writer had waited on the queue, and each row
    /// that found them idle woke all four, each to linger on a timer of its own.)
    /// </summary>
    private async Task<bool> CollectAsync(List<Pending> batch)
    {
        batch.Clear();
        await _collecting.WaitAsync();
        try
        {
            var reader = _queue.Reader;
            while (batch.Count == 0)
            {
                if (!await reader.WaitToReadAsync())
                {
                    return false;
                }

                if (reader.Count < LingerBelow && _arrivals.PerSecond(Environment.TickCount64) >= LingerFromRate)
                {
                    await Task.Delay(Linger);
                }

                while (batch.Count < MaxBatch && reader.TryRead(out var item))
                {
                    batch.Add(item);
                }
            }

            return true;
        }
        finally
        {
            _collecting.Release();
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await CollectAsync(batch))
        {
            try
            {
                var writing = Stopwatch.GetTimestamp();
                var outcomes = await InsertBatchAsync(batch);
                _timings.BatchWritten(writing);
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _rows, batch.Count);
                ConfirmHolds(batch.ConvertAll(p => p.Entry), outcomes);
                for (var i = 0; i < batch.Count; i++)
                {
                    _timings.Appended(batch[i].At);
                    batch[i].Done.TrySetResult(outcomes[i]);
                }
            }
            catch (LedgerNotWrittenException ex)
            {
                // Nothing of this batch reached the ledger, nor ever will under these ids: callers release their holds.
                _logger.LogWarning("Ledger batch of {Count} redemptions was not written: {Error}", batch.Count, ex.InnerException?.Message);
                foreach (var item in batch)
                {
                    item.Done.TrySetException(ex);
                }
            }
            catch (Exception ex)
            {
                // The outcome is unknown: the connection broke after the batch was sent, and its commit may
                // or may not have landed. Resolve it now rather than when the holds expire.
                _logger.LogWarning(ex, "Ledger batch of {Count} redemptions failed with its outcome unknown; resolving it", batch.Count);
                Interlocked.Increment(ref _unknownBatches);
                await ResolveUnknownAsync(batch, ex);
            }
        }
    }

    /// <summary>
    /// Decides a batch whose outcome is unknown as an expired hold is decided (<see cref="ResolveManyAsync"/>): what
    /// committed is confirmed and answered as committed; the rest is tombstoned, can never commit, and is answered
    /// <see cref="AppendStatus.Aborted"/>, so its holds go back at once. If PostgreSQL cannot be reached for that
    /// either, the callers get the failure at once and keep their holds, and the batch is resolved again in the
    /// background (<see cref="ResolveWhenBackAsync"/>) as soon as the database answers.
    /// </summary>
    private async Task ResolveUnknownAsync(List<Pending> batch, Exception failure)
    {
        var entries = batch.ConvertAll(p => p.Entry);
        HashSet<string> committed;
        try
        {
            _faults?.BeforeResolve(entries.ConvertAll(e => e.Record));
            committed = await ResolveManyAsync(entries.ConvertAll(e => e.Record.Id));
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Resolving a failed ledger batch of {Count} redemptions failed; resolving it again until the database answers",
                batch.Count);
            Interlocked.Add(ref _awaitingResolution, entries.Count);
            _ = Task.Run(() => ResolveWhenBackAsync(entries));
            foreach (var item in batch)
            {
                item.Done.TrySetException(failure);
            }

            return;
        }

        var outcomes = Resolved(entries, committed);
        ConfirmHolds(entries, outcomes);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(outcomes[i]);
        }
    }

    /// <summary>What a resolution decided for each entry: committed if the ledger has it, otherwise tombstoned (aborted).</summary>
    private static AppendStatus[] Resolved(List<LedgerEntry> entries, HashSet<string> committed) =>
        entries.ConvertAll(e => committed.Contains(e.Record.Id) ? AppendStatus.Committed : AppendStatus.Aborted).ToArray();

    /// <summary>
    /// Retries the resolution of a batch whose outcome is unknown, and whose callers were already answered 503,
    /// until PostgreSQL answers: then what committed is confirmed and what did not is released in every grain that
    /// held it. Without this its holds would block their caps until they expired (<see cref="RetryResolutionFor"/>),
    /// well after the database came back. A grain that resolves such a hold on expiry first meets the same answer
    /// in the ledger, and confirming or releasing a hold it no longer has does nothing.
    /// </summary>
    private async Task ResolveWhenBackAsync(List<LedgerEntry> entries)
    {
        try
        {
            await RetryResolutionAsync(entries);
        }
        finally
        {
            Interlocked.Add(ref _awaitingResolution, -entries.Count);
        }
    }

    private async Task RetryResolutionAsync(List<LedgerEntry> entries)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var giveUp = Environment.TickCount64 + (long)RetryResolutionFor.TotalMilliseconds;
        while (!_stopping.IsCancellationRequested && Environment.TickCount64 < giveUp)
        {
            try
            {
                await Task.Delay(delay, _stopping.Token);
                var committed = await ResolveManyAsync(entries.ConvertAll(e => e.Record.Id));
                var outcomes = Resolved(entries, committed);
                ConfirmHolds(entries, outcomes);
                await ReleaseHoldsAsync(entries, outcomes);
                _logger.LogInformation("Resolved a failed ledger batch of {Count} redemptions once the database answered: {Committed} committed",
                    entries.Count, committed.Count);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning("Resolving a failed ledger batch of {Count} redemptions failed again: {Error}", entries.Count, ex.Message);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    /// <summary>
    /// Gives back the holds of redemptions that can never commit (tombstoned), with one call per grain and
    /// redemption. A release that fails leaves its hold to expire, which resolves it the same way.
    /// </summary>
    private async Task ReleaseHoldsAsync(List<LedgerEntry> entries, AppendStatus[] outcomes)
    {
        var releases = new List<Task>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (outcomes[i] != AppendStatus.Aborted)
            {
                continue;
            }

            var (record, held) = (entries[i].Record, entries[i].Held);
            releases.Add(_grains.Ref<ICampaignGrain>(GrainKeys.Campaign(record.CampaignId)).ReleaseAsync(record.Id));
            if (held.Coupon)
            {
                releases.Add(_grains.Ref<ICouponGrain>(GrainKeys.Coupon(record.Code)).ReleaseAsync(record.Id));
            }

            foreach (var shard in held.Members.GroupBy(m => m.ShardKey, StringComparer.Ordinal))
            {
                releases.Add(_grains.Ref<ICapShardGrain>(shard.Key).ReleaseAsync(record.Id, shard.Select(m => m.Member).ToArray()));
            }
        }

        try
        {
            await Task.WhenAll(releases);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Releasing the holds of a resolved ledger batch failed; they resolve on expiry");
        }
    }

    /// <summary>
    /// Turns the holds of a committed batch into use with one one-way message per grain, instead of one
    /// per redemption and cap: on a hot campaign that is one turn per batch rather than per redemption.
    /// Sent before any caller is answered, so a read after a 201 sees the confirmed total. A lost
    /// message is covered by hold expiry, which resolves against the ledger.
    /// </summary>
    private void ConfirmHolds(List<LedgerEntry> batch, AppendStatus[] outcomes)
    {
        var campaigns = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var coupons = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var shards = new Dictionary<string, (List<string> Members, List<string> Ids)>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] != AppendStatus.Committed)
            {
                continue;
            }

            var entry = batch[i];
            var id = entry.Record.Id;
            Add(campaigns, entry.Record.CampaignId, id);
            if (entry.Held.Coupon)
            {
                Add(coupons, entry.Record.Code, id);
            }

            foreach (var (shardKey, member) in entry.Held.Members)
            {
                if (!shards.TryGetValue(shardKey, out var lists))
                {
                    shards[shardKey] = lists = ([], []);
                }

                lists.Members.Add(member);
                lists.Ids.Add(id);
            }
        }

        foreach (var (campaignId, ids) in campaigns)
        {
            _ = _grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId)).ConfirmManyAsync(ids.ToArray());
        }

        foreach (var (code, ids) in coupons)
        {
            _ = _grains.Ref<ICouponGrain>(GrainKeys.Coupon(code)).ConfirmManyAsync(ids.ToArray());
        }

        foreach (var (shardKey, (members, ids)) in shards)
        {
            _ = _grains.Ref<ICapShardGrain>(shardKey).ConfirmManyAsync(members.ToArray(), ids.ToArray());
        }

        static void Add(Dictionary<string, List<string>> groups, string key, string id)
        {
            if (!groups.TryGetValue(key, out var ids))
            {
                groups[key] = ids = [];
            }

            ids.Add(id);
        }
    }

    private async Task<AppendStatus[]> InsertBatchAsync(List<Pending> batch)
    {
        var n = batch.Count;
        var ids = new string[n];
        var scopes = new string[n];
        var keys = new string[n];
        var hashes = new string[n];
        var codes = new string[n];
        var campaigns = new string[n];
        var dealers = new string[n];
        var branches = new string?[n];
        var customers = new string?[n];
        var orders = new string?[n];
        var discounts = new long[n];
        var currencies = new string[n];
        var times = new DateTime[n];
        var actors = new string[n];
        var roles = new string[n];
        var lines = new string[n];
        var eligible = new long[n];
        var warranties = new string?[n];
        var exclusive = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var e = batch[i].Entry;
            var r = e.Record;
            ids[i] = r.Id;
            scopes[i] = e.IdempotencyScope;
            keys[i] = e.IdempotencyKey;
            hashes[i] = e.RequestHash;
            codes[i] = r.Code;
            campaigns[i] = r.CampaignId;
            dealers[i] = r.DealerId;
            branches[i] = r.BranchId;
            customers[i] = r.CustomerId;
            orders[i] = r.OrderId;
            discounts[i] = r.Discount;
            currencies[i] = r.Currency;
            times[i] = r.RedeemedAt.UtcDateTime;
            actors[i] = e.Actor.KeyId;
            roles[i] = e.Actor.Role;
            lines[i] = JsonSerializer.Serialize(r.Lines, Json);
            eligible[i] = r.EligibleValue;
            warranties[i] = r.WarrantyKey;
            exclusive[i] = r.Exclusive;
        }

        var fenceIndexes = new List<long>(n * 3);
        var fenceKeys = new List<string>(n * 3);
        var fenceEpochs = new List<long>(n * 3);
        for (var i = 0; i < n; i++)
        {
            foreach (var fence in batch[i].Entry.Held.Fences)
            {
                fenceIndexes.Add(i + 1);
                fenceKeys.Add(fence.Key);
                fenceEpochs.Add(fence.Epoch);
            }
        }

        // One transaction, two statements. The first takes a shared advisory lock per fence key (in key
        // order), which a new activation's epoch update waits for (see FenceAsync); the second, with a
        // snapshot taken after those locks, inserts only the redemptions whose every fence is still
        // current. So no commit under an old epoch lands after a new activation has read its totals.
        // Advisory locks live in the lock manager, not in the fence rows: commits never write to them.
        // The fence check probes hold_fences by key (LATERAL, LIMIT 1 so it is not flattened into a join):
        // the generic plan built on a young table had hashed a scan of every fence, one per grain activation.
        NpgsqlConnection connection;
        try
        {
            connection = await _appends.OpenConnectionAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new LedgerNotWrittenException(ex);
        }

        await using var _ = connection;
        _faults?.BeforeSend(batch.ConvertAll(p => p.Entry.Record));
        await using var batchCommand = new NpgsqlBatch(connection);
        var fenceLock = new NpgsqlBatchCommand(
            """
            SELECT count(pg_advisory_xact_lock_shared(hashtextextended(k, 0)))
            FROM (SELECT DISTINCT k FROM unnest(@fence_keys) AS k ORDER BY k) AS keys
            """);
        fenceLock.Parameters.Add(SqlParameters.Texts("fence_keys", fenceKeys));
        batchCommand.BatchCommands.Add(fenceLock);
        var command = new NpgsqlBatchCommand(
            """
            WITH stale AS (
                SELECT DISTINCT h.i FROM unnest(@fence_ix, @fence_keys, @fence_epochs) AS h(i, key, epoch)
                LEFT JOIN LATERAL (SELECT f.epoch FROM hold_fences f WHERE f.key = h.key LIMIT 1) AS f ON true
                WHERE f.epoch IS DISTINCT FROM h.epoch),
            ins AS (
                INSERT INTO redemptions (id, idem_scope, idem_key, request_hash, code, campaign_id, dealer_id, branch_id,
                                         customer_id, order_id, discount, currency, redeemed_at, actor_key_id,
                                         lines, eligible_value, warranty_key, exclusive, status)
                SELECT u.id, u.scope, u.key, u.hash, u.code, u.campaign, u.dealer, u.branch, u.customer, u.order_id, u.discount,
                       u.currency, u.at, u.actor, u.lines::jsonb, u.eligible, u.warranty, u.exclusive, 'committed'
                FROM unnest(@ids, @scopes, @keys, @hashes, @codes, @campaigns, @dealers, @branches,
                            @customers, @orders, @discounts, @currencies, @times, @actors,
                            @lines, @eligible, @warranties, @exclusive) WITH ORDINALITY
                     AS u(id, scope, key, hash, code, campaign, dealer, branch, customer, order_id, discount,
                          currency, at, actor, lines, eligible, warranty, exclusive, i)
                WHERE u.i NOT IN (SELECT i FROM stale)
                ON CONFLICT DO NOTHING
                RETURNING id, code, campaign_id, dealer_id, order_id, discount, currency, redeemed_at, actor_key_id),
            ev AS (
                INSERT INTO outbox (event_id, type, redemption_id, amount, at)
                SELECT id || ':committed', 'redemption_committed', id, discount, redeemed_at FROM ins),
            au AS (
                INSERT INTO audit_log (at, actor_key_id, actor_role, action, entity_type, entity_id, after)
                SELECT ins.redeemed_at, ins.actor_key_id, a.role, 'redeemed', 'redemption', ins.id,
                       jsonb_build_object('code', ins.code, 'campaignId', ins.campaign_id, 'dealerId', ins.dealer_id,
                                          'orderId', ins.order_id, 'discount', ins.discount, 'currency', ins.currency)
                FROM ins JOIN unnest(@ids, @roles) AS a(id, role) ON a.id = ins.id)
            SELECT id, false FROM ins
            UNION ALL
            SELECT (@ids::text[])[i::int], true FROM stale
            """);
        batchCommand.BatchCommands.Add(command);
        command.Parameters.Add(SqlParameters.Texts("ids", ids));
        command.Parameters.Add(SqlParameters.Texts("scopes", scopes));
        command.Parameters.Add(SqlParameters.Texts("keys", keys));
        command.Parameters.Add(SqlParameters.Texts("hashes", hashes));
        command.Parameters.Add(SqlParameters.Texts("codes", codes));
        command.Parameters.Add(SqlParameters.Texts("campaigns", campaigns));
        command.Parameters.Add(SqlParameters.Texts("dealers", dealers));
        command.Parameters.Add(SqlParameters.Texts("branches", branches));
        command.Parameters.Add(SqlParameters.Texts("customers", customers));
        command.Parameters.Add(SqlParameters.Texts("orders", orders));
        command.Parameters.Add(SqlParameters.Longs("discounts", discounts));
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = times });
        command.Parameters.Add(SqlParameters.Texts("currencies", currencies));
        command.Parameters.Add(SqlParameters.Texts("actors", actors));
        command.Parameters.Add(SqlParameters.Texts("roles", roles));
        command.Parameters.Add(SqlParameters.Texts("lines", lines));
        command.Parameters.Add(SqlParameters.Longs("eligible", eligible));
        command.Parameters.Add(SqlParameters.Texts("warranties", warranties));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("exclusive", NpgsqlDbType.Array | NpgsqlDbType.Boolean) { TypedValue = exclusive });
        command.Parameters.Add(SqlParameters.Longs("fence_ix", fenceIndexes));
        command.Parameters.Add(SqlParameters.Texts("fence_keys", fenceKeys));
        command.Parameters.Add(SqlParameters.Longs("fence_epochs", fenceEpochs));

        var inserted = new HashSet<string>(StringComparer.Ordinal);
        var fenced = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var reader = await batchCommand.ExecuteReaderAsync();
            await reader.NextResultAsync(); // past the lock statement's count
            while (await reader.ReadAsync())
            {
                (reader.GetBoolean(1) ? fenced : inserted).Add(reader.GetString(0));
            }
        }
        catch (PostgresException ex) when (ex.InvariantSeverity == "ERROR")
        {
            // The server refused the batch with an ERROR: its implicit transaction rolled back whole, and the
            // session lives on. A FATAL (the session being terminated) can follow a commit, and a broken
            // connection is no PostgresException at all: their outcome stays unknown.
            throw new LedgerNotWrittenException(ex);
        }

        _faults?.AfterAnswer(batch.ConvertAll(p => p.Entry.Record));

        var outcomes = new AppendStatus[n];
        List<string>? missing = null;
        for (var i = 0; i < n; i++)
        {
            if (inserted.Contains(ids[i]))
            {
                outcomes[i] = AppendStatus.Committed;
            }
            else if (fenced.Contains(ids[i]))
            {
                outcomes[i] = AppendStatus.Fenced;
            }
            else
            {
                (missing ??= []).Add(ids[i]);
            }
        }

        if (missing is not null)
        {
            // Either a tombstone took the id, or another row already holds the idempotency key.
            var tombstoned = new HashSet<string>(StringComparer.Ordinal);
            await using var check = new NpgsqlCommand("SELECT id FROM redemptions WHERE id = ANY(@ids)", connection);
            check.Parameters.Add(SqlParameters.Texts("ids", missing));
            await using var reader = await check.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tombstoned.Add(reader.GetString(0));
            }

            for (var i = 0; i < n; i++)
            {
                if (!inserted.Contains(ids[i]) && !fenced.Contains(ids[i]))
                {
                    outcomes[i] = tombstoned.Contains(ids[i]) ? AppendStatus.Aborted : AppendStatus.KeyTaken;
                }
            }
        }

        return outcomes;
    }

    private const string Columns =
        "id, code, campaign_id, dealer_id, branch_id, order_id, customer_id, discount, currency, status, redeemed_at, " +
        "invoice_number, invoice_date, delivery_proof_ref, reversed_at, reversal_reason, reversed_discount, request_hash, " +
        "lines, eligible_value, warranty_key, exclusive, reversal_seq";

    /// <summary>How line arrays are written to the ledger's and the outbox's jsonb columns (and read back by the relay).</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<StoredRedemption?> FindByKeyAsync(string scope, string key)
    {
        await using var command = _db.CreateCommand(
            $"SELECT {Columns} FROM redemptions WHERE idem_scope = @s AND idem_key = @k AND status <> 'aborted'");
        command.Parameters.AddWithValue("s", scope);
        command.Parameters.AddWithValue("k", key);
        return await ReadOneAsync(command);
    }

    public async Task<StoredRedemption?> FindByIdAsync(string id)
    {
        await using var command = _db.CreateCommand($"SELECT {Columns} FROM redemptions WHERE id = @id AND status <> 'aborted'");
        command.Parameters.AddWithValue("id", id);
        return await ReadOneAsync(command);
    }

    /// <summary>
    /// Records a reversal of a committed redemption: <paramref name="amount"/> more of its discount given
    /// back, the lines as they now stand, and, when <paramref name="completes"/>, the status reversed. A
    /// compare-and-set on the reversal count, so two reversals can never both apply; null when it did not
    /// apply (the redemption is no longer committed or was reversed meanwhile). The outbox gets the event
    /// '{id}:reversed:{n}' in the same statement, with <paramref name="returned"/> (what came back per line) as its lines.
    /// </summary>
    /// <remarks>
    /// <paramref name="audit"/> is written by the same statement, and only if the reversal applies: a reversal is never
    /// without its audit row, nor an audit row without its reversal, and the two cost one commit.
    /// </remarks>
    public async Task<RedemptionRecord?> ApplyReversalAsync(string id, int reversalsBefore, long amount, bool completes,
        RedemptionLine[] lines, RedemptionEventLine[] returned, string reason, AuditEntry audit)
    {
        await using var command = _db.CreateCommand(
            $"""
            WITH upd AS (
                UPDATE redemptions SET reversed_discount = reversed_discount + @amount, reversal_seq = reversal_seq + 1,
                       reversed_at = now(), reversal_reason = @reason, lines = @lines::jsonb,
                       status = CASE WHEN @completes THEN 'reversed' ELSE status END
                WHERE id = @id AND status = 'committed' AND reversal_seq = @before
                RETURNING {Columns}),
            ev AS (
                INSERT INTO outbox (event_id, type, redemption_id, amount, lines)
                SELECT id || ':reversed:' || reversal_seq, 'redemption_reversed', id, @amount, @returned::jsonb FROM upd),
            au AS ({AuditSql.InsertSelect} FROM upd)
            SELECT * FROM upd
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("before", reversalsBefore);
        command.Parameters.AddWithValue("amount", amount);
        command.Parameters.AddWithValue("completes", completes);
        command.Parameters.AddWithValue("reason", reason);
        command.Parameters.AddWithValue("lines", JsonSerializer.Serialize(lines, Json));
        command.Parameters.AddWithValue("returned", JsonSerializer.Serialize(returned, Json));
        AuditSql.AddSelectParameters(command, audit);
        return (await ReadOneAsync(command))?.Record;
    }

    /// <summary>The eligible purchase values of a dealer's committed redemptions in a campaign, oldest first (retro rebates).</summary>
    public async Task<List<long>> EligiblePurchasesAsync(string campaignId, string dealerId)
    {
        await using var command = _db.CreateCommand(
            """
            SELECT eligible_value FROM redemptions
            WHERE campaign_id = @c AND dealer_id = @d AND status = 'committed'
            ORDER BY redeemed_at
            """);
        command.Parameters.AddWithValue("c", campaignId);
        command.Parameters.AddWithValue("d", dealerId);
        var values = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetInt64(0));
        }

        return values;
    }

    /// <summary>
    /// Maps a redemption to its invoice. Null when the redemption is not committed or already mapped elsewhere. The
    /// first mapping writes <paramref name="audit"/> in the same statement; repeating it changes nothing and writes none.
    /// </summary>
    public async Task<RedemptionRecord?> MapInvoiceAsync(string id, InvoiceMapping invoice, AuditEntry audit)
    {
        await using var command = _db.CreateCommand(
            $"""
            WITH upd AS (
                UPDATE redemptions SET invoice_number = @n, invoice_date = @d, delivery_proof_ref = COALESCE(@p, delivery_proof_ref)
                WHERE id = @id AND status = 'committed' AND (invoice_number IS NULL OR invoice_number = @n)
                RETURNING {Columns}),
            first AS (
                -- Only the first mapping is an event and an audit row: the subquery sees the row as it was before this statement.
                SELECT * FROM upd WHERE NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.id = upd.id AND r.invoice_number IS NOT NULL)),
            ev AS (
                INSERT INTO outbox (event_id, type, redemption_id, amount)
                SELECT id || ':invoiced', 'redemption_invoiced', id, discount FROM first),
            au AS ({AuditSql.InsertSelect} FROM first)
            SELECT * FROM upd
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("n", invoice.InvoiceNumber);
        command.Parameters.AddWithValue("d", invoice.InvoiceDate);
        command.Parameters.Add(new NpgsqlParameter<string?>("p", NpgsqlDbType.Text) { TypedValue = invoice.DeliveryProofRef });
        AuditSql.AddSelectParameters(command, audit);
        return (await ReadOneAsync(command))?.Record;
    }

    /// <summary>
    /// Decides the fate of a redemption whose hold expired: if it is not in the ledger, a tombstone is
    /// written so that it can never commit later. Returns true when the redemption did commit.
    /// </summary>
    public async Task<bool> ResolveAsync(string id) => (await ResolveManyAsync([id])).Contains(id);

    /// <summary>
    /// <see cref="ResolveAsync"/> for many ids at once; returns those that committed. Two statements: the
    /// tombstones' insert waits for a batch still in flight with one of these ids, and only the second
    /// statement's snapshot, taken after that wait, is sure to see that batch's commit. (One statement would
    /// read with a snapshot from before the wait, and call a redemption that committed meanwhile aborted.)
    /// </summary>
    public async Task<HashSet<string>> ResolveManyAsync(IReadOnlyCollection<string> ids)
    {
        await using var batch = _db.CreateBatch();
        var tombstones = new NpgsqlBatchCommand(
            "INSERT INTO redemptions (id, status) SELECT id, 'aborted' FROM unnest(@ids) AS t(id) ON CONFLICT (id) DO NOTHING");
        tombstones.Parameters.Add(SqlParameters.Texts("ids", ids));
        batch.BatchCommands.Add(tombstones);
        var committed = new NpgsqlBatchCommand("SELECT id FROM redemptions WHERE id = ANY(@ids) AND status IN ('committed', 'reversed')");
        committed.Parameters.Add(SqlParameters.Texts("ids", ids));
        batch.BatchCommands.Add(committed);
        var result = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await batch.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            result.Add(reader.GetString(0));
        }

        return result;
    }

    /// <summary>
    /// Takes the next epoch of a hold-granting grain (see 0008_hold_fences.sql). Waits for every commit in
    /// flight under the previous epoch, so totals read afterwards include them and none can follow.
    /// </summary>
    public async Task<long> FenceAsync(string key)
    {
        // One transaction: the exclusive advisory lock waits for every commit holding the key's shared lock
        // (see InsertBatchAsync), and the new epoch is visible to every commit that locks after it.
        await using var connection = await _db.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        var wait = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))");
        wait.Parameters.AddWithValue("key", key);
        batch.BatchCommands.Add(wait);
        var bump = new NpgsqlBatchCommand(
            """
            INSERT INTO hold_fences (key, epoch) VALUES (@key, 1)
            ON CONFLICT (key) DO UPDATE SET epoch = hold_fences.epoch + 1, changed_at = now()
            RETURNING epoch
            """);
        bump.Parameters.AddWithValue("key", key);
        batch.BatchCommands.Add(bump);
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }

    /// <summary>
    /// Whether an activation at <paramref name="epoch"/> of a hold-granting grain has been superseded: the key's
    /// epoch in hold_fences is newer, so another activation took the fence and this one's holds cannot commit.
    /// </summary>
    public async Task<bool> IsSupersededAsync(string key, long epoch)
    {
        await using var command = _db.CreateCommand("SELECT epoch > @epoch FROM hold_fences WHERE key = @key");
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("epoch", epoch);
        if (await command.ExecuteScalarAsync() is not true)
        {
            return false;
        }

        // Two activations of one grain overlapped: ops see each time the superseded one is found out.
        _logger.LogWarning("The activation of {Key} at fence epoch {Epoch} was superseded by a newer one and steps aside", key, epoch);
        return true;
    }

    /// <summary>The committed amount and count of one cap, and the ids it has given back recently (batched).</summary>
    public Task<LedgerTotals> TotalsAsync(CapScope scope, string campaignOrCode, string? dimension = null, string? branch = null,
        DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        _totals.TotalsAsync(scope, campaignOrCode, dimension, branch, from, to);

    private static async Task<StoredRedemption?> ReadOneAsync(NpgsqlCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        var record = new RedemptionRecord
        {
            Id = reader.GetString(0),
            Code = reader.GetString(1),
            CampaignId = reader.GetString(2),
            DealerId = reader.GetString(3),
            BranchId = reader.IsDBNull(4) ? null : reader.GetString(4),
            OrderId = reader.IsDBNull(5) ? null : reader.GetString(5),
            CustomerId = reader.IsDBNull(6) ? null : reader.GetString(6),
            Discount = reader.GetInt64(7),
            Currency = reader.GetString(8),
            Status = reader.GetString(9),
            RedeemedAt = new DateTimeOffset(reader.GetFieldValue<DateTime>(10), TimeSpan.Zero),
            InvoiceNumber = reader.IsDBNull(11) ? null : reader.GetString(11),
            InvoiceDate = reader.IsDBNull(12) ? null : reader.GetFieldValue<DateOnly>(12),
            DeliveryProofRef = reader.IsDBNull(13) ? null : reader.GetString(13),
            ReversedAt = reader.IsDBNull(14) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(14), TimeSpan.Zero),
            ReversalReason = reader.IsDBNull(15) ? null : reader.GetString(15),
            ReversedDiscount = reader.GetInt64(16),
            Lines = reader.IsDBNull(18) ? [] : JsonSerializer.Deserialize<RedemptionLine[]>(reader.GetString(18), Json) ?? [],
            EligibleValue = reader.GetInt64(19),
            WarrantyKey = reader.IsDBNull(20) ? null : reader.GetString(20),
            Exclusive = reader.GetBoolean(21),
            Reversals = reader.GetInt32(22),
        };
        return new StoredRedemption(record, reader.IsDBNull(17) ? null : reader.GetString(17));
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
        await _totals.DisposeAsync();
    }

    /// <param name="At">When the append was asked for (<see cref="Stopwatch.GetTimestamp"/>).</param>
    private sealed record Pending(LedgerEntry Entry, TaskCompletionSource<AppendStatus> Done, long At);
}

/// <summary>
/// Fault injection for a silo's tests: a connection that breaks around a ledger batch, which is what leaves its
/// outcome unknown, and a database that is away when that outcome is first resolved. Each method throws to fail
/// there. Not registered in a running product.
/// </summary>
public interface ILedgerFaults
{
    /// <summary>On a connection open and idle, just before the batch is sent: nothing is written.</summary>
    void BeforeSend(IReadOnlyList<RedemptionRecord> batch);

    /// <summary>After the batch was answered: it committed.</summary>
    void AfterAnswer(IReadOnlyList<RedemptionRecord> batch);

    /// <summary>Before a batch whose outcome is unknown is first resolved: the resolution fails as if PostgreSQL were away.</summary>
    void BeforeResolve(IReadOnlyList<RedemptionRecord> batch);
}

/// <summary>
/// A ledger append that is known to have written nothing: PostgreSQL could not be reached before the batch was
/// sent, or refused the batch (its transaction rolled back). Unlike a broken connection, whose commit may have
/// landed, its redemptions can release their holds at once.
/// </summary>
public sealed class LedgerNotWrittenException(Exception inner) : Exception("The ledger could not be written; nothing was.", inner)
{
}

public enum CapScope
{
    Campaign,
    Dealer,
    Branch,
    Customer,
    Coupon,
    Warranty,
    Order,
    OrderExclusive,
}

public static class CapScopes
{
    /// <summary>An order's stacking slot: read once per new order, busy for seconds, then never again.</summary>
    public static bool IsOrder(this CapScope scope) => scope is CapScope.Order or CapScope.OrderExclusive;
}
