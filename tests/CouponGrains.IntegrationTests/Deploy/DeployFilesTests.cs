using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CouponGrains.Api;
using CouponGrains.Api.Abuse;
using CouponGrains.Api.Observability;
using CouponGrains.Grains.Approvals;
using CouponGrains.Silo;
using ClusterMembershipOptions = Orleans.Configuration.ClusterMembershipOptions;
using GatewayOptions = Orleans.Configuration.GatewayOptions;

namespace CouponGrains.IntegrationTests.Deploy;

/// <summary>
/// deploy/ can't be run here (no Docker engine), so it is read: every path, project, environment key,
/// port and probe path it names must exist in the code it deploys.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Root = FindRoot();
    private static readonly string[] DeployFiles = Directory.GetFiles(Path.Combine(Root, "deploy"), "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void TheDeployFolderHoldsDockerfilesAComposeFileAndKubernetesManifests()
    {
        var names = DeployFiles.Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).ToHashSet();
        Assert.Contains("deploy/Dockerfile.silo", names);
        Assert.Contains("deploy/Dockerfile.api", names);
        Assert.Contains("deploy/compose.yaml", names);
        var k8s = string.Join('\n', DeployFiles.Where(f => f.Contains("/k8s/", StringComparison.Ordinal)).Select(File.ReadAllText));
        foreach (var kind in new[] { "StatefulSet", "Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret", "Job" })
        {
            Assert.Matches(new Regex($@"(?m)^kind: {kind}$"), k8s);
        }

        Assert.Contains("fieldPath: status.podIP", k8s); // silos advertise their pod IP
    }

    [Fact]
    public void EveryPathAndProjectTheDockerfilesNameExists()
    {
        foreach (var file in DeployFiles.Where(f => Path.GetFileName(f).StartsWith("Dockerfile", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match copy in CopyRegex().Matches(text))
            {
                foreach (var source in copy.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
                {
                    Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)),
                        $"{Path.GetFileName(file)} copies {source}, which does not exist");
                }
            }

            var projects = ProjectRegex().Matches(text).Select(m => m.Value).ToList();
            Assert.NotEmpty(projects);
            Assert.All(projects, p => Assert.True(File.Exists(Path.Combine(Root, p)), $"{Path.GetFileName(file)} names {p}, which does not exist"));
            var entry = EntryRegex().Match(text).Groups[1].Value;
            Assert.Contains(projects, p => Path.GetFileNameWithoutExtension(p) + ".dll" == entry);
        }

        foreach (Match dockerfile in DockerfileRefRegex().Matches(string.Join('\n', DeployFiles.Select(File.ReadAllText))))
        {
            Assert.True(File.Exists(Path.Combine(Root, dockerfile.Groups[1].Value)), $"{dockerfile.Value} does not exist");
        }
    }

    [Fact]
    public void EveryEnvironmentKeyMapsToAConfigurationKeyTheCodeBinds()
    {
        var known = KnownKeys();
        var used = DeployFiles.SelectMany(f => EnvKeyRegex().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Key: m.Value)))
            .ToList();
        Assert.Contains(used, u => u.Key == "ConnectionStrings__Postgres");
        Assert.Contains(used, u => u.Key == "Orleans__AdvertisedIPAddress");
        Assert.All(used, u => Assert.True(known.Contains(u.Key) || u.Key.StartsWith("Logging__", StringComparison.Ordinal),
            $"{u.File}: {u.Key} is not a configuration key the code reads"));
    }

    [Fact]
    public void PortsMatchTheDefaultsAndProbesUseMappedHealthPaths()
    {
        var defaults = new SiloOptions();
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "silo/CouponGrains.Silo/appsettings.json")))!["Orleans"]!;
        Assert.Equal(defaults.SiloPort, settings["SiloPort"]!.GetValue<int>());
        Assert.Equal(defaults.GatewayPort, settings["GatewayPort"]!.GetValue<int>());
        const int containerHttp = 8080; // ASPNETCORE_URLS in both Dockerfiles
        var allowed = new HashSet<int> { containerHttp, defaults.SiloPort, defaults.GatewayPort, 5432 };
        foreach (var file in DeployFiles)
        {
            var text = File.ReadAllText(file);
            if (Path.GetFileName(file).StartsWith("Dockerfile", StringComparison.Ordinal))
            {
                Assert.Contains($"ASPNETCORE_URLS=http://+:{containerHttp}", text);
            }

            var ports = ContainerPortRegex().Matches(text).Select(m => int.Parse(m.Groups[1].Value))
                .Concat(ComposePortRegex().Matches(text).Select(m => int.Parse(m.Groups[1].Value)))
                .Concat(ExposeRegex().Matches(text).SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse))
                .Concat(Regex.Matches(text, @"/dev/tcp/127\.0\.0\.1/(\d+)").Select(m => int.Parse(m.Groups[1].Value)))
                .Concat(Regex.Matches(text, @"Orleans__(?:Silo|Gateway)Port:\s*""?(\d+)").Select(m => int.Parse(m.Groups[1].Value)));
            Assert.All(ports, p => Assert.True(allowed.Contains(p), $"{Path.GetFileName(file)}: port {p} is not one the processes listen on"));

            var paths = ProbePathRegex().Matches(text).Select(m => m.Groups[1].Value)
                .Concat(Regex.Matches(text, @"GET (/\S+) HTTP").Select(m => m.Groups[1].Value));
            Assert.All(paths, p => Assert.Contains(p, new[] { ObservabilityExtensions.LivePath, ObservabilityExtensions.ReadyPath, ObservabilityExtensions.MetricsPath }));
        }

        var k8s = string.Join('\n', DeployFiles.Where(f => f.Contains("/k8s/", StringComparison.Ordinal)).Select(File.ReadAllText));
        Assert.Contains($"path: {ObservabilityExtensions.ReadyPath}", k8s);
        Assert.Contains($"path: {ObservabilityExtensions.LivePath}", k8s);
    }

    /// <summary>The environment form of every key the hosts bind: option classes by section, plus the few read directly.</summary>
    private static HashSet<string> KnownKeys()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal)
        {
            "ConnectionStrings__Postgres", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT",
        };
        void Add(string section, Type options)
        {
            foreach (var property in options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                keys.Add($"{section.Replace(":", "__")}__{property.Name}");
            }
        }

        Add("Orleans", typeof(SiloOptions));
        Add(SiloCluster.MembershipSection, typeof(ClusterMembershipOptions));
        Add("Orleans:Gateway", typeof(GatewayOptions));
        Add("Api", typeof(ApiOptions));
        Add(AbuseOptions.Section, typeof(AbuseOptions));
        Add(ApprovalOptions.Section, typeof(ApprovalOptions));
        Add(ObservabilityOptions.Section, typeof(ObservabilityOptions));
        return keys;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CouponGrains.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("CouponGrains.sln not found above the test binaries.");
    }

    [GeneratedRegex(@"(?m)^COPY (?!--from)(.+)$")]
    private static partial Regex CopyRegex();

    [GeneratedRegex(@"(?:src|silo|client)/[\w./-]+\.csproj")]
    private static partial Regex ProjectRegex();

    [GeneratedRegex(@"ENTRYPOINT \[""dotnet"", ""([\w.]+\.dll)""\]")]
    private static partial Regex EntryRegex();

    [GeneratedRegex(@"dockerfile: (deploy/[\w.]+)")]
    private static partial Regex DockerfileRefRegex();

    [GeneratedRegex(@"\b(?:ConnectionStrings|Orleans|Api|Abuse|Approvals|Observability|Logging)__[A-Za-z_]+[A-Za-z]|\bASPNETCORE_[A-Z_]+[A-Z]")]
    private static partial Regex EnvKeyRegex();

    [GeneratedRegex(@"containerPort: (\d+)")]
    private static partial Regex ContainerPortRegex();

    [GeneratedRegex(@"- ""\d+:(\d+)""")]
    private static partial Regex ComposePortRegex();

    [GeneratedRegex(@"(?m)^EXPOSE ([\d ]+)$")]
    private static partial Regex ExposeRegex();

    [GeneratedRegex(@"path: (/[\w/]+)")]
    private static partial Regex ProbePathRegex();
}
