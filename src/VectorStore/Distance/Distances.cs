using System.Runtime.CompilerServices;

namespace VectorStore.Distance;

/// <summary>Dispatch from a <see cref="DistanceKind"/> to the float32 kernels. Thread-safe.</summary>
public static class Distances
{
    /// <summary>The distance (lower is better) between two float32 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Compute(DistanceKind kind, ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        kind == DistanceKind.L2 ? SquaredL2.Compute(a, b) : -DotProduct.Compute(a, b);

    /// <summary>Scales <paramref name="vector"/> to unit length in place; a zero vector is left as it is.</summary>
    public static void Normalize(Span<float> vector)
    {
        float norm = MathF.Sqrt(DotProduct.Compute(vector, vector));
        if (norm > 0 && float.IsFinite(norm))
        {
            float inv = 1f / norm;
            for (int i = 0; i < vector.Length; i++) vector[i] *= inv;
        }
    }
}
