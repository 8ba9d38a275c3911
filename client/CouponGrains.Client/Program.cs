using System.Data.Common;
using CouponGrains.Api;
using CouponGrains.Api.Observability;
using CouponGrains.Client;
using Npgsql;
using Orleans.Configuration;

// The API tier on its own: an Orleans client that joins the cluster through ADO.NET clustering on
// PostgreSQL and serves the same endpoints the silo co-hosts. Scale these separately from silos.
var builder = WebApplication.CreateBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Postgres") is { Length: > 0 } cs
    ? cs
    : throw new InvalidOperationException("ConnectionStrings:Postgres is not set (env ConnectionStrings__Postgres).");
var connection = new ClusterConnection();
builder.UseOrleansClient(client =>
{
    client.Configure<ClusterOptions>(o =>
    {
        o.ClusterId = builder.Configuration["Orleans:ClusterId"] ?? "coupongrains";
        o.ServiceId = builder.Configuration["Orleans:ServiceId"] ?? "coupongrains";
    });
    client.UseAdoNetClustering(o =>
    {
        o.Invariant = "Npgsql";
        o.ConnectionString = connectionString;
    });
    // Orleans:Gateway:GatewayListRefreshPeriod: how soon a new or returning silo's gateway is used.
    client.Services.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(10));
    client.Services.Configure<GatewayOptions>(builder.Configuration.GetSection(ClusterConnection.GatewaySection));
    client.UseConnectionRetryFilter(connection);
    client.AddClusterConnectionStatusObserver(connection);
});
builder.Services.AddSingleton(connection);
builder.Services.AddSingleton<DbDataSource>(_ => NpgsqlDataSource.Create(connectionString));
builder.Services.AddCouponGrainsApi(builder.Configuration);
builder.Services.AddHealthChecks().AddCheck("orleans-client", connection, tags: [ObservabilityExtensions.ReadyTag]);

var app = builder.Build();
app.UseCouponGrainsApi();
app.MapCouponGrainsApi();
await app.RunAsync();
