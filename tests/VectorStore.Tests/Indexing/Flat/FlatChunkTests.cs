using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Indexing.Flat;

/// <summary>
/// A flat index keeps its codes in chunks (the first one doubling up to a whole chunk). Chunking is a memory layout
/// only: an index of 256-slot chunks must answer every search, batch search and filtered search exactly as one whose
/// codes all sit in a single chunk, and write the same snapshot bytes.
/// </summary>
public sealed class FlatChunkTests
{
    private const int Dim = 32, Count = 3000;
    private static readonly VectorMatrix Data = SyntheticData.Clustered(Count + 40, Dim, seed: 11);

    private static FlatIndex Build(VectorCodec codec, int chunkShift, bool oneByOne)
    {
        var index = new FlatIndex(codec, DistanceKind.L2, 16, chunkShift);
        if (oneByOne)
            for (int s = 0; s < Count; s++) index.Add(s, Data.Row(s));
        else
        {
            // Out of order and in several batches: later batches land in earlier chunks too.
            var slots = Enumerable.Range(0, Count).Reverse().ToArray();
            for (int from = 0; from < Count; from += 700)
            {
                int n = Math.Min(700, Count - from);
                index.AddBatch(slots.AsSpan(from, n), Data.Select(slots.AsSpan(from, n)), 2);
            }
        }
        for (int s = 0; s < Count; s += 97) index.Remove(s);
        return index;
    }

    private static (int[], float[]) Search(VectorIndex index, int q, SlotFilter? filter = null)
    {
        var heap = new TopK(20);
        index.Search(Data.Row(Count + q), default, filter, heap);
        var slots = new int[20];
        var dist = new float[20];
        int n = heap.Drain(slots, dist);
        return (slots[..n], dist[..n]);
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("sq8", false)]
    [InlineData("pq:8x4", true)]
    [InlineData("pq:8x4", false)]
    public void ManySmallChunksAnswerAndWriteAsOneChunk(string compression, bool oneByOne)
    {
        var codec = CodecRegistry.Train(CompressionSpec.Parse(compression), Data.Slice(0, 1000), DistanceKind.L2);
        var chunked = Build(codec, 8, oneByOne);   // 12 chunks of 256 slots
        var single = Build(codec, 20, oneByOne);   // every code in the first chunk
        Assert.Equal(single.Count, chunked.Count);

        using var filter = new SlotFilter(Count);
        for (int s = 3; s < Count; s += 41) filter.Add(s); // selective: scored slot by slot
        for (int q = 0; q < 40; q++)
        {
            AssertSame(Search(single, q), Search(chunked, q));
            AssertSame(Search(single, q, filter), Search(chunked, q, filter));
        }

        var batchSingle = Enumerable.Range(0, 40).Select(_ => new TopK(10)).ToArray();
        var batchChunked = Enumerable.Range(0, 40).Select(_ => new TopK(10)).ToArray();
        var queries = Data.Slice(Count, 40).Data;
        single.SearchBatch(queries, default, batchSingle);
        chunked.SearchBatch(queries, default, batchChunked);
        for (int q = 0; q < 40; q++)
        {
            var (a, b) = (new int[10], new int[10]);
            var (da, db) = (new float[10], new float[10]);
            Assert.Equal(batchSingle[q].Drain(a, da), batchChunked[q].Drain(b, db));
            Assert.Equal(a, b);
            Assert.Equal(da, db);
        }

        // The snapshot holds one code per slot whatever the chunks; read back, it answers the same.
        var bytes = IndexSnapshots.Snapshot(chunked);
        Assert.Equal(IndexSnapshots.Snapshot(single), bytes);
        var reopened = IndexSnapshots.Restore(bytes);
        for (int q = 0; q < 10; q++) AssertSame(Search(single, q), Search(reopened, q));
    }

    private static void AssertSame((int[] Slots, float[] Distances) expected, (int[] Slots, float[] Distances) actual)
    {
        Assert.Equal(expected.Slots, actual.Slots);
        Assert.Equal(expected.Distances, actual.Distances);
    }

    [Fact]
    public void ChunksAreAboutAMiBAndHoldWholeScanBlocks()
    {
        foreach (var (compression, dim) in new[] { ("none", 384), ("sq8", 384), ("pq:96x4", 384), ("none", 16384) })
        {
            var sample = SyntheticData.TextLike(300, dim, seed: 2);
            var codec = CodecRegistry.Train(CompressionSpec.Parse(compression), sample, DistanceKind.L2);
            int slots = 1 << FlatIndex.ChunkShiftFor(codec);
            double perSlot = codec.BlockLayout is { } b ? (double)b.BlockBytes / b.BlockVectors : codec.CodeSize;
            Assert.True(slots >= 256, $"{compression}/{dim}: {slots} slots per chunk");
            // The largest power of two within the target, unless one scan block is already larger.
            if (slots > 256) Assert.InRange(slots * perSlot, FlatIndex.ChunkTargetBytes / 2 + 1, FlatIndex.ChunkTargetBytes);
        }
    }

    [Fact]
    public void AChunkSmallerThanAScanBlockIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlatIndex(
            CodecRegistry.Train(CompressionSpec.Parse("none"), Data.Slice(0, 100), DistanceKind.L2), DistanceKind.L2, 16, 7));
}
