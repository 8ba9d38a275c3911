using CouponGrains.Contracts;
using CouponGrains.Contracts.Caps;
using CouponGrains.Domain.Caps;
using CouponGrains.Grains.Caps;
using CouponGrains.Grains.Storage;
using Orleans.Concurrency;

namespace CouponGrains.Grains.Customers;

/// <summary>
/// The customer limits of one campaign shard: an <see cref="Escrow"/> per customer, loaded from the
/// ledger (in batches, see <see cref="CapTotalsReader"/>) the first time the customer is seen and
/// dropped again when idle with nothing held.
/// </summary>
/// <remarks>
/// Reentrant so that one customer's first-time load does not stall the shard. What holds across the
/// await: a customer's escrow is created only once its totals are loaded (concurrent first calls share
/// one load task), and every check-and-hold runs in a single turn after that, so two holds for one
/// customer can never both pass a check that only one of them fits.
/// </remarks>
[GrainType("customer-limits"), Reentrant]
public sealed class CustomerLimitGrain(RedemptionLedger ledger, TimeProvider time) : Grain, ICustomerLimitGrain
{
    private static readonly TimeSpan s_sweepEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_idle = TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, Customer> _customers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<Customer>> _loading = new(StringComparer.Ordinal);
    private IGrainTimer? _sweeper;

    private string CampaignId => GrainKeys.Split(this.GetPrimaryKeyString())[0];

    private DateTime UtcNow => time.GetUtcNow().UtcDateTime;

    public async Task<HoldStatus> TryHoldAsync(string customerId, string redemptionId, long limit)
    {
        var customer = await GetAsync(customerId);
        customer.LastUsed = UtcNow;
        if (!customer.Escrow.TryHold(redemptionId, 1, limit, UtcNow + EscrowGrain.HoldTimeout))
        {
            return HoldStatus.Exhausted;
        }

        DelayDeactivation(EscrowGrain.HoldTimeout + EscrowGrain.HoldTimeout);
        _sweeper ??= this.RegisterGrainTimer(SweepAsync, s_sweepEvery, s_sweepEvery);
        return HoldStatus.Held;
    }

    public Task ConfirmAsync(string customerId, string redemptionId)
    {
        // A customer with a pending hold is never dropped, so an unknown customer has nothing to confirm.
        if (_customers.TryGetValue(customerId, out var customer))
        {
            customer.Escrow.Confirm(redemptionId);
        }

        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string customerId, string redemptionId)
    {
        if (_customers.TryGetValue(customerId, out var customer))
        {
            customer.Escrow.Release(redemptionId);
        }

        return Task.CompletedTask;
    }

    public Task RestoreAsync(string customerId, string redemptionId)
    {
        // A customer not loaded here will read the reversal from the ledger when it is next loaded.
        if (_customers.TryGetValue(customerId, out var customer))
        {
            customer.Escrow.Restore(redemptionId, 1, UtcNow);
        }

        return Task.CompletedTask;
    }

    public async Task<CapUsage> GetUsageAsync(string customerId)
    {
        var customer = await GetAsync(customerId);
        return new CapUsage(customer.Escrow.Used, customer.Escrow.Held);
    }

    private ValueTask<Customer> GetAsync(string customerId)
    {
        if (_customers.TryGetValue(customerId, out var known))
        {
            return ValueTask.FromResult(known);
        }

        if (!_loading.TryGetValue(customerId, out var load))
        {
            load = LoadAsync(customerId);
            _loading[customerId] = load;
        }

        return new ValueTask<Customer>(load);
    }

    private async Task<Customer> LoadAsync(string customerId)
    {
        try
        {
            var totals = await ledger.TotalsAsync(CapScope.Customer, CampaignId, customerId);
            var customer = new Customer(new Escrow()) { LastUsed = UtcNow };
            customer.Escrow.Load(totals.Count, totals.Count, totals.RecentlyReversed, UtcNow);
            _customers[customerId] = customer;
            return customer;
        }
        finally
        {
            _loading.Remove(customerId);
        }
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        // Decide in one turn, then await: other calls interleave during the awaits and may add customers.
        var now = UtcNow;
        var pending = new List<Escrow>();
        foreach (var (id, customer) in _customers)
        {
            if (customer.Escrow.PendingHolds > 0)
            {
                pending.Add(customer.Escrow);
            }
            else if (customer.LastUsed < now - s_idle)
            {
                _customers.Remove(id);
            }
        }

        foreach (var escrow in pending)
        {
            await EscrowGrain.ResolveExpiredHoldsAsync(escrow, ledger, now);
        }

        if (_customers.Count == 0)
        {
            _sweeper?.Dispose();
            _sweeper = null;
        }
    }

    private sealed class Customer(Escrow escrow)
    {
        public Escrow Escrow { get; } = escrow;

        public DateTime LastUsed { get; set; }
    }
}
