using System.Numerics;

namespace VectorStore.Quantization;

/// <summary>
/// The byte range a run of entries takes in a block layout, for the indexes that scan codes in chunks (flat, IVF
/// lists). Stateless and thread-safe.
/// </summary>
internal static class BlockCodecRanges
{
    /// <summary>
    /// The packed bytes, in <paramref name="codes"/>, of entries [<paramref name="start"/>, <paramref name="start"/> +
    /// <paramref name="count"/>) of <paramref name="layout"/>; <paramref name="start"/> is on a block boundary and the
    /// last block may be partly filled.
    /// </summary>
    /// <remarks>
    /// By shift, not division: dividing by the interface's <see cref="IBlockCodec.BlockVectors"/> compiled to two idiv
    /// per scanned chunk (per probed list in IVF). Every layout holds a power of two of codes (32); another is refused.
    /// </remarks>
    public static Span<byte> Range(this IBlockCodec layout, byte[] codes, int start, int count)
    {
        int bv = layout.BlockVectors, bb = layout.BlockBytes;
        if (!BitOperations.IsPow2(bv)) throw new ArgumentException($"a block layout of {bv} codes: a power of two is required", nameof(layout));
        int shift = BitOperations.TrailingZeroCount(bv);
        return codes.AsSpan((start >> shift) * bb, ((count + bv - 1) >> shift) * bb);
    }
}
