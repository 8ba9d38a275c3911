using System.Security.Claims;
using CouponGrains.Api.Auth;
using CouponGrains.Api.Http;
using CouponGrains.Api.Models;
using CouponGrains.Contracts;
using CouponGrains.Contracts.Coupons;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CouponGrains.Api.Endpoints;

public static class CouponEndpoints
{
    public static RouteGroupBuilder MapCouponEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/coupons").WithTags("Coupons");
        group.MapGet("/{code}", GetAsync).WithName("GetCoupon").WithSummary("Read a coupon and its uses")
            .RequireAuthorization(Policies.Redeemers);
        return group;
    }

    /// <summary>Staff see any coupon; a dealer sees only coupons bound to it. Anything else is 404, never a hint.</summary>
    public static async Task<Results<Ok<CouponResponse>, ProblemHttpResult>> GetAsync(string code, ClaimsPrincipal user, IGrainFactory grains)
    {
        var normalized = CodeFormat.NormalizeCode(code);
        var coupon = normalized is null ? null : await grains.Ref<ICouponGrain>(GrainKeys.Coupon(normalized)).GetAsync();
        var visible = coupon is not null && (user.DealerId() is null || coupon.DealerId == user.DealerId());
        return visible ? TypedResults.Ok(coupon!.ToResponse()) : Problems.NotFound("coupon");
    }
}
