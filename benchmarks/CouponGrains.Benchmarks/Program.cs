using BenchmarkDotNet.Running;

namespace CouponGrains.Benchmarks;

public static class Program
{
    /// <summary>
    /// Runs the benchmarks BenchmarkDotNet's arguments select, e.g.
    /// <c>dotnet run -c Release --project benchmarks/CouponGrains.Benchmarks -- --filter '*' --job short</c>.
    /// </summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
