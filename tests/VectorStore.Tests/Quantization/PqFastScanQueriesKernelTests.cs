using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;
using VectorStore.Tests.Indexing.Ivf;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The several-queries fast-scan kernel, the batch scorer built on it, and the indexes' batched searches: each must
/// equal its one-query counterpart exactly (the kernel is integer arithmetic; the estimates are the same floats).
/// Named "Kernel" so that CI runs it again with AVX-512, AVX2 and all intrinsics off, and on Arm64 under emulation.
/// </summary>
public class PqFastScanQueriesKernelTests
{
    [Theory]
    [InlineData(2, 1, new[] { 0 })]
    [InlineData(4, 3, new[] { 1, 0 })]
    [InlineData(6, 2, new[] { 2, 0, 1 })]
    [InlineData(16, 5, new[] { 3, 1, 2, 0 })]
    [InlineData(96, 9, new[] { 4, 0, 3, 1, 2 })]
    [InlineData(98, 2, new[] { 0, 1, 2, 3, 4, 5, 6 })]
    [InlineData(256, 2, new[] { 5, 5, 1, 0, 2, 3, 4, 1, 6 })]
    [InlineData(10, 4, new[] { 7, 6, 5, 4, 3, 2, 1, 0 })]
    public void EveryPathEqualsTheScalarReference(int m, int blocks, int[] members)
    {
        var rng = new Random(m * 31 + blocks);
        var data = new byte[blocks * PqFastScan.BlockBytes(m)];
        rng.NextBytes(data);
        var luts = new byte[8 * m * 16];
        rng.NextBytes(luts);
        int stride = blocks * PqFastScan.BlockVectors;
        var expected = new ushort[members.Length * stride];
        var actual = new ushort[members.Length * stride];
        PqFastScan.AccumulateQueriesScalar(data, blocks, m, luts, members, expected);
        PqFastScan.AccumulateQueries(data, blocks, m, luts, members, actual);
        Assert.Equal(expected, actual);
        // And each member's sums are those of the one-query kernel with its table.
        var one = new ushort[stride];
        for (int g = 0; g < members.Length; g++)
        {
            PqFastScan.Accumulate(data, blocks, m, luts.AsSpan(members[g] * m * 16, m * 16), one);
            Assert.Equal(one, actual.AsSpan(g * stride, stride).ToArray());
        }
    }

    [Fact]
    public void LargestMWithFullTablesCannotOverflowInAnyGroupSize()
    {
        int m = PqFastScan.MaxSubQuantizers;
        var data = new byte[2 * PqFastScan.BlockBytes(m)];
        new Random(3).NextBytes(data);
        var luts = Enumerable.Repeat((byte)255, 5 * m * 16).ToArray();
        var sums = new ushort[5 * 64];
        PqFastScan.AccumulateQueries(data, 2, m, luts, [0, 1, 2, 3, 4], sums);
        Assert.All(sums, s => Assert.Equal(m * 255, s));
    }

    [Fact]
    public void BadArgumentsAreRefusedWithoutTouchingTheOutput()
    {
        var data = new byte[PqFastScan.BlockBytes(4)];
        var luts = new byte[2 * 4 * 16];
        var sums = new ushort[64];
        Assert.Throws<ArgumentOutOfRangeException>(() => PqFastScan.AccumulateQueries(data, 1, 4, luts, [0, 2], sums));
        Assert.Throws<ArgumentOutOfRangeException>(() => PqFastScan.AccumulateQueries(data, 1, 4, luts, [-1], sums));
        Assert.Throws<ArgumentOutOfRangeException>(() => PqFastScan.AccumulateQueries(data, 1, 4, luts, [int.MaxValue], sums));
        Assert.Throws<ArgumentOutOfRangeException>(() => PqFastScan.AccumulateQueries(data, 1, 4, luts, [0, int.MaxValue / 64 + 1], sums));
        Assert.Throws<ArgumentException>(() => PqFastScan.AccumulateQueries(data, 1, 4, luts, [0, 1, 0], sums));
        Assert.Throws<ArgumentException>(() => PqFastScan.AccumulateQueries(data, 2, 4, luts, [0], sums));
        Assert.Throws<ArgumentOutOfRangeException>(() => PqFastScan.AccumulateQueries(data, 1, 3, luts, [0], sums));
        Assert.All(sums, s => Assert.Equal(0, s));
    }

    [Theory]
    [InlineData(8, 31, "pq:{0}x4")]
    [InlineData(16, 300, "pq:{0}x4")]
    [InlineData(96, 2500, "pq:{0}x4")]
    [InlineData(16, 300, "opq+pq:{0}x4")] // a transformed codec's batch scorer transforms each query as its one-query scorer does
    [InlineData(8, 100, "pca:12+pq:{0}x4")]
    public void BatchScorerFindsWhatTheOneQueryScorerFinds(int m, int count, string spec)
    {
        int dim = m * 2;
        var train = SyntheticData.Clustered(Math.Max(count, 64) + 9, dim, seed: m + count);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(string.Format(System.Globalization.CultureInfo.InvariantCulture, spec, m)), train, DistanceKind.L2);
        var packed = Pack(codec, train, count);
        foreach (var kind in new[] { DistanceKind.L2, DistanceKind.NegativeDot })
        {
            var batch = codec.CreateBatchScorer(kind, 9) ?? throw new InvalidOperationException($"'{codec.Spec}' has no batch scorer");
            var scorer = codec.CreateScorer(kind);
            var single = (IBlockScorer)scorer;
            for (int i = 0; i < 9; i++) batch.SetQuery(i, train.Row(count + i));
            int[] members = [8, 0, 3, 5, 1, 7, 2];
            var thresholds = new float[members.Length];
            for (int g = 0; g < members.Length; g++)
            {
                scorer.SetQuery(train.Row(count + members[g]));
                var all = new float[count];
                single.ScanBlocks(packed, count, all);
                Array.Sort(all);
                // Every kind of threshold: nothing passes, a few, half, all, and an empty heap.
                thresholds[g] = (g % 5) switch { 0 => float.NegativeInfinity, 1 => all[count / 10], 2 => all[count / 2], 3 => all[^1], _ => float.PositiveInfinity };
            }
            var pos = new int[members.Length * count];
            var dist = new float[members.Length * count];
            var found = new int[members.Length];
            batch.ScanBlocksBelow(members, packed, count, thresholds, pos, dist, found);
            for (int g = 0; g < members.Length; g++)
            {
                scorer.SetQuery(train.Row(count + members[g]));
                var p1 = new int[count];
                var d1 = new float[count];
                int n1 = single.ScanBlocksBelow(packed, count, thresholds[g], p1, d1);
                Assert.Equal(n1, found[g]);
                Assert.Equal(p1.AsSpan(0, n1).ToArray(), pos.AsSpan(g * count, n1).ToArray());
                Assert.Equal(d1.AsSpan(0, n1).ToArray(), dist.AsSpan(g * count, n1).ToArray());
            }
        }
    }

    [Fact]
    public void BatchScorerRefusesAMemberItDoesNotHold()
    {
        var train = SyntheticData.Clustered(100, 16, seed: 2);
        var codec = (PqFastScanCodec)CodecRegistry.Train(CompressionSpec.Parse("pq:8x4"), train, DistanceKind.L2);
        var batch = codec.CreateBatchScorer(DistanceKind.L2, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.SetQuery(2, train.Row(0)));
        var packed = Pack(codec, train, 32);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            batch.ScanBlocksBelow([0, 2], packed, 32, [1f, 1f], new int[64], new float[64], new int[2]));
        Assert.Throws<ArgumentException>(() => batch.ScanBlocksBelow([0, 1], packed, 32, [1f, 1f], new int[63], new float[64], new int[2]));
        var found = new[] { 7, 7 };
        Assert.Throws<ArgumentException>(() => batch.ScanBlocksBelow([0, 1], packed, 64, [1f, 1f], new int[128], new float[128], found));
        Assert.Equal([7, 7], found); // refused before any output is written
    }

    [Theory]
    [InlineData("pq:16x4", DistanceKind.L2, 1)]
    [InlineData("pq:16x4", DistanceKind.NegativeDot, 70)]
    [InlineData("sq8", DistanceKind.L2, 5)]
    public void FlatBatchedSearchEqualsSearchingOneByOne(string compression, DistanceKind kind, int queries)
    {
        var (data, q) = IvfTestSupport.Synthetic(3000, queries, 32, normalize: kind == DistanceKind.NegativeDot, seed: 8);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(compression), data, kind);
        var index = new FlatIndex(codec, kind);
        for (int i = 0; i < data.Count; i++) index.Add(i, data.Row(i));
        for (int i = 0; i < data.Count; i += 7) index.Remove(i); // removed slots keep their codes in the blocks
        AssertBatchEqualsSearch(index, q, new IndexSearchParameters(), 40);
    }

    [Theory]
    [InlineData("ivf:32", "pq:16x4", DistanceKind.L2, 8, 70)]
    [InlineData("ivf:32", "pq:16x4", DistanceKind.NegativeDot, 32, 9)]
    [InlineData("ivf:32,residual", "pq:16x4", DistanceKind.L2, 6, 5)]
    [InlineData("ivf:32,spill", "pq:16x4", DistanceKind.L2, 6, 5)]
    [InlineData("ivf:32", "sq8", DistanceKind.L2, 4, 5)]
    public void IvfBatchedSearchEqualsSearchingOneByOne(string spec, string compression, DistanceKind kind, int nprobe, int queries)
    {
        var (data, q) = IvfTestSupport.Synthetic(3000, queries, 32, normalize: kind == DistanceKind.NegativeDot, seed: 9);
        var index = IvfTestSupport.Build(data, spec, compression, kind);
        for (int i = 0; i < data.Count; i += 11) index.Remove(i);
        AssertBatchEqualsSearch(index, q, new IndexSearchParameters { NProbe = nprobe }, 25);
    }

    [Fact]
    public void ABatchWithTheWrongNumberOfFloatsIsRefused()
    {
        var (data, _) = IvfTestSupport.Synthetic(200, 1, 16, normalize: false);
        var codec = CodecRegistry.Train(CompressionSpec.Parse("pq:8x4"), data, DistanceKind.L2);
        var index = new FlatIndex(codec, DistanceKind.L2);
        var heaps = new[] { new TopK(5), new TopK(5) };
        Assert.Throws<InvalidVectorException>(() => index.SearchBatch(new float[31], new IndexSearchParameters(), heaps));
    }

    private static void AssertBatchEqualsSearch(VectorIndex index, VectorMatrix queries, IndexSearchParameters p, int k)
    {
        var heaps = Enumerable.Range(0, queries.Count).Select(_ => new TopK(k)).ToArray();
        var flat = new float[queries.Count * queries.Dimension];
        for (int i = 0; i < queries.Count; i++) queries.Row(i).CopyTo(flat.AsSpan(i * queries.Dimension));
        index.SearchBatch(flat, p, heaps);
        var one = new TopK(k);
        for (int i = 0; i < queries.Count; i++)
        {
            one.Reset(k);
            index.Search(queries.Row(i), p, null, one);
            var (s1, d1) = Drain(one);
            var (s2, d2) = Drain(heaps[i]);
            Assert.Equal(s1, s2);
            Assert.Equal(d1, d2);
            Assert.Equal(k, s1.Length);
        }
    }

    private static (int[] Slots, float[] Distances) Drain(TopK heap)
    {
        var slots = new int[heap.Count];
        var dist = new float[heap.Count];
        heap.Drain(slots, dist);
        return (slots, dist);
    }

    /// <summary>The first <paramref name="count"/> rows of <paramref name="data"/> encoded and packed in blocks of 32.</summary>
    internal static byte[] Pack(VectorCodec codec, VectorMatrix data, int count)
    {
        var blocks = codec.BlockLayout ?? throw new InvalidOperationException($"'{codec.Spec}' has no block layout");
        var codes = new byte[count * codec.CodeSize];
        for (int i = 0; i < count; i++) codec.Encode(data.Row(i), codes.AsSpan(i * codec.CodeSize, codec.CodeSize));
        int nb = (count + 31) / 32;
        var packed = new byte[nb * blocks.BlockBytes];
        for (int b = 0; b < nb; b++)
        {
            int n = Math.Min(32, count - b * 32);
            blocks.PackBlock(codes.AsSpan(b * 32 * codec.CodeSize, n * codec.CodeSize), n, packed.AsSpan(b * blocks.BlockBytes, blocks.BlockBytes));
        }
        return packed;
    }
}
