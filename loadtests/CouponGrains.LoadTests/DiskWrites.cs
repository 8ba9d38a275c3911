using System.Text.RegularExpressions;

namespace CouponGrains.LoadTests;

/// <summary>
/// MB written to this machine's disks, second by second (sectors written in <c>/proc/diskstats</c>, whole disks
/// only). On the bench's one box PostgreSQL's newly extended table and index pages sit dirty in the page cache until
/// the kernel writes them back in one burst about every 30 s, and a WAL flush in that second waits behind the burst:
/// the timeline shows it next to the second's p99. Linux only; it means something only when PostgreSQL runs on the
/// console's machine.
/// </summary>
public sealed partial class DiskWrites
{
    private const string DiskStats = "/proc/diskstats";
    private long _sectors;

    private DiskWrites(long sectors) => _sectors = sectors;

    /// <summary>A sampler, or null where the kernel does not report its disks.</summary>
    public static DiskWrites? TryOpen() =>
        File.Exists(DiskStats) && SectorsWritten(File.ReadAllText(DiskStats)) is { } sectors ? new DiskWrites(sectors) : null;

    /// <summary>MB written since the last call (null when the file could not be read this time).</summary>
    public double? Take()
    {
        try
        {
            if (SectorsWritten(File.ReadAllText(DiskStats)) is not { } sectors)
            {
                return null;
            }

            // diskstats counts 512-byte sectors whatever the device's own sector size.
            return Math.Max(0, Math.Round((sectors - Interlocked.Exchange(ref _sectors, sectors)) * 512.0 / (1 << 20), 1));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Sectors written to the whole disks (sd, vd, xvd, nvme namespaces; not their partitions, loop or device-mapper
    /// devices, which would count the same writes twice) of a <c>/proc/diskstats</c> text, or null when it lists none.
    /// </summary>
    public static long? SectorsWritten(string diskstats)
    {
        long? total = null;
        foreach (var line in diskstats.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 10 && WholeDisk().IsMatch(fields[2]) && long.TryParse(fields[9], out var sectors))
            {
                total = (total ?? 0) + sectors;
            }
        }

        return total;
    }

    [GeneratedRegex(@"^((s|v|xv)d[a-z]+|nvme\d+n\d+)$")]
    private static partial Regex WholeDisk();
}
