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

    public static Task<SiloProcess> StartAsync(string connectionString, string clusterId, string adminKey, Ports? ports = null) =>
        StartAsync("CouponGrains.Silo.dll", connectionString, clusterId, adminKey, ports);

    /// <summary>An API host (client/): an Orleans client reaching the cluster through its gateways.</summary>
    public static Task<SiloProcess> StartApiHostAsync(string connectionString, string clusterId, int? httpPort = null) =>
        StartAsync("CouponGrains.Client.dll", connectionString, clusterId, adminKey: null,
            new Ports(httpPort ?? TestPostgres.FreePort(), 0, 0));

    private static async Task<SiloProcess> StartAsync(string program, string connectionString, string clusterId, string? adminKey, Ports? ports)
    {
        ports ??= Ports.Free();
        var port = ports.Http;
        var silo = Path.Combine(AppContext.BaseDirectory, program);
        var info = new ProcessStartInfo("dotnet", [silo, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.Environment["ConnectionStrings__Postgres"] = connectionString;
        info.Environment["Orleans__ClusterId"] = clusterId;
        if (adminKey is not null)
        {
            info.Environment["Api__BootstrapAdminKey"] = adminKey;
            info.Environment["Orleans__SiloPort"] = ports.Silo.ToString();
            info.Environment["Orleans__GatewayPort"] = ports.Gateway.ToString();
            // The test silos run the dashboard off: three of them on two cores need the CPU for requests.
            info.Environment["Orleans__Dashboard"] = "false";
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        // How a silo joins, is declared dead and shuts down: what a failed restart test needs to be explained.
        info.Environment["Logging__LogLevel__Orleans.Runtime.MembershipService"] = "Information";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        info.Environment["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Appended, not overwritten: a silo restarted on the same ports writes to the same file, and the log of the
        // process it replaced (how it shut down) is the one a failed rolling restart needs.
        var log = new StreamWriter(Path.Combine(Path.GetTempPath(), $"{Path.GetFileNameWithoutExtension(program)}-{clusterId}-{port}.log"), append: true)
            { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the silo");
        lock (log)
        {
            log.WriteLine($"== process {process.Id} started {DateTime.UtcNow:HH:mm:ss.fff} UTC");
        }

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

    public int ProcessId => _process.Id;

    /// <summary>SIGTERM, as an orchestrator stops a pod: the host shuts down gracefully (a silo leaves the cluster).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
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
