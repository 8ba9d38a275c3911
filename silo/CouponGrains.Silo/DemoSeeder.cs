using CouponGrains.Api;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Access;
using CouponGrains.Contracts.Campaigns;
using CouponGrains.Contracts.Dealers;

namespace CouponGrains.Silo;

/// <summary>With <c>--demo</c>: seeds dealers, an approved campaign with a public code and single-use codes, and a dealer key.</summary>
public sealed class DemoSeeder(IHostApplicationLifetime lifetime, IGrainFactory grains, ApiOptions api, ILogger<DemoSeeder> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        var actor = new Actor("demo-seeder", Roles.Admin, null);
        string[] regions = ["west", "north", "south", "east"];
        for (var i = 101; i <= 105; i++)
        {
            var region = regions[i % regions.Length];
            await grains.Ref<IDealerGrain>(GrainKeys.Dealer($"D-{i}")).UpsertAsync(new DealerProfile
            {
                Id = $"D-{i}",
                Name = $"Demo Dealer {i}",
                Region = region,
                ChannelTier = i % 2 == 0 ? ChannelTiers.ServiceCenter : ChannelTiers.Dealer,
                Branches = [new Branch { Id = $"D-{i}-MAIN", Name = "Main branch", Region = region }],
            }, actor);
        }

        const string campaignId = "C-DEMO-BRAKES";
        var campaign = grains.Ref<ICampaignGrain>(GrainKeys.Campaign(campaignId));
        if (await campaign.GetAsync() is null)
        {
            var now = DateTime.UtcNow;
            await campaign.CreateAsync(new CampaignDefinition
            {
                Name = "Brake-pad push (demo)",
                Kind = "dealer_promo",
                Currency = "INR",
                Budget = 50_000_000,
                ValidFrom = DateTime.SpecifyKind(now.AddDays(-1).Date, DateTimeKind.Unspecified),
                ValidUntil = DateTime.SpecifyKind(now.AddDays(60).Date, DateTimeKind.Unspecified),
                TimeZone = "Asia/Kolkata",
                Discount = new DiscountDefinition { Type = DiscountTypes.Percent, Percent = 10, MaxAmount = 500_000 },
                Eligibility = new EligibilityRules { Categories = ["brakes"], MinOrderValue = 100_000 },
                Caps = new CapsDefinition { PerDealerAmount = 2_000_000, PerBranchRedemptions = 500, PerCustomerRedemptions = 3 },
                MarginFloorPercent = 12,
            }, actor);
            await campaign.TransitionAsync(LifecycleAction.Submit, "demo", actor);
            // Separation of duties: the campaign's approver is not its creator.
            await campaign.TransitionAsync(LifecycleAction.Approve, "demo", new Actor("demo-finance", Roles.Finance, null));
            await campaign.IssueCouponsAsync(new CouponIssueRequest { NamedCode = "BRAKES10" }, actor);
        }

        var codes = await campaign.IssueCouponsAsync(new CouponIssueRequest { Count = 5, Prefix = "DLR", DealerId = "D-104" }, actor);
        var dealerKey = await grains.Ref<IApiKeyGrain>(GrainKeys.ApiKeys).IssueAsync("demo dealer D-104", Roles.Dealer, "D-104", actor);
        logger.LogWarning(
            """
            Demo data ready.
              admin key:         {AdminKey}
              dealer D-104 key:  {DealerKey}
              campaign:          {Campaign} (public code BRAKES10)
              D-104 codes:       {Codes}
            """,
            api.BootstrapAdminKey ?? "(set Api__BootstrapAdminKey)", dealerKey.Key, campaignId, string.Join(", ", codes.Codes));
    }
}
