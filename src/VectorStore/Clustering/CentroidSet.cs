using System.Numerics;
using System.Runtime.InteropServices;
using VectorStore.Distance;
using VectorStore.Threading;

namespace VectorStore.Clustering;

/// <summary>
/// A fixed set of centroids with what nearest-centroid search needs precomputed (squared norms and, for small
/// dimensions, a transposed copy). The assignment step of k-means, IVF list assignment and IVF probing all use it.
/// </summary>
/// <remarks>
/// Squared L2 is computed as ‖x‖² − 2·x·c + ‖c‖² so the inner loop is a dot product. For dimensions up to
/// <see cref="TransposedMaxDimension"/> (PQ sub-spaces) one query is compared with <c>Vector&lt;float&gt;.Count</c>
/// centroids at once from a transposed layout, keeping the dot products in registers; larger dimensions use the
/// <see cref="DotProductBatch"/> kernel (four centroids per pass sharing each query load, results bit-identical to
/// <see cref="DotProduct"/> per centroid). Immutable and thread-safe.
/// </remarks>
public sealed class CentroidSet
{
    /// <summary>Largest dimension scored through the transposed layout.</summary>
    public const int TransposedMaxDimension = 32;

    // Rows per DotProductBatch call in Nearest: 1 KiB of stack for the dot products.
    private const int DotBlock = 256;

    private readonly float[] _norms;
    private readonly float[]? _transposed; // [d * PaddedCount + c]
    private readonly int _padded;

    /// <summary>Wraps <paramref name="centroids"/> (not copied; do not modify it afterwards).</summary>
    public CentroidSet(VectorMatrix centroids)
    {
        if (centroids.Count == 0) throw new InvalidArgumentException("a centroid set needs at least one centroid");
        Centroids = centroids;
        int k = centroids.Count, dim = centroids.Dimension;
        _norms = new float[k];
        for (int c = 0; c < k; c++) _norms[c] = DotProduct.Compute(centroids.Row(c), centroids.Row(c));
        if (dim <= TransposedMaxDimension)
        {
            int w = Vector<float>.Count;
            _padded = (k + w - 1) / w * w;
            _transposed = new float[dim * _padded];
            for (int c = 0; c < k; c++)
                for (int d = 0; d < dim; d++) _transposed[d * _padded + c] = centroids.Data[c * dim + d];
            // Padding centroids get an infinite norm so they never win.
            var n = new float[_padded];
            _norms.CopyTo(n, 0);
            for (int c = k; c < _padded; c++) n[c] = float.PositiveInfinity;
            _norms = n;
        }
    }

    /// <summary>The centroids.</summary>
    public VectorMatrix Centroids { get; }

    /// <summary>Number of centroids.</summary>
    public int Count => Centroids.Count;

    /// <summary>Dimension.</summary>
    public int Dimension => Centroids.Dimension;

    /// <summary>Squared norm of centroid <paramref name="c"/>.</summary>
    public float Norm(int c) => _norms[c];

    /// <summary>
    /// Index of the centroid nearest to <paramref name="x"/> (ties: lowest index) and its squared L2 distance
    /// (clamped at 0 against rounding).
    /// </summary>
    public int Nearest(ReadOnlySpan<float> x, out float distance)
    {
        if (x.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {x.Length}");
        float xn = DotProduct.Compute(x, x);
        int best;
        float bestPartial;
        if (_transposed is not null) best = NearestTransposed(x, out bestPartial);
        else
        {
            best = 0;
            bestPartial = float.PositiveInfinity;
            // Blocks of rows through the batched kernel keep the scratch on the stack at any centroid count.
            Span<float> dots = stackalloc float[Math.Min(DotBlock, _norms.Length)];
            var data = Centroids.Data.AsSpan();
            int dim = Dimension;
            for (int start = 0; start < _norms.Length; start += DotBlock)
            {
                int rows = Math.Min(DotBlock, _norms.Length - start);
                DotProductBatch.Compute(x, data.Slice(start * dim, rows * dim), rows, dots);
                for (int j = 0; j < rows; j++)
                {
                    float p = _norms[start + j] - 2f * dots[j];
                    if (p < bestPartial) { bestPartial = p; best = start + j; }
                }
            }
        }
        distance = Math.Max(0f, xn + bestPartial);
        return best;
    }

    private int NearestTransposed(ReadOnlySpan<float> x, out float bestPartial)
    {
        int w = Vector<float>.Count, dim = x.Length, padded = _padded;
        ref float t = ref MemoryMarshal.GetArrayDataReference(_transposed!);
        ref float norms = ref MemoryMarshal.GetArrayDataReference(_norms);
        var bestVal = new Vector<float>(float.PositiveInfinity);
        var bestIdx = Vector<int>.Zero;
        var idx = Vector<int>.Indices;
        var step = new Vector<int>(w);
        var minusTwo = new Vector<float>(-2f);
        for (int c = 0; c < padded; c += w)
        {
            var acc = Vector<float>.Zero;
            for (int d = 0; d < dim; d++)
                acc += new Vector<float>(x[d]) * Vector.LoadUnsafe(ref t, (nuint)(d * padded + c));
            var partial = Vector.LoadUnsafe(ref norms, (nuint)c) + minusTwo * acc;
            // Strictly less keeps the lowest index per lane on ties.
            var better = Vector.LessThan(partial, bestVal);
            bestVal = Vector.ConditionalSelect(better, partial, bestVal);
            bestIdx = Vector.ConditionalSelect(better, idx, bestIdx);
            idx += step;
        }
        int best = bestIdx[0];
        bestPartial = bestVal[0];
        for (int l = 1; l < w; l++)
        {
            float v = bestVal[l];
            if (v < bestPartial || (v == bestPartial && bestIdx[l] < best)) { bestPartial = v; best = bestIdx[l]; }
        }
        return best;
    }

    /// <summary>
    /// Squared L2 distances from <paramref name="x"/> to every centroid into <paramref name="distances"/>
    /// (length ≥ <see cref="Count"/>), clamped at 0. Used by IVF probing.
    /// </summary>
    public void Distances(ReadOnlySpan<float> x, Span<float> distances)
    {
        if (x.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {x.Length}");
        if (distances.Length < Count) throw new InvalidArgumentException($"need room for {Count} distances, got {distances.Length}");
        float xn = DotProduct.Compute(x, x);
        DotProductBatch.Compute(x, Centroids.Data, Count, distances);
        for (int c = 0; c < Count; c++)
            distances[c] = Math.Max(0f, xn + _norms[c] - 2f * distances[c]);
    }

    /// <summary>
    /// Dot products of <paramref name="x"/> with every centroid into <paramref name="dots"/> (length ≥
    /// <see cref="Count"/>), four centroids per pass through <see cref="DotProductBatch"/>. Each value is
    /// bit-identical to <c>DotProduct.Compute(x, Centroids.Row(c))</c>. With <see cref="Norm"/> this gives squared L2
    /// (‖x‖² − 2·dot + ‖c‖²) or, for unit vectors, the negative-dot distance. Allocates nothing.
    /// </summary>
    public void Dots(ReadOnlySpan<float> x, Span<float> dots)
    {
        if (x.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {x.Length}");
        if (dots.Length < Count) throw new InvalidArgumentException($"need room for {Count} dot products, got {dots.Length}");
        DotProductBatch.Compute(x, Centroids.Data, Count, dots);
    }

    /// <summary>
    /// Assigns every row of <paramref name="data"/> to its nearest centroid, in parallel. The result does not
    /// depend on the number of threads.
    /// </summary>
    public void AssignBatch(VectorMatrix data, Span<int> assignments, Span<float> distances, ParallelOptions? parallel = null)
    {
        if (data.Dimension != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {data.Dimension}");
        if (assignments.Length < data.Count || (!distances.IsEmpty && distances.Length < data.Count))
            throw new InvalidArgumentException("assignment buffers are shorter than the data");
        var asg = new int[data.Count];
        var dst = new float[data.Count];
        const int Chunk = 256;
        int chunks = (data.Count + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, parallel ?? EngineParallel.Options(), ch =>
        {
            int end = Math.Min(data.Count, (ch + 1) * Chunk);
            for (int i = ch * Chunk; i < end; i++) asg[i] = Nearest(data.Row(i), out dst[i]);
        });
        asg.CopyTo(assignments);
        if (!distances.IsEmpty) dst.CopyTo(distances);
    }
}
