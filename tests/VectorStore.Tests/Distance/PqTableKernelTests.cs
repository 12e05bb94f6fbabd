using VectorStore.Distance;
using VectorStore.Quantization;
using Xunit;
using static VectorStore.Tests.Distance.KernelInputs;

namespace VectorStore.Tests.Distance;

/// <summary>
/// The PQ distance-table kernels (<see cref="PqTableL2"/>, <see cref="PqTableDot"/>) against their scalar references
/// and, through <see cref="PqCodebook.ComputeTable"/>, against the per-centroid definition on centroid-major data.
/// CI re-runs this class with AVX-512, AVX2 and all intrinsics disabled, so every path is compared.
/// </summary>
public class PqTableKernelTests
{
    // (dimension, M, width): sub-dimensions 1..8, M not dividing the dimension, 4-bit (16) and 8-bit (256) widths, and
    // other multiples of 16 (32, 80) the kernels accept.
    public static IEnumerable<object[]> Shapes() =>
    [
        [16, 16, 16], [6, 2, 16], [10, 4, 16], [9, 4, 16], [37, 5, 16], [40, 6, 16], [64, 8, 16], [384, 96, 16],
        [1, 1, 16], [8, 8, 256], [20, 3, 256], [45, 6, 256], [384, 48, 256], [24, 3, 32], [12, 3, 80],
    ];

    private static int[] Offsets(int dimension, int m)
    {
        var o = new int[m + 1];
        for (int i = 0; i < m; i++) o[i + 1] = o[i] + dimension / m + (i < dimension % m ? 1 : 0);
        return o;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void L2TableMatchesScalar(int dimension, int m, int width)
    {
        var rng = new Random(dimension * 1000 + m + width);
        var offsets = Offsets(dimension, m);
        for (int rep = 0; rep < 10; rep++)
        {
            // Shifted data (rep odd) puts query and centroids far from the origin, where ‖q‖² − 2q·c + ‖c‖² would cancel.
            float shift = rep % 2 == 0 ? 0 : 50;
            var q = RandomFloats(rng, dimension, 3, shift);
            var c = RandomFloats(rng, dimension * width, 3, shift);
            var expected = new float[m * width];
            var actual = new float[m * width];
            PqTableL2.ComputeScalar(q, c, offsets, width, expected);
            PqTableL2.Compute(q, c, offsets, width, actual);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, expected[i]), $"entry {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DotTableMatchesScalar(int dimension, int m, int width)
    {
        var rng = new Random(dimension * 1000 + m + width + 7);
        var offsets = Offsets(dimension, m);
        for (int rep = 0; rep < 10; rep++)
        {
            var q = RandomFloats(rng, dimension, 3);
            var c = RandomFloats(rng, dimension * width, 3);
            var expected = new float[m * width];
            var actual = new float[m * width];
            PqTableDot.ComputeScalar(q, c, offsets, width, expected);
            PqTableDot.Compute(q, c, offsets, width, actual);
            for (int s = 0; s < m; s++)
                for (int j = 0; j < width; j++)
                {
                    float magnitude = 0;
                    for (int d = offsets[s]; d < offsets[s + 1]; d++) magnitude += Math.Abs(q[d] * c[d * width + j]);
                    int i = s * width + j;
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, magnitude), $"entry {i}: {actual[i]} vs {expected[i]}");
                }
        }
    }

    [Theory]
    [InlineData(30, 8, 4)]
    [InlineData(384, 96, 4)]
    [InlineData(14, 14, 4)]
    [InlineData(15, 14, 4)]
    [InlineData(29, 4, 8)]
    [InlineData(30, 6, 8)]
    [InlineData(17, 16, 8)]
    public void CodebookTableEqualsPerCentroidDefinition(int dimension, int m, int bits)
    {
        // The transposition inside the codebook must put every coordinate where the kernels read it: compare with the
        // definition on the centroid-major data (one reference distance per sub-space and centroid).
        var rng = new Random(dimension * 31 + m * 7 + bits);
        var offsets = Offsets(dimension, m);
        int ksub = 1 << bits;
        var centroids = new float[m][];
        for (int s = 0; s < m; s++) centroids[s] = RandomFloats(rng, ksub * (offsets[s + 1] - offsets[s]), 2);
        var codebook = new PqCodebook(dimension, m, bits, centroids);
        var q = RandomFloats(rng, dimension, 2);
        var table = new float[m * ksub];
        foreach (var kind in new[] { DistanceKind.L2, DistanceKind.NegativeDot })
        {
            codebook.ComputeTable(q, kind, table);
            for (int s = 0; s < m; s++)
            {
                int sd = offsets[s + 1] - offsets[s];
                var qs = q.AsSpan(offsets[s], sd);
                for (int j = 0; j < ksub; j++)
                {
                    var cj = centroids[s].AsSpan(j * sd, sd);
                    float expected = kind == DistanceKind.L2 ? SquaredL2.ComputeScalar(qs, cj) : -DotProduct.ComputeScalar(qs, cj);
                    float actual = table[s * ksub + j];
                    Assert.True(Math.Abs(expected - actual) <= 1e-5f * (1 + Math.Abs(expected) + sd * 4), $"{kind} sub-space {s} centroid {j}: {actual} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var q = new float[8];
        var c = new float[8 * 16];
        var t = new float[2 * 16];
        Assert.Throws<ArgumentOutOfRangeException>(() => PqTableL2.Compute(q, c, [0, 4, 8], 8, t));
        Assert.Throws<ArgumentException>(() => PqTableDot.Compute(q, c, [0, 4, 7], 16, t));
        Assert.Throws<ArgumentException>(() => PqTableDot.Compute(q, c, [0, 5, 4, 8], 16, new float[3 * 16]));
        Assert.Throws<ArgumentException>(() => PqTableL2.Compute(q, c.AsSpan(1), [0, 4, 8], 16, t));
        Assert.Throws<ArgumentException>(() => PqTableL2.Compute(q, c, [0, 4, 8], 16, t.AsSpan(1)));
    }
}
