using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using CouponGrains.Domain.Caps;
using Npgsql;
using NpgsqlTypes;

namespace CouponGrains.Grains.Storage;

/// <summary>
/// Reads the committed totals of caps from the ledger when a grain activates or a cap shard first meets
/// a member. Under load many happen at once (every new customer is a new member), so requests are
/// batched: one statement joins a whole batch of keys against the ledger instead of one round trip,
/// parse and plan per cap.
/// </summary>
public sealed class CapTotalsReader : IAsyncDisposable
{
    private const int MaxBatch = 256;

    /// <summary>A read that takes this long is logged: with one read loop, every load queued behind it waited as long.</summary>
    private static readonly TimeSpan s_slowRead = TimeSpan.FromMilliseconds(200);

    // Npgsql sends the extremes as -infinity and infinity: a lifetime cap is a period without bounds.
    private static readonly DateTime s_beginning = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);
    private static readonly DateTime s_end = DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc);

    private readonly NpgsqlDataSource _db;
    private readonly ILogger _logger;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>();

    /// <summary>
    /// The one read loop. What arrives while a read is in flight goes in the next, so the batches grow with the load
    /// by themselves. There had been four loops: every request woke them all, an idle one took it alone, and at half
    /// the peak nearly every member load was a statement of its own (19,301 for 20,940 redemptions in 10 s). With one
    /// loop, at 2,638 redemptions a second (engine only, <c>loadtests/latency.sh</c>, three alternating pairs),
    /// PostgreSQL took 158–172 µs of CPU per redemption instead of 200–209 and the silo 314–325 instead of 350–370,
    /// and the closed peak did not drop (hot 5,504 against 5,305 a second, spread 4,297 against 4,283). The price: a
    /// read that turns slow holds up every load behind it. In two bench runs reads took 200–3,072 ms and spread fell to
    /// 0.07× of hot: the statistics had made the lookups' generic plan scan the ledger per key, which migration 0015
    /// and the sessions of <see cref="Database.GenericPlans"/> now rule out. <see cref="s_slowRead"/> makes any read
    /// that turns slow again show in the log.
    /// </summary>
    private readonly Task _reader;

    /// <param name="db">
    /// Sessions that keep the generic plan of the lookup (see <see cref="Database.GenericPlans"/>): it runs
    /// once or more per redemption, and its LATERAL form is an index probe per key whatever the values.
    /// </param>
    public CapTotalsReader(NpgsqlDataSource db, ILogger logger)
    {
        _db = db;
        _logger = logger;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>
    /// The committed totals of one cap, optionally only of redemptions made in [<paramref name="from"/>,
    /// <paramref name="to"/>) (a per-period cap).
    /// </summary>
    public Task<LedgerTotals> TotalsAsync(CapScope scope, string a, string? b, string? c, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var request = new Request(scope, a, b ?? "", c ?? "",
            from?.UtcDateTime ?? s_beginning, to?.UtcDateTime ?? s_end,
            new TaskCompletionSource<LedgerTotals>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(request))
        {
            throw new InvalidOperationException("The ledger reader is shutting down.");
        }

        return request.Done.Task;
    }

    private async Task ReadLoopAsync()
    {
        var batch = new List<Request>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            // An order's two slots (its codes, its exclusive codes) are read by one statement, and every
            // kind's statement goes in one round trip.
            var groups = batch.GroupBy(r => r.Scope.IsOrder() ? CapScope.Order : r.Scope)
                .Select(g => (Scope: g.Key, Requests: g.ToList())).ToList();
            try
            {
                var started = Environment.TickCount64;
                var totals = await ReadAsync(groups);
                if (Environment.TickCount64 - started is var took && took >= s_slowRead.TotalMilliseconds)
                {
                    // Every member load that arrived meanwhile waited for this one: say so.
                    _logger.LogWarning("Reading the totals of {Count} caps took {Milliseconds} ms", batch.Count, took);
                }

                for (var g = 0; g < groups.Count; g++)
                {
                    for (var i = 0; i < groups[g].Requests.Count; i++)
                    {
                        groups[g].Requests[i].Done.TrySetResult(totals[g][i]);
                    }
                }
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Reading totals of {Count} caps failed", batch.Count);
                foreach (var request in batch)
                {
                    request.Done.TrySetException(ex);
                }
            }
        }
    }

    private async Task<LedgerTotals[][]> ReadAsync(List<(CapScope Scope, List<Request> Requests)> groups)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        foreach (var (scope, requests) in groups)
        {
            var command = new NpgsqlBatchCommand(Sql(scope));
            command.Parameters.Add(new NpgsqlParameter<string[]>("a", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = requests.Select(r => r.A).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]>("b", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = requests.Select(r => r.B).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]>("c", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = requests.Select(r => r.C).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("f", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = requests.Select(r => r.From).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<DateTime[]>("t", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = requests.Select(r => r.To).ToArray() });
            // Only an order's exclusive slot counts just the exclusive redemptions on it.
            command.Parameters.Add(new NpgsqlParameter<bool[]>("x", NpgsqlDbType.Array | NpgsqlDbType.Boolean)
            {
                TypedValue = requests.Select(r => r.Scope == CapScope.OrderExclusive).ToArray(),
            });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan>("memory", Escrow.RestoreMemory));
            batch.BatchCommands.Add(command);
        }

        var totals = new LedgerTotals[groups.Count][];
        await using var reader = await batch.ExecuteReaderAsync();
        for (var g = 0; g < groups.Count; g++)
        {
            if (g > 0)
            {
                await reader.NextResultAsync();
            }

            totals[g] = new LedgerTotals[groups[g].Requests.Count];
            while (await reader.ReadAsync())
            {
                var index = (int)reader.GetInt64(0) - 1;
                totals[g][index] = new LedgerTotals(reader.GetInt64(1), reader.GetInt64(2), RestoreIds(reader.GetFieldValue<string[]>(3)));
            }
        }

        return totals;
    }

    /// <summary>Each kind's lookup, built once rather than for every read.</summary>
    private static readonly string[] s_sql = Enum.GetValues<CapScope>().Select(Build).ToArray();

    /// <summary>
    /// The lookup of one kind of cap. LATERAL makes every key an index probe, and the index it probes is the
    /// only one whose predicate the lookup implies (migration 0012), so even a generic plan built on an
    /// empty ledger cannot settle on an index that matches fewer columns.
    /// </summary>
    public static string Sql(CapScope scope) => s_sql[(int)scope];

    private static string Build(CapScope scope) =>
        $"""
        SELECT k.i, t.amount, t.committed, t.reversed
        FROM unnest(@a, @b, @c, @f, @t, @x) WITH ORDINALITY AS k(a, b, c, f, t, x, i)
        CROSS JOIN LATERAL ({Totals(Join(scope))}) AS t
        """;

    private static string Totals(string join) =>
        $$"""
        SELECT COALESCE(sum(r.discount - r.reversed_discount), 0)::bigint AS amount,
               count(*) FILTER (WHERE r.status = 'committed') AS committed,
               COALESCE(array_agg(r.id || '#' || r.reversal_seq) FILTER (WHERE r.reversal_seq > 0 AND r.reversed_at > now() - @memory), '{}') AS reversed
        FROM redemptions r
        WHERE {{join}} AND r.status <> 'aborted' AND r.redeemed_at >= k.f AND r.redeemed_at < k.t
        """;

    private static string Join(CapScope scope)
    {
        return scope switch
        {
            // Every redemption has a dealer; saying so lets the lookup use redemptions_members, whose predicate names it.
            CapScope.Campaign => "r.campaign_id = k.a AND r.dealer_id IS NOT NULL",
            CapScope.Dealer => "r.campaign_id = k.a AND r.dealer_id = k.b",
            CapScope.Branch => "r.campaign_id = k.a AND r.dealer_id = k.b AND r.branch_id = k.c",
            CapScope.Customer => "r.campaign_id = k.a AND r.customer_id = k.b",
            CapScope.Coupon => "r.code = k.a",
            CapScope.Warranty => "r.campaign_id = k.a AND r.warranty_key = k.b",
            CapScope.Order or CapScope.OrderExclusive => "r.dealer_id = k.b AND r.order_id = k.c AND (r.exclusive OR NOT k.x)",
            _ => throw new ArgumentOutOfRangeException(nameof(scope)),
        };
    }

    /// <summary>
    /// Every restore id of the recently reversed redemptions: the ledger reports '{id}#{n}' for the last
    /// of n reversals, and each of '{id}#1'…'{id}#{n}' has been counted in the totals.
    /// </summary>
    private static List<string> RestoreIds(string[] latest)
    {
        var ids = new List<string>(latest.Length);
        foreach (var last in latest)
        {
            var hash = last.LastIndexOf('#');
            var n = int.Parse(last.AsSpan(hash + 1), System.Globalization.CultureInfo.InvariantCulture);
            for (var k = 1; k <= n; k++)
            {
                ids.Add(RestoreId(last[..hash], k));
            }
        }

        return ids;
    }

    /// <summary>The id a cap remembers the <paramref name="n"/>-th reversal of a redemption by.</summary>
    public static string RestoreId(string redemptionId, int n) => $"{redemptionId}#{n}";

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _reader;
    }

    private sealed record Request(CapScope Scope, string A, string B, string C, DateTime From, DateTime To, TaskCompletionSource<LedgerTotals> Done);
}
