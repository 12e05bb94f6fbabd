using System.Runtime.CompilerServices;

namespace VectorStore.Distance;

/// <summary>Dispatch from a <see cref="DistanceKind"/> to the float32 kernels. Thread-safe.</summary>
public static class Distances
{
    /// <summary>The distance (lower is better) between two float32 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Compute(DistanceKind kind, ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        kind == DistanceKind.L2 ? SquaredL2.Compute(a, b) : -DotProduct.Compute(a, b);

    /// <summary>
    /// Scales <paramref name="vector"/> to unit length in place; a zero vector, or one holding a non-finite value, is
    /// left as it is.
    /// </summary>
    public static void Normalize(Span<float> vector) => Normalize(vector, DotProduct.Compute(vector, vector));

    /// <summary>2^−126: below it a float has fewer significant bits.</summary>
    private const float SmallestNormal = 1.17549435e-38f;

    /// <summary>
    /// <see cref="Normalize(Span{float})"/> given the vector's squared norm (a caller that computed it already, to
    /// check the values, saves the second pass). False, and the vector unchanged, when it has no direction to keep:
    /// every value 0 (or one not finite).
    /// </summary>
    internal static bool Normalize(Span<float> vector, float squaredNorm)
    {
        if (squaredNorm is >= SmallestNormal and <= float.MaxValue)
        {
            Scale(vector, 1f / MathF.Sqrt(squaredNorm));
            return true;
        }
        // The squares underflowed (values near 1e-20 and below: a subnormal sum has lost its digits, a zero one looks
        // like a zero vector) or overflowed (near 1e19 and above). Dividing by the largest magnitude first brings the
        // norm to [1, √dimension], where the ordinary scaling is exact enough.
        float max = 0;
        foreach (float v in vector) max = MathF.Max(max, MathF.Abs(v));
        if (max == 0 || !float.IsFinite(max)) return false;
        for (int i = 0; i < vector.Length; i++) vector[i] /= max;
        Scale(vector, 1f / MathF.Sqrt(DotProduct.Compute(vector, vector)));
        return true;
    }

    /// <summary>
    /// Multiplies every value by <paramref name="factor"/> in place. Each product is one IEEE multiplication whatever
    /// the vector width, so the result is bit-identical to the scalar loop of the tail.
    /// </summary>
    internal static void Scale(Span<float> vector, float factor)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && vector.Length >= System.Numerics.Vector<float>.Count)
        {
            var lanes = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(vector);
            var f = new System.Numerics.Vector<float>(factor);
            for (int v = 0; v < lanes.Length; v++) lanes[v] *= f;
            i = lanes.Length * System.Numerics.Vector<float>.Count;
        }
        for (; i < vector.Length; i++) vector[i] *= factor;
    }
}
