using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Api.Models;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Dealers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public static class DealerEndpoints
{
    public static RouteGroupBuilder MapDealerEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/dealers").WithTags("Dealers");
        group.MapPut("/{dealerId}", UpsertAsync).WithName("UpsertDealer").WithSummary("Create or replace a dealer profile")
            .RequireAuthorization(Policies.CampaignEditors);
        group.MapGet("/{dealerId}", GetAsync).WithName("GetDealer").WithSummary("Read a dealer profile")
            .RequireAuthorization(Policies.Redeemers);
        return group;
    }

    public static async Task<Results<Ok<DealerProfile>, ProblemHttpResult>> UpsertAsync(
        string dealerId, DealerRequest body, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new List<FieldError>();
        if (body.ToContract(dealerId, errors) is not { } profile)
        {
            return Problems.Invalid(errors);
        }

        var saved = await grains.Ref<IDealerGrain>(GrainKeys.Dealer(dealerId)).UpsertAsync(profile, user.ToActor());
        return TypedResults.Ok(saved);
    }

    public static async Task<Results<Ok<DealerProfile>, ProblemHttpResult>> GetAsync(string dealerId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!user.MayAccessDealer(dealerId) || !Contracts.Coupons.CodeFormat.IsValidId(dealerId))
        {
            return Problems.NotFound("dealer");
        }

        var profile = await grains.Ref<IDealerGrain>(GrainKeys.Dealer(dealerId)).GetAsync();
        return profile is null ? Problems.NotFound("dealer") : TypedResults.Ok(profile);
    }
}
