using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing.Flat;
using VectorStore.Indexing.Hnsw;
using VectorStore.Quantization;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// An index that keeps its codes in one array holds a bounded number of slots (<see cref="VectorStore.Indexing.VectorIndex.MaxSlots"/>).
/// A write past it must be refused before it is logged: logged and then failing to apply, it would fail again at every
/// replay and the collection could not open. The real limits need gigabytes of codes, so the collection's limit is
/// lowered here; the indexes' own limits are checked against their array sizes.
/// </summary>
public sealed class CapacityLimitTests
{
    private static ulong[] Ids(int from, int count) => Enumerable.Range(from, count).Select(i => (ulong)i).ToArray();

    [Fact]
    public void AWritePastTheLimitIsRefusedBeforeTheLogAndTheCollectionStaysIntact()
    {
        var data = SyntheticData.TextLike(400, 16, seed: 3);
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = 16, Metric = Metric.Cosine, Compression = "sq8", Index = "hnsw:8", TrainingThreshold = 100 });
            c.UpsertBatch(Ids(0, 200), data.Slice(0, 200));
            c.SlotLimitForTests = 205;

            var e = Assert.Throws<InvalidArgumentException>(() => c.UpsertBatch(Ids(200, 10), data.Slice(200, 10)));
            Assert.Contains("at most 205", e.Message);
            Assert.Contains("nothing was written", e.Message);
            Assert.Equal(200, c.Count);
            c.UpsertBatch(Ids(200, 5), data.Slice(200, 5));
            Assert.Throws<InvalidArgumentException>(() => c.Upsert(500, data.Row(210)));

            // Updates of present ids take no new slot; deletions free slots for new ids.
            c.UpsertBatch(Ids(0, 50), data.Slice(300, 50));
            for (ulong id = 0; id < 10; id++) Assert.True(c.Delete(id));
            c.UpsertBatch(Ids(205, 10), data.Slice(205, 10));
            Assert.Throws<InvalidArgumentException>(() => c.Upsert(999, data.Row(399)));
            Assert.Equal(205, c.Count);
            StorageTestKit.Crash(db);
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(205, c.Count);
            Assert.False(c.Contains(999));
            Assert.False(c.Contains(500));
            Assert.False(c.Contains(3));
            Assert.True(c.Contains(214));
            // The update survived the replay: id 20 holds data row 320.
            Assert.Equal(20UL, c.Search(data.Row(320), new SearchOptions { K = 1, Rerank = 20 })[0].Id);
            // Without the test's limit the collection takes new rows again.
            c.UpsertBatch(Ids(1000, 10), data.Slice(390, 10));
            Assert.Equal(215, c.Count);
        }
    }

    [Theory]
    [InlineData("sq8", 384)]
    [InlineData("pq:96x4", 384)]
    [InlineData("none", 1536)]
    public void FlatAndHnswLimitsFollowTheirArrays(string compression, int dimension)
    {
        var sample = SyntheticData.TextLike(300, dimension, seed: 5);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(compression), sample, DistanceKind.NegativeDot, new Clustering.TrainingContext { Seed = 1 });
        var flat = new FlatIndex(codec, DistanceKind.NegativeDot);
        long flatBytes = codec.BlockLayout is { } blocks ? (long)flat.MaxSlots / blocks.BlockVectors * blocks.BlockBytes : (long)flat.MaxSlots * codec.CodeSize;
        Assert.InRange(flatBytes, Array.MaxLength - 64L * codec.CodeSize, Array.MaxLength);

        var hnsw = new HnswIndex(codec, DistanceKind.NegativeDot, 16);
        Assert.True((long)hnsw.MaxSlots * codec.CodeSize <= Array.MaxLength);
        Assert.True((long)(hnsw.MaxSlots + 1) * codec.CodeSize > Array.MaxLength || (long)(hnsw.MaxSlots + 1) * 33 > Array.MaxLength);
        if (compression == "sq8") Assert.InRange(hnsw.MaxSlots, 5_500_000, 5_600_000); // 388-byte codes: the limit the refusal guards
    }
}
