using System.Buffers.Binary;
using VectorStore.Lifecycle;

namespace VectorStore.Storage;

/// <summary>
/// A <see cref="LifecyclePolicy"/> as logged (generation record op 4) and snapshotted (data-format.md §4.3): 53 bytes,
/// little-endian. Thread-safety: stateless.
/// </summary>
internal static class PolicyCodec
{
    public const int Size = 4 + 1 + 8 + 4 + 8 + 8 + 8 + 4 + 8;

    public static byte[] Encode(LifecyclePolicy p)
    {
        var b = new byte[Size];
        var s = b.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(s, p.RetainRetired);
        s[4] = (byte)((p.RebalanceOnDrift ? 1 : 0) | (p.BuildCandidateOnDrift ? 2 : 0) | (p.PromoteWhenGatePasses ? 4 : 0));
        BinaryPrimitives.WriteDoubleLittleEndian(s[5..], p.CanaryRate);
        BinaryPrimitives.WriteInt32LittleEndian(s[13..], p.Gate.MinExactQueries);
        BinaryPrimitives.WriteDoubleLittleEndian(s[17..], p.Gate.MaxRecallLoss);
        BinaryPrimitives.WriteDoubleLittleEndian(s[25..], p.Gate.MaxP99Factor);
        BinaryPrimitives.WriteDoubleLittleEndian(s[33..], p.RollbackRecallFloor ?? double.NaN);
        BinaryPrimitives.WriteInt32LittleEndian(s[41..], p.BuildVectorsPerSecond);
        BinaryPrimitives.WriteDoubleLittleEndian(s[45..], 0); // reserved
        return b;
    }

    /// <summary>Decodes and validates; damage is a <see cref="StoreCorruptedException"/> naming <paramref name="where"/>.</summary>
    public static LifecyclePolicy Decode(ReadOnlySpan<byte> s, string where)
    {
        if (s.Length != Size) throw new StoreCorruptedException(where, $"lifecycle policy is {s.Length} bytes, expected {Size}");
        if ((s[4] & ~7) != 0) throw new StoreCorruptedException(where, $"lifecycle policy flags {s[4]} are invalid");
        double floor = BinaryPrimitives.ReadDoubleLittleEndian(s[33..]);
        var p = new LifecyclePolicy
        {
            RetainRetired = BinaryPrimitives.ReadInt32LittleEndian(s),
            RebalanceOnDrift = (s[4] & 1) != 0,
            BuildCandidateOnDrift = (s[4] & 2) != 0,
            PromoteWhenGatePasses = (s[4] & 4) != 0,
            CanaryRate = BinaryPrimitives.ReadDoubleLittleEndian(s[5..]),
            Gate = new PromotionGate
            {
                MinExactQueries = BinaryPrimitives.ReadInt32LittleEndian(s[13..]),
                MaxRecallLoss = BinaryPrimitives.ReadDoubleLittleEndian(s[17..]),
                MaxP99Factor = BinaryPrimitives.ReadDoubleLittleEndian(s[25..]),
            },
            RollbackRecallFloor = double.IsNaN(floor) ? null : floor,
            BuildVectorsPerSecond = BinaryPrimitives.ReadInt32LittleEndian(s[41..]),
        };
        try { p.Validate(); }
        catch (InvalidArgumentException e) { throw new StoreCorruptedException(where, $"lifecycle policy is invalid: {e.Message}", e); }
        return p;
    }
}
