using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing.Flat;
using VectorStore.Indexing.Hnsw;
using VectorStore.Quantization;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// An index that keeps its codes or links in one array (HNSW) holds a bounded number of slots (<see cref="VectorStore.Indexing.VectorIndex.MaxSlots"/>).
/// A write past it must be refused before it is logged: logged and then failing to apply, it would fail again at every
/// replay and the collection could not open. The real limits need gigabytes of codes, so the collection's limit is
/// lowered here; the indexes' own limits are checked against their array sizes.
/// </summary>
public sealed class CapacityLimitTests
{
    private static ulong[] Ids(int from, int count) => Enumerable.Range(from, count).Select(i => (ulong)i).ToArray();

    private static Collection Create(VectorDatabase db, string index, VectorMatrix data)
    {
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 16, Metric = Metric.Cosine, Compression = "sq8", Index = index, TrainingThreshold = 100 });
        c.UpsertBatch(Ids(0, 200), data.Slice(0, 200));
        Assert.NotNull(c.Index);
        return c;
    }

    private static void AssertRefused(Action write, string expected)
    {
        var e = Assert.Throws<InvalidArgumentException>(write);
        Assert.Contains(expected, e.Message);
        Assert.Contains("nothing of this write or build was kept", e.Message);
    }

    [Fact]
    public void FlatRefusesSlotsPastItsLimitBeforeTheLogAndReusesFreedSlots()
    {
        var data = SyntheticData.TextLike(400, 16, seed: 3);
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir))
        {
            var c = Create(db, "flat", data);
            c.Index!.MaxSlotsForTests = 205;

            AssertRefused(() => c.UpsertBatch(Ids(200, 10), data.Slice(200, 10)), "at most 205 vectors");
            Assert.Equal(200, c.Count);
            c.UpsertBatch(Ids(200, 5), data.Slice(200, 5));
            AssertRefused(() => c.Upsert(500, data.Row(210)), "at most 205 vectors");

            // Updates of present ids take no new slot; deletions free slots for new ids.
            c.UpsertBatch(Ids(0, 50), data.Slice(300, 50));
            for (ulong id = 0; id < 10; id++) Assert.True(c.Delete(id));
            c.UpsertBatch(Ids(205, 10), data.Slice(205, 10));
            AssertRefused(() => c.Upsert(999, data.Row(399)), "at most 205 vectors");
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
            // The limit was the test's, on the index object: the reopened collection takes new rows again.
            c.UpsertBatch(Ids(1000, 10), data.Slice(390, 10));
            Assert.Equal(215, c.Count);
        }
    }

    [Fact]
    public void HnswCountsNodesSoAnUpdateAtTheLimitIsRefusedBeforeTheLog()
    {
        // A replaced row keeps its graph node until a consolidation: at the limit even an update needs a new node.
        var data = SyntheticData.TextLike(400, 16, seed: 4);
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir))
        {
            var c = Create(db, "hnsw:8", data);
            c.Index!.MaxSlotsForTests = 205;
            c.UpsertBatch(Ids(0, 5), data.Slice(300, 5));          // five new nodes: 205 in use
            AssertRefused(() => c.Upsert(7, data.Row(307)), "replaced or deleted rows keep their nodes");
            AssertRefused(() => c.UpsertBatch(Ids(200, 3), data.Slice(200, 3)), "at most 205 vectors");
            Assert.Equal(200, c.Count);
            StorageTestKit.Crash(db);
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(200, c.Count);
            Assert.False(c.Contains(200));
            var options = new SearchOptions { K = 1, Rerank = 20 };
            Assert.Equal(3UL, c.Search(data.Row(303), options)[0].Id);   // the accepted update, replayed
            Assert.Equal(7UL, c.Search(data.Row(7), options)[0].Id);     // the refused one left id 7 as it was
        }
    }

    [Fact]
    public void AnInvertedListRefusesEntriesPastItsArray()
    {
        var codec = CodecRegistry.Train(CompressionSpec.Parse("sq8"), SyntheticData.TextLike(100, 16, seed: 6), DistanceKind.L2, new Clustering.TrainingContext { Seed = 1 });
        var list = new VectorStore.Indexing.Ivf.IvfList(codec.CodeSize, null);
        Assert.Equal(Array.MaxLength / codec.CodeSize, list.MaxEntries);
        var e = Assert.Throws<InvalidArgumentException>(() => { list.Reserve(list.MaxEntries + 1); });
        Assert.Contains("Use more lists", e.Message);
        Assert.Equal(0, list.Capacity);
    }

    [Theory]
    [InlineData("sq8", 384)]
    [InlineData("pq:96x4", 384)]
    [InlineData("none", 1536)]
    public void FlatAndHnswLimitsFollowTheirArrays(string compression, int dimension)
    {
        var sample = SyntheticData.TextLike(300, dimension, seed: 5);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(compression), sample, DistanceKind.NegativeDot, new Clustering.TrainingContext { Seed = 1 });
        // Flat keeps its codes in chunks: only slot numbers limit it (whole chunks below 2^31).
        int flatMax = new FlatIndex(codec, DistanceKind.NegativeDot).MaxSlots;
        Assert.InRange(flatMax, int.MaxValue - (1 << FlatIndex.ChunkShiftFor(codec)) + 1, int.MaxValue);
        Assert.Equal(0, flatMax % (1 << FlatIndex.ChunkShiftFor(codec)));

        // HNSW keeps its codes and layer-0 links in chunks too: not 2 GiB of codes (about 5.5M sq8 codes of 384
        // dimensions before) but its one array of upper-layer links limits it, at half of what fills it on average.
        var hnsw = new HnswIndex(codec, DistanceKind.NegativeDot, 16);
        Assert.InRange(hnsw.MaxSlots, 940_000_000, 950_000_000);
        Assert.InRange(new HnswIndex(codec, DistanceKind.NegativeDot, 2).MaxSlots, 350_000_000, 360_000_000);
    }
}
