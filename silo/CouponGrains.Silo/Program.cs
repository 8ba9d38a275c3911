using CouponGrains.Api;
using CouponGrains.Grains.Storage;
using CouponGrains.Silo;

var demo = args.Contains("--demo");
var builder = WebApplication.CreateBuilder(args.Where(a => a is not ("--demo" or "--verify-audit" or "--migrate-only")).ToArray());
await MigrationRunner.ApplyAsync(builder.Configuration.PostgresConnectionString());
if (args.Contains("--migrate-only"))
{
    // A deployment's migration step (compose service, Kubernetes Job): apply and exit, start nothing.
    return;
}

if (args.Contains("--verify-audit"))
{
    // Verify the audit trail's hash chain and exit: 0 intact, 1 broken.
    Environment.ExitCode = await AuditVerifyCommand.RunAsync(builder.Configuration.PostgresConnectionString());
    return;
}

builder.AddCouponGrainsSilo();
builder.Services.AddCouponGrainsApi(builder.Configuration);
if (demo)
{
    builder.Services.AddHostedService<DemoSeeder>();
}

var app = builder.Build();
await app.BootstrapAdminKeyAsync();
app.UseCouponGrainsApi();
app.MapCouponGrainsApi();
app.MapSiloEndpoints();
app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var url in app.Urls)
    {
        app.Logger.LogInformation("CouponGrains API {Url}/api/v1  docs {Url}/docs  dashboard {Url}/dashboard", url, url, url);
    }
});
await app.RunAsync();

/// <summary>Lets the API tests host this program with WebApplicationFactory.</summary>
public partial class Program;
