using VectorStore.Clustering;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Quantization;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The refine codes live in chunks (one array would stop at 2 GiB, about 5.5M sq8 codes of 384 dimensions). Small
/// chunks here stand in for the real 32 MiB ones: codes encoded out of order, across chunk ends and past reserved
/// room must score, persist and reload exactly as with one chunk.
/// </summary>
public sealed class RefineStageChunkTests
{
    private sealed class Exact(VectorMatrix rows) : IExactVectors
    {
        /// <summary>The most rows one call read.</summary>
        public int LargestBatch { get; private set; }

        public void ComputeDistances(DistanceKind kind, ReadOnlySpan<float> query, ReadOnlySpan<int> slots, Span<float> distances)
        {
            LargestBatch = Math.Max(LargestBatch, slots.Length);
            for (int i = 0; i < slots.Length; i++) distances[i] = Distances.Compute(kind, query, rows.Row(slots[i]));
        }

        public void Prefetch(ReadOnlySpan<int> slots) { }
    }

    private static RefineStage Filled(VectorMatrix data, int chunkBytes, int reserve, int[] order)
    {
        var stage = RefineStage.Train(CompressionSpec.Parse("sq8"), data, DistanceKind.L2, new TrainingContext { Seed = 4 }, chunkBytes);
        stage.Reserve(reserve);
        foreach (int slot in order) stage.Encode(slot, data.Row(slot));
        return stage;
    }

    private static byte[] Bytes(RefineStage stage, int highWater)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) stage.Write(w, highWater);
        return ms.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(700)]
    [InlineData(3000)]
    public void ChunkedCodesScorePersistAndReloadAsOneArray(int reserve)
    {
        var data = SyntheticData.TextLike(3000, 32, seed: 9);
        var order = Enumerable.Range(0, data.Count).OrderBy(i => (i * 7919) % 3001).ToArray();
        var one = Filled(data, RefineStage.ChunkBytesLimit, reserve, order);
        var small = Filled(data, 4096, reserve, order);
        Assert.True(small.ChunkSlots < 200, $"{small.ChunkSlots} slots per chunk: the test would not cross chunk ends");

        byte[] expected = Bytes(one, data.Count);
        Assert.Equal(expected, Bytes(small, data.Count));
        // The chunk size is not part of the bytes: read back with the other one, and written again identically.
        using var r = new BinaryReader(new MemoryStream(expected));
        var reread = RefineStage.Read(r, data.Count, DistanceKind.L2, "test", chunkBytes: 2048);
        Assert.Equal(expected, Bytes(reread, data.Count));

        var raw = new Exact(data);
        var queries = SyntheticData.TextLike(20, 32, seed: 10);
        var slots = Enumerable.Range(0, 400).Select(i => (i * 37) % data.Count).ToArray();
        foreach (var stage in new[] { small, reread })
            for (int q = 0; q < queries.Count; q++)
            {
                var a = new TopK(10);
                var b = new TopK(10);
                Assert.Equal(one.Refine(queries.Row(q), slots, 10, a, raw), stage.Refine(queries.Row(q), slots, 10, b, raw));
                var (sa, da, sb, db) = (new int[10], new float[10], new int[10], new float[10]);
                Assert.Equal(a.Drain(sa, da), b.Drain(sb, db));
                Assert.Equal(sa, sb);
                Assert.Equal(da, db);
            }
    }

    [Fact]
    public void ReservedChunksHoldNoMoreThanTheCodesAndUnencodedSlotsWriteZeros()
    {
        var data = SyntheticData.TextLike(1000, 32, seed: 11);
        var stage = RefineStage.Train(CompressionSpec.Parse("sq8"), data, DistanceKind.L2, new TrainingContext { Seed = 4 }, 4096);
        int size = stage.Codec.CodeSize;
        stage.Reserve(1000);
        Assert.Equal(1000L * size, stage.MemoryBytes - stage.Codec.ParameterBytes);
        stage.Encode(999, data.Row(999));
        Assert.Equal(1000L * size, stage.MemoryBytes - stage.Codec.ParameterBytes);
        // A slot past the reservation grows only the chunk it falls in.
        int chunk = 1000 / stage.ChunkSlots + 5, far = chunk * stage.ChunkSlots + 3;
        stage.Encode(far, data.Row(0));
        long held = stage.MemoryBytes - stage.Codec.ParameterBytes;
        Assert.InRange(held, (far + 1L) * size, (chunk + 1L) * stage.ChunkSlots * size);

        byte[] bytes = Bytes(stage, far + 1);
        int header = bytes.Length - (far + 1) * size;
        Assert.True(bytes.AsSpan(header, 999 * size).IndexOfAnyExcept((byte)0) < 0, "slots never encoded must write zeros");
        var code = new byte[size];
        stage.Codec.Encode(data.Row(0), code);
        Assert.Equal(code, bytes.AsSpan(header + far * size, size).ToArray());
        stage.Codec.Encode(data.Row(999), code);
        Assert.Equal(code, bytes.AsSpan(header + 999 * size, size).ToArray());
    }

    [Fact]
    public void CodesWithoutABoundAreReadInOneBatchAndRankExactly()
    {
        // Trained on one range, then fed vectors three times as large: their sq8 codes saturate, so they have no bound
        // and must be read; the others keep theirs. The result must be the exact top 10 of the candidates either way.
        var train = SyntheticData.TextLike(2000, 32, seed: 12);
        var rows = SyntheticData.TextLike(600, 32, seed: 13);
        var stored = new VectorMatrix(rows.Count, rows.Dimension);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = stored[i];
            rows.Row(i).CopyTo(row);
            if (i % 3 == 0) for (int d = 0; d < row.Length; d++) row[d] *= 3;
        }
        var stage = RefineStage.Train(CompressionSpec.Parse("sq8"), train, DistanceKind.L2, new TrainingContext { Seed = 4 }, 4096);
        stage.Reserve(stored.Count);
        for (int i = 0; i < stored.Count; i++) stage.Encode(i, stored.Row(i));
        var raw = new Exact(stored);
        var queries = SyntheticData.TextLike(10, 32, seed: 14);
        var slots = Enumerable.Range(0, stored.Count).ToArray();
        for (int q = 0; q < queries.Count; q++)
        {
            var heap = new TopK(10);
            int reads = stage.Refine(queries.Row(q), slots, 10, heap, raw);
            Assert.InRange(reads, stored.Count / 3, stored.Count - 1);
            Assert.True(raw.LargestBatch >= stored.Count / 3, $"the unbounded candidates were read {raw.LargestBatch} at a time, not together");
            var (got, gd) = (new int[10], new float[10]);
            Assert.Equal(10, heap.Drain(got, gd));
            // The same ten; certain ones keep their estimates, so their order may differ from the exact one.
            var expected = slots.OrderBy(i => Distances.Compute(DistanceKind.L2, queries.Row(q), stored.Row(i))).ThenBy(i => i).Take(10).Order().ToArray();
            Assert.Equal(expected, got.Order().ToArray());
        }
    }
}
