using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>
/// Positions of the 16-bit values that are at most a limit, in ascending order: the integer-domain pruning step of
/// the fast-scan kernels, where a bounded top-k keeps only a small fraction of the scanned codes and converting every
/// sum to a float distance (and offering it to the heap) would cost more than computing it. Vector512/256/128 compare
/// and move-mask with a scalar tail; every path equals <see cref="ComputeScalar"/>. Stateless and thread-safe.
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
