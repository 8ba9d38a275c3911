using CouponGrains.Api;
using Orleans.Configuration;

// The API tier on its own: an Orleans client that joins the cluster through ADO.NET clustering on
// PostgreSQL and serves the same endpoints the silo co-hosts. Scale these separately from silos.
var builder = WebApplication.CreateBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Postgres") is { Length: > 0 } cs
    ? cs
    : throw new InvalidOperationException("ConnectionStrings:Postgres is not set (env ConnectionStrings__Postgres).");
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
});
builder.Services.AddCouponGrainsApi(builder.Configuration);

var app = builder.Build();
app.UseCouponGrainsApi();
app.MapCouponGrainsApi();
app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" })).ExcludeFromDescription();
app.MapGet("/health/ready", (IClusterClient client) => TypedResults.Ok(new { status = "ready" })).ExcludeFromDescription();
await app.RunAsync();
