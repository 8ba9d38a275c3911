using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;

namespace CouponGrains.Api.Observability;

/// <summary>
/// Health endpoints and Prometheus metrics, the same on every host (silo or API tier). Each host adds
/// its own readiness check for its cluster role with the <see cref="ReadyTag"/> tag.
/// </summary>
public static class ObservabilityExtensions
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    public const string MetricsPath = "/metrics";
    public const string ReadyTag = "ready";

    /// <summary>
    /// Meters exported besides the product's own: HTTP server, Kestrel, Npgsql's pool and commands, Orleans, and
    /// the runtime's (CPU time, GC pauses and heap, bytes allocated, thread pool).
    /// </summary>
    public static readonly string[] Meters =
        [CouponGrainsMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Npgsql", "Microsoft.Orleans",
         "System.Runtime"];

    /// <summary>Needs a <see cref="System.Data.Common.DbDataSource"/> and an <see cref="IGrainFactory"/> in the container.</summary>
    public static IHealthChecksBuilder AddCouponGrainsObservability(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(ObservabilityOptions.Section).Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        services.AddSingleton(options);
        services.AddSingleton<CouponGrainsMetrics>();
        services.AddSingleton<RedemptionMetricsFilter>();
        services.AddHostedService<DatabaseSampler>();
        services.AddHostedService<ThreadPoolProbe>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        return services.AddHealthChecks()
            .AddCheck<StoppingHealthCheck>("stopping", tags: [ReadyTag])
            .AddCheck<PostgresHealthCheck>("postgres", tags: [ReadyTag]);
    }

    /// <summary>
    /// <c>/health/live</c>: the process answers (no I/O, so a slow database never gets it restarted);
    /// <c>/health/ready</c>: every check tagged <see cref="ReadyTag"/> passes; <c>/metrics</c>: Prometheus text.
    /// </summary>
    public static IEndpointRouteBuilder MapCouponGrainsHealthAndMetrics(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false });
        routes.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        var options = routes.ServiceProvider.GetRequiredService<ObservabilityOptions>();
        routes.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(
            (context, next) =>
            {
                if (!options.MetricsPublic && !IsInternal(context.Connection.RemoteIpAddress))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            }), optionsName: null);
        return routes;
    }

    /// <summary>Loopback, RFC 1918, link-local and unique-local addresses (also IPv4-mapped).</summary>
    public static bool IsInternal(IPAddress? address)
    {
        if (address is null)
        {
            return true; // in-process test server: no socket at all
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 10 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
        }

        return address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal;
    }
}
