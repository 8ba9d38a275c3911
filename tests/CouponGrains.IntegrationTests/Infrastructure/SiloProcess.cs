using System.Diagnostics;

namespace CouponGrains.IntegrationTests.Infrastructure;

/// <summary>
/// The silo as its own OS process, so a test can SIGKILL it: a real crash, not a graceful stop.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private SiloProcess(Process process, Uri url, StreamWriter log, Ports ports)
    {
        _process = process;
        Url = url;
        _log = log;
        Endpoints = ports;
    }

    /// <summary>HTTP, silo and gateway ports. A restarted silo reuses them, as a real deployment does: a
    /// newer generation on the same endpoint supersedes the dead one at once.</summary>
    public sealed record Ports(int Http, int Silo, int Gateway)
    {
        public static Ports Free() => new(TestPostgres.FreePort(), TestPostgres.FreePort(), TestPostgres.FreePort());
    }

    public Uri Url { get; }

    public Ports Endpoints { get; }

    public static async Task<SiloProcess> StartAsync(string connectionString, string clusterId, string adminKey, Ports? ports = null)
    {
        ports ??= Ports.Free();
        var port = ports.Http;
        var silo = Path.Combine(AppContext.BaseDirectory, "CouponGrains.Silo.dll");
        var info = new ProcessStartInfo("dotnet", [silo, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.Environment["ConnectionStrings__Postgres"] = connectionString;
        info.Environment["Api__BootstrapAdminKey"] = adminKey;
        info.Environment["Orleans__ClusterId"] = clusterId;
        info.Environment["Orleans__SiloPort"] = ports.Silo.ToString();
        info.Environment["Orleans__GatewayPort"] = ports.Gateway.ToString();
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var log = new StreamWriter(Path.Combine(Path.GetTempPath(), $"silo-{clusterId}-{port}.log")) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the silo");
        process.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var silo1 = new SiloProcess(process, new Uri($"http://127.0.0.1:{port}"), log, ports);
        await silo1.WaitReadyAsync();
        return silo1;
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The silo exited with {_process.ExitCode} before it was ready.");
            }

            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The silo did not become ready within 90 s.");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, in-memory state gone.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        await _log.DisposeAsync();
    }
}
