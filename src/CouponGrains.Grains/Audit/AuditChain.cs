using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CouponGrains.Grains.Audit;

/// <summary>The content of an audit row that the hash chain covers: everything except seq and the hashes.</summary>
public sealed record AuditRowContent(
    long Id, DateTime At, string? ActorKeyId, string? ActorRole, string Action, string EntityType, string EntityId,
    string? ReasonCode, string? Note, string? Documents, string? Before, string? After);

/// <summary>
/// The hash chain's arithmetic: hash = SHA-256(prev_hash || canonical(row)). The canonical form is
/// the row's id, its time in microseconds since the Unix epoch (PostgreSQL's precision), then each text
/// field as a presence byte and length-prefixed UTF-8. JSON fields are taken as PostgreSQL prints jsonb,
/// which is already normalized (key order, whitespace), so a re-read gives the same bytes.
/// </summary>
public static class AuditChain
{
    public const int HashLength = 32;

    /// <summary>The prev_hash of the first sealed row.</summary>
    public static readonly byte[] Genesis = new byte[HashLength];

    /// <summary>
    /// SHA-256 of <paramref name="previous"/> followed by <see cref="Canonical"/>(<paramref name="row"/>), fed to
    /// the hash piece by piece: the sealer hashes every audit row, and building the canonical bytes first
    /// cost a growing buffer and an array per field, per row.
    /// </summary>
    public static byte[] Hash(ReadOnlySpan<byte> previous, AuditRowContent row)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previous);
        var sink = new HashSink(hash);
        Write(row, ref sink);
        return hash.GetHashAndReset();
    }

    /// <summary>The bytes a row's hash covers after its predecessor's hash.</summary>
    public static byte[] Canonical(AuditRowContent row)
    {
        using var stream = new MemoryStream(256);
        var sink = new StreamSink(stream);
        Write(row, ref sink);
        return stream.ToArray();
    }

    /// <summary>
    /// The canonical form, written piece by piece: the row's id and its time in microseconds since the Unix
    /// epoch (big-endian int64s), then each text field as 0, or 1 + big-endian int32 length + UTF-8.
    /// </summary>
    private static void Write<TSink>(AuditRowContent row, ref TSink sink) where TSink : struct, ISink
    {
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteInt64BigEndian(header, row.Id);
        BinaryPrimitives.WriteInt64BigEndian(header[8..], (DateTime.SpecifyKind(row.At, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10);
        sink.Write(header);
        Span<byte> scratch = stackalloc byte[512];
        Span<byte> prefix = stackalloc byte[5];
        prefix[0] = 1;
        foreach (var text in (ReadOnlySpan<string?>)[row.ActorKeyId, row.ActorRole, row.Action, row.EntityType, row.EntityId,
                     row.ReasonCode, row.Note, row.Documents, row.Before, row.After])
        {
            if (text is null)
            {
                sink.Write([0]);
                continue;
            }

            var max = Encoding.UTF8.GetMaxByteCount(text.Length);
            var rented = max > scratch.Length ? ArrayPool<byte>.Shared.Rent(max) : null;
            var bytes = rented ?? scratch;
            var length = Encoding.UTF8.GetBytes(text, bytes);
            BinaryPrimitives.WriteInt32BigEndian(prefix[1..], length);
            sink.Write(prefix);
            sink.Write(bytes[..length]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private interface ISink
    {
        void Write(ReadOnlySpan<byte> bytes);
    }

    private readonly struct HashSink(IncrementalHash hash) : ISink
    {
        public void Write(ReadOnlySpan<byte> bytes) => hash.AppendData(bytes);
    }

    private readonly struct StreamSink(Stream stream) : ISink
    {
        public void Write(ReadOnlySpan<byte> bytes) => stream.Write(bytes);
    }
}
