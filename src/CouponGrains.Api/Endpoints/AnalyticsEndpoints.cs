using System.Text;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Analytics;
using CouponGrains.Contracts.Coupons;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

/// <summary>Analytics from the pipeline's tables: redemptions, discount and margin impact by dimension, budget burn, lift, KPIs.</summary>
public static class AnalyticsEndpoints
{
    public static RouteGroupBuilder MapAnalyticsEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/analytics").WithTags("Analytics").RequireAuthorization(Policies.Staff);
        group.MapGet("/redemptions", RedemptionsAsync).WithName("AnalyticsRedemptions")
            .WithSummary("Redemptions, discount, units, revenue, cost, gross margin and margin impact grouped by " +
                         "campaign|dealer|region|channel_tier|day|sku|category; format=csv for CSV");
        group.MapGet("/campaigns/{id}/burn", BurnAsync).WithName("AnalyticsBudgetBurn").WithSummary("A campaign's budget burn per day");
        group.MapGet("/campaigns/{id}/lift", LiftAsync).WithName("AnalyticsLift").WithSummary("A campaign's incremental lift against its documented baseline");
        group.MapGet("/kpis", KpisAsync).WithName("AnalyticsKpis")
            .WithSummary("Exception-approval rate, claim rejection rate and reasons, time to settlement, fraud flags per 1,000 redemptions");
        return group;
    }

    public static async Task<Results<Ok<AnalyticsRow[]>, FileContentHttpResult, ProblemHttpResult>> RedemptionsAsync(IGrainFactory grains,
        string? groupBy, string? campaignId, string? dealerId, string? from, string? to, string? format)
    {
        var errors = new List<FieldError>();
        var dimension = PipelineQuery.OneOf(groupBy ?? AnalyticsDimensions.Campaign, "groupBy", AnalyticsDimensions.All, errors);
        var filter = Filter(campaignId, dealerId, from, to, errors);
        PipelineQuery.OneOf(format, "format", ["json", "csv"], errors);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var rows = await grains.Ref<IAnalyticsGrain>(0).RedemptionsAsync(dimension!, filter);
        if (format != "csv")
        {
            return TypedResults.Ok(rows);
        }

        var csv = new StringBuilder($"{dimension},currency,redemptions,reversals,discount,reversed_discount,net_discount,eligible_value," +
            "discount_rate_bps,margin_impact,units,returned_units,net_units,revenue,returned_revenue,net_revenue,costed_revenue," +
            "uncosted_revenue,cost,margin_before_discount,margin_after_discount,gross_margin_bps,gross_margin_before_discount_bps\n");
        foreach (var r in rows)
        {
            Csv.Row(csv, r.Key, r.Currency ?? "", N(r.Redemptions), N(r.Reversals), N(r.Discount), N(r.ReversedDiscount),
                N(r.NetDiscount), N(r.EligibleValue), Optional(r.DiscountRateBps), N(r.MarginImpact), N(r.Units), N(r.ReturnedUnits),
                N(r.NetUnits), N(r.Revenue), N(r.ReturnedRevenue), N(r.NetRevenue), N(r.CostedRevenue), N(r.UncostedRevenue), N(r.Cost),
                Optional(r.MarginBeforeDiscount), Optional(r.MarginAfterDiscount), Optional(r.GrossMarginBps),
                Optional(r.GrossMarginBeforeDiscountBps));
        }

        return TypedResults.File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv; charset=utf-8", $"redemptions-by-{dimension}.csv");
    }

    public static async Task<Results<Ok<BurnPoint[]>, ProblemHttpResult>> BurnAsync(IGrainFactory grains, string id) =>
        CodeFormat.IsValidId(id) ? TypedResults.Ok(await grains.Ref<IAnalyticsGrain>(0).BudgetBurnAsync(id)) : Problems.NotFound("campaign");

    public static async Task<Results<Ok<CampaignLift>, ProblemHttpResult>> LiftAsync(IGrainFactory grains, string id) =>
        CodeFormat.IsValidId(id) ? TypedResults.Ok(await grains.Ref<IAnalyticsGrain>(0).LiftAsync(id)) : Problems.NotFound("campaign");

    public static async Task<Results<Ok<AnalyticsKpis>, ProblemHttpResult>> KpisAsync(IGrainFactory grains, string? campaignId, string? dealerId,
        string? from, string? to)
    {
        var errors = new List<FieldError>();
        var filter = Filter(campaignId, dealerId, from, to, errors);
        return errors.Count > 0 ? Problems.Invalid(errors) : TypedResults.Ok(await grains.Ref<IAnalyticsGrain>(0).KpisAsync(filter));
    }

    private static AnalyticsFilter Filter(string? campaignId, string? dealerId, string? from, string? to, List<FieldError> errors) => new()
    {
        CampaignId = PipelineQuery.Id(campaignId, "campaignId", errors),
        DealerId = PipelineQuery.Id(dealerId, "dealerId", errors),
        From = PipelineQuery.Date(from, "from", errors),
        To = PipelineQuery.Date(to, "to", errors),
    };

    private static string N(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Optional(long? value) => value is { } v ? N(v) : "";
}
