using VectorStore.Distance;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;
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
        var sample = VectorStore.Evaluation.SyntheticData.Clustered(1500, 24, seed: 9);
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

/// <summary>The integer-domain pruning step of fast-scan: every vector path must equal the scalar reference.</summary>
public class SelectAtMostKernelTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(100)]
    [InlineData(2048)]
    public void EqualsScalarReference(int n)
    {
        var rng = new Random(n + 5);
        var values = new ushort[n];
        for (int i = 0; i < n; i++) values[i] = (ushort)rng.Next(0, 65536);
        foreach (ushort limit in new ushort[] { 0, 1, 1000, 32767, 32768, 50000, 65534, 65535 })
        {
            var expected = new int[n];
            var actual = new int[n];
            int e = SelectAtMost.ComputeScalar(values, limit, expected, 17);
            int a = SelectAtMost.Compute(values, limit, actual, 17);
            Assert.Equal(e, a);
            Assert.Equal(expected.AsSpan(0, e).ToArray(), actual.AsSpan(0, a).ToArray());
            int count = 0;
            foreach (var v in values) if (v <= limit) count++;
            Assert.Equal(count, a);
        }
    }

    [Fact]
    public void ShortOutputIsRefused() =>
        Assert.Throws<ArgumentException>(() => SelectAtMost.Compute(new ushort[10], 5, new int[9]));
}

/// <summary>
/// Pruned fast-scan (<see cref="IBlockScorer.ScanBlocksBelow"/>) must return every code the full scan puts below the
/// threshold, with the same distance, and nothing far above it.
/// </summary>
public class PqFastScanPruningKernelTests
{
    [Theory]
    [InlineData(8, 1)]
    [InlineData(8, 31)]
    [InlineData(16, 100)]
    [InlineData(96, 2500)]
    public void BelowThresholdEqualsFullScanFiltered(int m, int count)
    {
        int dim = m * 2;
        var rng = new Random(m * 7 + count);
        var data = new float[Math.Max(count, 64) * dim];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        var train = new VectorMatrix(data, dim);
        var codec = (PqFastScanCodec)CodecRegistry.Train(CompressionSpec.Parse($"pq:{m}x4"), train, DistanceKind.L2);
        var packed = PqFastScanQueriesKernelTests.Pack(codec, train, count);
        foreach (var kind in new[] { DistanceKind.L2, DistanceKind.NegativeDot })
        {
            var scorer = (PqFastScanScorer)codec.CreateScorer(kind);
            scorer.SetQuery(train.Row(count / 2));
            var all = new float[count];
            scorer.ScanBlocks(packed, count, all);
            var sorted = (float[])all.Clone();
            Array.Sort(sorted);
            foreach (float threshold in new[] { float.NegativeInfinity, sorted[0], sorted[count / 10], sorted[count / 2], sorted[^1], float.PositiveInfinity })
            {
                var pos = new int[count];
                var dist = new float[count];
                int found = scorer.ScanBlocksBelow(packed, count, threshold, pos, dist);
                var returned = new HashSet<int>();
                for (int j = 0; j < found; j++)
                {
                    Assert.Equal(all[pos[j]], dist[j]);
                    if (j > 0) Assert.True(pos[j] > pos[j - 1], "positions ascend");
                    // Slack of at most one quantization step above the threshold.
                    Assert.True(dist[j] < threshold || dist[j] - threshold <= 1.5f / scorer.Scale, $"{dist[j]} far above {threshold}");
                    returned.Add(pos[j]);
                }
                for (int i = 0; i < count; i++)
                    if (all[i] < threshold) Assert.Contains(i, returned);
            }
        }
    }

    [Fact]
    public void PrunedFlatSearchEqualsExhaustiveCodeRanking()
    {
        var sample = VectorStore.Evaluation.SyntheticData.Clustered(3000, 32, seed: 4);
        var codec = CodecRegistry.Train(CompressionSpec.Parse("pq:16x4"), sample, DistanceKind.L2);
        var index = new VectorStore.Indexing.Flat.FlatIndex(codec, DistanceKind.L2);
        for (int i = 0; i < sample.Count; i++) index.Add(i, sample.Row(i));
        for (int i = 0; i < sample.Count; i += 3) index.Remove(i); // deleted slots keep their codes in the blocks
        var scorer = codec.CreateScorer(DistanceKind.L2);
        var code = new byte[codec.CodeSize];
        foreach (int k in new[] { 1, 10, 100 })
            for (int q = 0; q < 5; q++)
            {
                var query = sample.Row(q * 101 + 7);
                var heap = new VectorStore.Ranking.TopK(k);
                index.Search(query, new VectorStore.Indexing.IndexSearchParameters(), null, heap);
                var slots = new int[k];
                var dists = new float[k];
                int n = heap.Drain(slots, dists);
                scorer.SetQuery(query);
                var expected = new List<(float D, int S)>();
                for (int i = 0; i < sample.Count; i++)
                {
                    if (i % 3 == 0) continue;
                    codec.Encode(sample.Row(i), code);
                    expected.Add((scorer.Distance(code), i));
                }
                expected.Sort();
                Assert.Equal(k, n);
                Assert.Equal(expected.Take(k).Select(e => e.D), dists);
                // Codes tied with the k-th distance may be kept in any order; everything strictly better must match.
                float kth = expected[k - 1].D;
                Assert.Equal(expected.Where(e => e.D < kth).Select(e => e.S), slots.Where((_, i) => dists[i] < kth));
            }
    }
}
