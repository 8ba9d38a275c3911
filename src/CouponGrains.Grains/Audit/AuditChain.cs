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

    public static byte[] Hash(ReadOnlySpan<byte> previous, AuditRowContent row)
    {
        var content = Canonical(row);
        var buffer = new byte[previous.Length + content.Length];
        previous.CopyTo(buffer);
        content.CopyTo(buffer, previous.Length);
        return SHA256.HashData(buffer);
    }

    public static byte[] Canonical(AuditRowContent row)
    {
        using var stream = new MemoryStream(256);
        Span<byte> number = stackalloc byte[8];
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt64BigEndian(number, row.Id);
        stream.Write(number);
        var micros = (DateTime.SpecifyKind(row.At, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10;
        BinaryPrimitives.WriteInt64BigEndian(number, micros);
        stream.Write(number);
        foreach (var text in (string?[])[row.ActorKeyId, row.ActorRole, row.Action, row.EntityType, row.EntityId,
                     row.ReasonCode, row.Note, row.Documents, row.Before, row.After])
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
}
