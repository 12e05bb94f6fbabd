using System.Runtime.CompilerServices;

namespace VectorStore.Distance;

/// <summary>Dispatch from a <see cref="DistanceKind"/> to the float32 kernels. Thread-safe.</summary>
public static class Distances
{
    /// <summary>The distance (lower is better) between two float32 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Compute(DistanceKind kind, ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        kind == DistanceKind.L2 ? SquaredL2.Compute(a, b) : -DotProduct.Compute(a, b);

    /// <summary>Scales <paramref name="vector"/> to unit length in place; a zero vector is left as it is.</summary>
    public static void Normalize(Span<float> vector) => Normalize(vector, DotProduct.Compute(vector, vector));

    /// <summary>
    /// <see cref="Normalize(Span{float})"/> given the vector's squared norm (a caller that computed it already, to
    /// check the values, saves the second pass).
    /// </summary>
    internal static void Normalize(Span<float> vector, float squaredNorm)
    {
        float norm = MathF.Sqrt(squaredNorm);
        if (norm > 0 && float.IsFinite(norm)) Scale(vector, 1f / norm);
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
