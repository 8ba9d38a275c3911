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
        Span<byte> header = stackalloc byte[16];
        WriteHeader(header, row);
        hash.AppendData(header);
        Span<byte> scratch = stackalloc byte[512];
        Span<byte> prefix = stackalloc byte[5];
        prefix[0] = 1;
        foreach (var text in Fields(row))
        {
            if (text is null)
            {
                hash.AppendData([0]);
                continue;
            }

            var max = Encoding.UTF8.GetMaxByteCount(text.Length);
            var rented = max > scratch.Length ? ArrayPool<byte>.Shared.Rent(max) : null;
            var bytes = rented ?? scratch;
            var length = Encoding.UTF8.GetBytes(text, bytes);
            BinaryPrimitives.WriteInt32BigEndian(prefix[1..], length);
            hash.AppendData(prefix);
            hash.AppendData(bytes[..length]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return hash.GetHashAndReset();
    }

    /// <summary>The bytes a row's hash covers after its predecessor's hash: the definition <see cref="Hash"/> follows.</summary>
    public static byte[] Canonical(AuditRowContent row)
    {
        using var stream = new MemoryStream(256);
        Span<byte> header = stackalloc byte[16];
        WriteHeader(header, row);
        stream.Write(header);
        Span<byte> length = stackalloc byte[4];
        foreach (var text in Fields(row))
        {
            if (text is null)
            {
                stream.WriteByte(0);
                continue;
            }

            var bytes = Encoding.UTF8.GetBytes(text);
            stream.WriteByte(1);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            stream.Write(length);
            stream.Write(bytes);
        }

        return stream.ToArray();
    }

    /// <summary>The row's id, then its time in microseconds since the Unix epoch, both big-endian.</summary>
    private static void WriteHeader(Span<byte> header, AuditRowContent row)
    {
        BinaryPrimitives.WriteInt64BigEndian(header, row.Id);
        var micros = (DateTime.SpecifyKind(row.At, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10;
        BinaryPrimitives.WriteInt64BigEndian(header[8..], micros);
    }

    private static string?[] Fields(AuditRowContent row) =>
        [row.ActorKeyId, row.ActorRole, row.Action, row.EntityType, row.EntityId, row.ReasonCode, row.Note, row.Documents, row.Before, row.After];
}
