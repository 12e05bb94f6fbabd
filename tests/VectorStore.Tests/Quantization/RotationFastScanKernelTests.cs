using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Indexing.Flat;
using VectorStore.Ranking;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The fast-scan layout of 1-, 2- and 4-bit <c>rq</c> codes: codes survive the trip into blocks and back byte for byte, and
/// a block scan gives exactly the per-code estimate (the same float, so flat/IVF scans, HNSW and refine agree).
/// Named a kernel test so CI also runs it with AVX-512, AVX2 or all intrinsics off and on Arm64 (the fast-scan
/// kernel's paths and the Vector256 / scalar factor paths).
/// </summary>
public class RotationFastScanKernelTests
{
    private static (RotationQuantizer Rq, VectorMatrix Data, byte[] Codes) Encode(int bits, int dim, int centroids, int count, int seed, bool normalize = false)
    {
        var data = SyntheticData.Clustered(count + 5, dim, seed: seed, normalize: normalize);
        var rq = RotationQuantizer.Train(data.Slice(0, count), bits, seed, centroids, null);
        var codes = new byte[count * rq.CodeSize];
        rq.EncodeBatch(data.Slice(0, count), codes, 1);
        return (rq, data, codes);
    }

    private static byte[] Pack(IBlockCodec layout, byte[] codes, int size, int count)
    {
        int bv = layout.BlockVectors, blocks = (count + bv - 1) / bv;
        var packed = new byte[blocks * layout.BlockBytes];
        for (int b = 0; b < blocks; b++)
        {
            int n = Math.Min(bv, count - b * bv);
            layout.PackBlock(codes.AsSpan(b * bv * size, n * size), n, packed.AsSpan(b * layout.BlockBytes, layout.BlockBytes));
        }
        return packed;
    }

    [Theory]
    [InlineData(1, 384, 1)]
    [InlineData(1, 130, 7)]
    [InlineData(1, 5, 1)]
    [InlineData(2, 384, 9)]
    [InlineData(2, 101, 1)]
    [InlineData(2, 64, 300)]
    [InlineData(2, 512, 3)]
    [InlineData(1, 1024, 3)]
    [InlineData(4, 384, 5)]
    [InlineData(4, 129, 1)]
    [InlineData(4, 512, 2)]
    public void CodesComeBackFromBlocksByteForByte(int bits, int dim, int centroids)
    {
        var (rq, _, codes) = Encode(bits, dim, centroids, 333, seed: dim + bits);
        var layout = rq.BlockLayout!;
        Assert.NotNull(layout);
        int size = rq.CodeSize;
        var packed = Pack(layout, codes, size, 333);
        var back = new byte[size];
        for (int i = 0; i < 333; i++)
        {
            layout.GetBlockCode(packed.AsSpan(i / 32 * layout.BlockBytes, layout.BlockBytes), i % 32, back);
            Assert.True(codes.AsSpan(i * size, size).SequenceEqual(back), $"code {i} differs after the block round trip");
        }
        // Overwriting one position leaves its neighbours (the other nibble of each byte) alone.
        var block = packed.AsSpan(0, layout.BlockBytes);
        layout.SetBlockCode(block, 17, codes.AsSpan(3 * size, size));
        layout.GetBlockCode(block, 17, back);
        Assert.True(codes.AsSpan(3 * size, size).SequenceEqual(back));
        layout.GetBlockCode(block, 1, back);
        Assert.True(codes.AsSpan(1 * size, size).SequenceEqual(back));
    }

    [Theory]
    [InlineData(1, 384, 1, DistanceKind.NegativeDot)]
    [InlineData(1, 128, 16, DistanceKind.L2)]
    [InlineData(2, 384, 12, DistanceKind.NegativeDot)]
    [InlineData(2, 130, 1, DistanceKind.L2)]
    [InlineData(2, 96, 300, DistanceKind.L2)]
    [InlineData(4, 384, 7, DistanceKind.NegativeDot)]
    [InlineData(4, 37, 1, DistanceKind.L2)]
    public void BlockScansGiveExactlyThePerCodeEstimates(int bits, int dim, int centroids, DistanceKind kind)
    {
        const int count = 1_000;
        var (rq, data, codes) = Encode(bits, dim, centroids, count, seed: 11 * bits + dim, normalize: kind == DistanceKind.NegativeDot);
        int size = rq.CodeSize;
        var packed = Pack(rq.BlockLayout!, codes, size, count);
        var scorer = rq.CreateScorer(kind);
        var blocks = (IBlockScorer)scorer;
        var scanned = new float[count];
        var positions = new int[count];
        var below = new float[count];
        for (int q = count; q < count + 5; q++)
        {
            scorer.SetQuery(data.Row(q));
            blocks.ScanBlocks(packed, count, scanned);
            var perCode = new float[count];
            for (int i = 0; i < count; i++)
            {
                perCode[i] = scorer.Distance(codes.AsSpan(i * size, size));
                Assert.Equal(perCode[i], scanned[i]);
            }
            // The packed integer kernel's reference gives the same estimate too.
            Assert.Equal(((RotationScorer)scorer).DistanceScalar(codes.AsSpan(7 * size, size)), scanned[7]);
            float threshold = perCode.Order().ElementAt(37);
            int found = blocks.ScanBlocksBelow(packed, count, threshold, positions, below);
            var expected = Enumerable.Range(0, count).Where(i => perCode[i] <= threshold).ToArray();
            Assert.Equal(expected, positions.AsSpan(0, found).ToArray());
            for (int h = 0; h < found; h++) Assert.Equal(perCode[positions[h]], below[h]);
            // A partial last block: only the first `count` codes are scored.
            blocks.ScanBlocks(packed, 45, scanned.AsSpan(0, 45));
            Assert.Equal(perCode[44], scanned[44]);
        }
    }

    [Theory]
    [InlineData(3, 384)]
    [InlineData(5, 384)]
    [InlineData(8, 64)]
    [InlineData(1, 1_028)]
    [InlineData(2, 516)]
    [InlineData(4, 516)]
    public void WiderCodesAndLargeDimensionsHaveNoBlockLayout(int bits, int dim)
    {
        var rq = RotationQuantizer.Train(SyntheticData.Clustered(40, dim, seed: 1), bits, 1);
        Assert.Null(rq.BlockLayout);
        Assert.Throws<NotSupportedException>(() => ((IBlockScorer)rq.CreateScorer(DistanceKind.L2)).ScanBlocks(new byte[64], 1, new float[1]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void FlatSearchThroughBlocksMatchesPerCodeRanking(int bits)
    {
        const int count = 700;
        var (rq, data, codes) = Encode(bits, 64, 8, count, seed: 3);
        var index = new FlatIndex(rq, DistanceKind.L2);
        for (int i = 0; i < count; i++) index.Add(i, data.Row(i));
        var heap = new TopK(10);
        var slots = new int[10];
        var dist = new float[10];
        var scorer = rq.CreateScorer(DistanceKind.L2);
        int size = rq.CodeSize;
        for (int q = count; q < count + 5; q++)
        {
            scorer.SetQuery(data.Row(q));
            var expected = Enumerable.Range(0, count).Select(i => (i, d: scorer.Distance(codes.AsSpan(i * size, size))))
                .OrderBy(p => p.d).ThenBy(p => p.i).Take(10).Select(p => p.i).ToArray();
            heap.Reset(10);
            index.Search(data.Row(q), default, null, heap);
            int n = heap.Drain(slots, dist);
            Assert.Equal(expected, slots.Take(n).ToArray());
        }
    }

    [Fact]
    public void ADamagedCentroidNumberInABlockScoresAsFarthestAndLeavesTheOthers()
    {
        var (rq, data, codes) = Encode(2, 64, 5, 40, seed: 8);
        int size = rq.CodeSize;
        var packed = Pack(rq.BlockLayout!, codes, size, 40);
        var scorer = rq.CreateScorer(DistanceKind.L2);
        scorer.SetQuery(data.Row(40));
        var before = new float[40];
        ((IBlockScorer)scorer).ScanBlocks(packed, 40, before);
        var code = codes.AsSpan(6 * size, size).ToArray();
        code[^1] = 250; // the centroid number (u8: 5 centroids)
        rq.BlockLayout!.SetBlockCode(packed.AsSpan(0, rq.BlockLayout.BlockBytes), 6, code);
        var after = new float[40];
        ((IBlockScorer)scorer).ScanBlocks(packed, 40, after);
        Assert.Equal(float.PositiveInfinity, after[6]);
        for (int i = 0; i < 40; i++) if (i != 6) Assert.Equal(before[i], after[i]);
    }
}
