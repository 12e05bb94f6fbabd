using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace VectorStore.Distance;

/// <summary>
/// Positions of the 16-bit values that are at most a limit, in ascending order: the integer-domain pruning step of
/// the fast-scan kernels, where a bounded top-k keeps only a small fraction of the scanned codes and converting every
/// sum to a float distance (and offering it to the heap) would cost more than computing it. Vector512/256/128 compare
/// and move-mask with a scalar tail, and an Arm64 path that tests 32 values at once (Arm has no move-mask); every path
/// equals <see cref="ComputeScalar"/>. Stateless and thread-safe.
/// </summary>
public static class SelectAtMost
{
    /// <summary>
    /// Writes <c>offset + i</c> for every i with <c>values[i] ≤ limit</c> into <paramref name="positions"/>
    /// (ascending) and returns how many. <paramref name="positions"/> must hold <c>values.Length</c> entries.
    /// </summary>
    public static int Compute(ReadOnlySpan<ushort> values, ushort limit, Span<int> positions, int offset = 0)
    {
        if (positions.Length < values.Length) ThrowShort();
        ref ushort v = ref MemoryMarshal.GetReference(values);
        ref int p = ref MemoryMarshal.GetReference(positions);
        int n = values.Length, i = 0, found = 0;
        if (limit == ushort.MaxValue)
        {
            // Everything passes (a heap that is not full yet): no compares needed.
            for (; i < n; i++) Unsafe.Add(ref p, i) = offset + i;
            return n;
        }
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            var lim = Vector512.Create(limit);
            for (; i <= n - 32; i += 32)
                found = Emit(Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref v, (nuint)i), lim).ExtractMostSignificantBits(), offset + i, ref p, found);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 16)
        {
            var lim = Vector256.Create(limit);
            for (; i <= n - 16; i += 16)
                found = Emit(Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref v, (nuint)i), lim).ExtractMostSignificantBits(), offset + i, ref p, found);
        }
        if (AdvSimd.Arm64.IsSupported && n - i >= 32)
            (i, found) = ComputeNeon(ref v, i, n, limit, ref p, offset, found);
        if (Vector128.IsHardwareAccelerated && n - i >= 8)
        {
            var lim = Vector128.Create(limit);
            for (; i <= n - 8; i += 8)
                found = Emit(Vector128.LessThanOrEqual(Vector128.LoadUnsafe(ref v, (nuint)i), lim).ExtractMostSignificantBits(), offset + i, ref p, found);
        }
        for (; i < n; i++)
            if (Unsafe.Add(ref v, i) <= limit) Unsafe.Add(ref p, found++) = offset + i;
        return found;
    }

    /// <summary>The scalar reference.</summary>
    public static int ComputeScalar(ReadOnlySpan<ushort> values, ushort limit, Span<int> positions, int offset = 0)
    {
        if (positions.Length < values.Length) ThrowShort();
        int found = 0;
        for (int i = 0; i < values.Length; i++)
            if (values[i] <= limit) positions[found++] = offset + i;
        return found;
    }

    /// <summary>
    /// 32 values per step. Once the heap is full most steps pass nothing, and one <c>umaxv</c> over the four compare
    /// results says so; only then are the masks built, without a move-mask: <c>xtn</c>/<c>xtn2</c> narrow 16 lanes to
    /// bytes and <c>shrn #4</c> packs them into a 64-bit value with 4 bits per lane.
    /// </summary>
    private static (int Next, int Found) ComputeNeon(ref ushort v, int i, int n, ushort limit, ref int positions, int offset, int found)
    {
        var lim = Vector128.Create(limit);
        for (; i <= n - 32; i += 32)
        {
            var c0 = Vector128.LessThanOrEqual(Vector128.LoadUnsafe(ref v, (nuint)i), lim);
            var c1 = Vector128.LessThanOrEqual(Vector128.LoadUnsafe(ref v, (nuint)(i + 8)), lim);
            var c2 = Vector128.LessThanOrEqual(Vector128.LoadUnsafe(ref v, (nuint)(i + 16)), lim);
            var c3 = Vector128.LessThanOrEqual(Vector128.LoadUnsafe(ref v, (nuint)(i + 24)), lim);
            if (AdvSimd.Arm64.MaxAcross(((c0 | c1) | (c2 | c3)).AsUInt32()).ToScalar() == 0) continue;
            found = EmitNibbles(NibbleMask(c0, c1), offset + i, ref positions, found);
            found = EmitNibbles(NibbleMask(c2, c3), offset + i + 16, ref positions, found);
        }
        return (i, found);
    }

    /// <summary>16 all-ones/all-zeros 16-bit lanes as a 64-bit mask, 4 bits per lane in lane order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NibbleMask(Vector128<ushort> lo, Vector128<ushort> hi)
    {
        var bytes = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(lo), hi);
        return AdvSimd.ShiftRightLogicalNarrowingLower(bytes.AsUInt16(), 4).AsUInt64().ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int EmitNibbles(ulong mask, int first, ref int positions, int found)
    {
        mask &= 0x1111_1111_1111_1111UL;
        while (mask != 0)
        {
            Unsafe.Add(ref positions, found++) = first + (BitOperations.TrailingZeroCount(mask) >> 2);
            mask &= mask - 1;
        }
        return found;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Emit(ulong mask, int first, ref int positions, int found)
    {
        while (mask != 0)
        {
            Unsafe.Add(ref positions, found++) = first + BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
        }
        return found;
    }

    private static void ThrowShort() => throw new ArgumentException("positions span is shorter than values");
}
