using VectorStore.Distance;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>SIMD PQ scan kernels against their scalar references; CI runs these under every instruction-set setting.</summary>
public class PqScanKernelTests
{
    [Theory]
    [InlineData(1, 9)]
    [InlineData(3, 17)]
    [InlineData(8, 64)]
    [InlineData(13, 33)]
    [InlineData(48, 101)]
    [InlineData(96, 7)]
    public void InterleavedScanEqualsScalarExactly(int m, int count)
    {
        var (codes, table) = Random8(m, count, m * 31 + count);
        var expected = new float[count];
        var actual = new float[count];
        PqScan.ComputeScalar(codes, m, table, expected);
        PqScan.Compute(codes, m, table, actual);
        Assert.Equal(expected, actual);
        PqScan.ComputeInterleaved(codes, m, table, actual);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(8, 50)]
    [InlineData(20, 50)]
    [InlineData(48, 200)]
    public void GatherScanMatchesScalarWithinRounding(int m, int count)
    {
        var (codes, table) = Random8(m, count, m + 7 * count);
        var expected = new float[count];
        var actual = new float[count];
        PqScan.ComputeScalar(codes, m, table, expected);
        PqScan.ComputeGather(codes, m, table, actual);
        for (int i = 0; i < count; i++)
        {
            // Stated tolerance: 1e-5 of the sum of absolute entries (reordered float additions).
            double bound = 0;
            for (int j = 0; j < m; j++) bound += Math.Abs(table[j * 256 + codes[i * m + j]]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * bound + 1e-6, $"code {i}: {actual[i]} vs {expected[i]}");
        }
    }

    private static (byte[] Codes, float[] Table) Random8(int m, int count, int seed)
    {
        var rng = new Random(seed);
        var codes = new byte[m * count];
        rng.NextBytes(codes);
        var table = new float[m * 256];
        for (int i = 0; i < table.Length; i++) table[i] = (float)(rng.NextDouble() * 4 - 1);
        return (codes, table);
    }
}

/// <summary>The 4-bit fast-scan kernel (integer: every path must equal the reference exactly) and its block codec.</summary>
public class PqFastScanKernelTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 3)]
    [InlineData(6, 2)]
    [InlineData(16, 5)]
    [InlineData(96, 9)]
    [InlineData(98, 2)]
    [InlineData(256, 2)]
    public void SimdEqualsScalarExactly(int m, int blocks)
    {
        var rng = new Random(m * 100 + blocks);
        var data = new byte[blocks * PqFastScan.BlockBytes(m)];
        rng.NextBytes(data);
        var lut = new byte[m * 16];
        rng.NextBytes(lut);
        var expected = new ushort[blocks * 32];
        var actual = new ushort[blocks * 32];
        PqFastScan.AccumulateScalar(data, blocks, m, lut, expected);
        PqFastScan.Accumulate(data, blocks, m, lut, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void LargestSupportedMCannotOverflow()
    {
        int m = PqFastScan.MaxSubQuantizers;
        var data = new byte[PqFastScan.BlockBytes(m)];
        new Random(3).NextBytes(data);
        var lut = Enumerable.Repeat((byte)255, m * 16).ToArray();
        var sums = new ushort[32];
        PqFastScan.Accumulate(data, 1, m, lut, sums);
        Assert.All(sums, s => Assert.Equal(m * 255, s));
    }

    [Fact]
    public void PackedBlockScanEqualsPerCodeDistance()
    {
        var sample = Evaluation.SyntheticData.Clustered(1500, 24, seed: 9);
        var codec = (PqFastScanCodec)CodecRegistry.Train(CompressionSpec.Parse("pq:12x4"), sample, DistanceKind.L2);
        int n = 75; // two full blocks and a partial one
        var codes = new byte[n * codec.CodeSize];
        for (int i = 0; i < n; i++) codec.Encode(sample.Row(i), codes.AsSpan(i * codec.CodeSize, codec.CodeSize));
        int nb = (n + 31) / 32;
        var packed = new byte[nb * codec.BlockBytes];
        for (int b = 0; b < nb; b++)
        {
            int c = Math.Min(32, n - b * 32);
            codec.PackBlock(codes.AsSpan(b * 32 * codec.CodeSize, c * codec.CodeSize), c, packed.AsSpan(b * codec.BlockBytes, codec.BlockBytes));
        }
        var back = new byte[codec.CodeSize];
        for (int i = 0; i < n; i++)
        {
            codec.GetBlockCode(packed.AsSpan(i / 32 * codec.BlockBytes, codec.BlockBytes), i % 32, back);
            Assert.Equal(codes.AsSpan(i * codec.CodeSize, codec.CodeSize).ToArray(), back);
        }
        var scorer = (PqFastScanScorer)codec.CreateScorer(DistanceKind.L2);
        scorer.SetQuery(sample.Row(1000));
        var dist = new float[n];
        scorer.ScanBlocks(packed, n, dist);
        for (int i = 0; i < n; i++) Assert.Equal(scorer.Distance(codes.AsSpan(i * codec.CodeSize, codec.CodeSize)), dist[i]);
    }
}
