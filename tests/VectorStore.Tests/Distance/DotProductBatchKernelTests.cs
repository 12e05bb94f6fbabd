using VectorStore.Clustering;
using VectorStore.Distance;
using Xunit;
using static VectorStore.Tests.Distance.KernelInputs;

namespace VectorStore.Tests.Distance;

/// <summary>
/// The blocked query-against-matrix dot kernel and the <see cref="CentroidSet"/> methods built on it. CI re-runs this
/// class with AVX-512, AVX2 and all hardware intrinsics disabled, so each path is compared with the per-row kernel
/// (bit for bit) and with the double-precision reference (within rounding).
/// </summary>
public class DotProductBatchKernelTests
{
    public static IEnumerable<object[]> Shapes()
    {
        int[] dims = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 96, 127, 129, 383, 384, 385, 767, 1000, 1099, 1100];
        int[] rows = [1, 2, 3, 4, 5, 7, 8, 13, 64, 255, 256, 257, 300];
        // Every dimension with a few row counts, and every row count at a few dimensions: each vector width, each
        // dimension tail and each row tail, without the full cross product.
        var shapes = new HashSet<(int Dim, int Rows)>();
        for (int i = 0; i < dims.Length; i++) shapes.Add((dims[i], rows[i % rows.Length]));
        foreach (int r in rows) { shapes.Add((384, r)); shapes.Add((33, r)); shapes.Add((7, r)); }
        return shapes.Select(s => new object[] { s.Dim, s.Rows });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EqualsThePerRowKernelBitForBitAndTheScalarReferenceWithinRounding(int dim, int rows)
    {
        var rng = new Random(dim * 7919 + rows);
        for (int rep = 0; rep < 3; rep++)
        {
            var q = RandomFloats(rng, dim, 2);
            var m = RandomFloats(rng, dim * rows, 3);
            var got = new float[rows + 1];
            got[rows] = 12345f;
            var reference = new float[rows];
            DotProductBatch.Compute(q, m, rows, got);
            DotProductBatch.ComputeScalar(q, m, rows, reference);
            Assert.Equal(12345f, got[rows]); // nothing written past the last row
            for (int r = 0; r < rows; r++)
            {
                var row = m.AsSpan(r * dim, dim);
                float single = DotProduct.Compute(q, row);
                Assert.True(BitConverter.SingleToInt32Bits(single) == BitConverter.SingleToInt32Bits(got[r]),
                    $"row {r}: batch {got[r]:R} vs per-row {single:R}");
                float mag = 0;
                for (int i = 0; i < dim; i++) mag += Math.Abs(q[i] * row[i]);
                Assert.True(Math.Abs(reference[r] - got[r]) <= 1e-5f * Math.Max(1f, mag), $"row {r}: {got[r]} vs reference {reference[r]}");
            }
        }
    }

    [Fact]
    public void ZeroRowsWritesNothing()
    {
        var dots = new[] { 7f };
        DotProductBatch.Compute(new float[5], ReadOnlySpan<float>.Empty, 0, dots);
        Assert.Equal(7f, dots[0]);
    }

    [Fact]
    public void ShortBuffersAreRejected()
    {
        Assert.Throws<ArgumentException>(() => DotProductBatch.Compute(new float[8], new float[8 * 3 - 1], 3, new float[3]));
        Assert.Throws<ArgumentException>(() => DotProductBatch.Compute(new float[8], new float[8 * 3], 3, new float[2]));
        Assert.Throws<ArgumentException>(() => DotProductBatch.Compute(new float[8], new float[8], -1, new float[2]));
    }

    [Theory]
    [InlineData(384, 256)]
    [InlineData(129, 300)]
    [InlineData(20, 77)]
    [InlineData(1, 5)]
    public void CentroidSetUsesItWithoutChangingAnyResult(int dim, int k)
    {
        var rng = new Random(dim + 31 * k);
        var cents = new VectorMatrix(RandomFloats(rng, dim * k, 1), dim);
        var set = new CentroidSet(cents);
        var dots = new float[k];
        var dist = new float[k];
        for (int t = 0; t < 40; t++)
        {
            var x = RandomFloats(rng, dim, 1);
            float xn = DotProduct.Compute(x, x);
            set.Dots(x, dots);
            set.Distances(x, dist);
            int best = 0;
            float bestPartial = float.PositiveInfinity;
            for (int c = 0; c < k; c++)
            {
                // What CentroidSet computed with one DotProduct.Compute per centroid before the batched kernel.
                float dot = DotProduct.Compute(x, cents.Row(c));
                Assert.Equal(dot, dots[c]);
                Assert.Equal(Math.Max(0f, xn + set.Norm(c) - 2f * dot), dist[c]);
                float p = set.Norm(c) - 2f * dot;
                if (p < bestPartial) { bestPartial = p; best = c; }
            }
            if (dim > CentroidSet.TransposedMaxDimension)
            {
                Assert.Equal(best, set.Nearest(x, out float d));
                Assert.Equal(Math.Max(0f, xn + bestPartial), d);
            }
        }
    }

    [Fact]
    public void CentroidSetRejectsBadArguments()
    {
        var set = new CentroidSet(new VectorMatrix(new float[4 * 40], 40));
        Assert.Throws<InvalidVectorException>(() => set.Dots(new float[39], new float[4]));
        Assert.Throws<InvalidArgumentException>(() => set.Dots(new float[40], new float[3]));
        Assert.Throws<InvalidArgumentException>(() => set.Distances(new float[40], new float[3]));
    }
}
