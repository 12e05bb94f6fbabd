using VectorStore.Indexing.Hnsw;
using Xunit;
using static VectorStore.Tests.Indexing.Hnsw.HnswTestKit;
using static VectorStore.Tests.Indexing.IndexSnapshots;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary>
/// Change images (data-format.md §3.4): an image of the graph plus the nodes changed since it is the graph as it is
/// now, byte for byte, through inserts, overwrites, deletions, consolidation and reuse of freed nodes; recording goes
/// on from a restored image; an image that does not fit its base is refused.
/// </summary>
public sealed class HnswChangeImageTests
{
    private static byte[] Changes(HnswIndex index)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) index.WriteChanges(w);
        return ms.ToArray();
    }

    private static HnswIndex Apply(byte[] image, byte[] changes)
    {
        var index = (HnswIndex)Restore(image);
        using var r = new BinaryReader(new MemoryStream(changes));
        index.ApplyChanges(r);
        Assert.Equal(changes.Length, r.BaseStream.Position);
        return index;
    }

    /// <summary>Inserts new slots on two threads, overwrites some, deletes enough to consolidate, re-inserts into freed nodes.</summary>
    private static void Churn(HnswIndex index, VectorMatrix data, int from, int seed)
    {
        var rng = new Random(seed);
        index.AddBatch(Enumerable.Range(from, 300).ToArray(), data.Slice(from, 300), threads: 2);
        for (int i = 0; i < 50; i++)
        {
            int s = rng.Next(from + 300);
            index.Add(s, data.Row((s + 7) % data.Count));
        }
        int deadBefore = index.DeletedPending;
        var removed = Enumerable.Range(0, from + 300).OrderBy(_ => rng.Next()).Take(160).ToArray();
        foreach (int s in removed) index.Remove(s);
        Assert.True(index.DeletedPending < deadBefore + removed.Length, "the deletions must reach consolidation");
        foreach (int s in removed.Take(100)) index.Add(s, data.Row(s));
    }

    [Theory]
    [InlineData("sq8", "hnsw:8")]
    [InlineData("pq:4x4", "hnsw:6,40")]
    public void ImagePlusChangesIsTheGraphAsItIsNowAndRecordingContinuesAfterARestore(string compression, string spec)
    {
        var (data, queries) = Clustered(3000, 20, 16, seed: 5);
        var index = Build(data.Slice(0, 2000), compression, spec: spec, threads: 1);
        Assert.False(index.RecordsChanges);
        index.StartChangeImage();
        var image = Snapshot(index);
        Churn(index, data, 2000, seed: 1);
        var changes = Changes(index);
        Assert.True(changes.Length < image.Length, $"{changes.Length} bytes of changes against a {image.Length}-byte image");
        var restored = Apply(image, changes);
        Assert.Equal(Snapshot(index), Snapshot(restored));
        Assert.Equal(index.Count, restored.Count);
        for (int q = 0; q < queries.Count; q++)
            Assert.Equal(Search(index, data, queries.Row(q)), Search(restored, data, queries.Row(q)));

        // The restored graph keeps recording relative to the same image.
        Assert.True(restored.RecordsChanges);
        Churn(restored, data, 2300, seed: 2);
        var again = Apply(image, Changes(restored));
        Assert.Equal(Snapshot(restored), Snapshot(again));
    }

    [Fact]
    public void EmptyChangesReproduceTheImage()
    {
        var (data, _) = Clustered(500, 1, 16, seed: 6);
        var index = Build(data, threads: 1);
        index.StartChangeImage();
        var image = Snapshot(index);
        Assert.Equal(0, index.ChangeImageBytes);
        Assert.Equal(image, Snapshot(Apply(image, Changes(index))));
    }

    /// <summary>A stream whose first write parks the writer until released: the writer is then inside the image.</summary>
    private sealed class ParkingStream : MemoryStream
    {
        public ManualResetEventSlim Entered { get; } = new();
        public ManualResetEventSlim Released { get; } = new();

        private void Park()
        {
            Entered.Set();
            Released.Wait();
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Park();
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Park();
            base.Write(buffer.ToArray(), 0, buffer.Length);
        }

        public override void WriteByte(byte value)
        {
            Park();
            base.WriteByte(value);
        }
    }

    [Fact]
    public async Task SearchesRunWhileTheGraphIsWrittenAndMutationsWaitForIt()
    {
        var (data, queries) = Clustered(2100, 5, 16, seed: 8);
        var index = Build(data.Slice(0, 2000), threads: 1);
        var expected = new MemoryStream();
        using (var w = new BinaryWriter(expected, System.Text.Encoding.UTF8, leaveOpen: true)) index.Write(w);
        var expectedHits = Search(index, data, queries.Row(0));
        using var stream = new ParkingStream();
        var writing = Task.Run(() =>
        {
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            index.Write(w); // its first write is inside the image lock
        });
        Assert.True(await Task.Run(() => stream.Entered.Wait(TimeSpan.FromSeconds(30))), "the writer never started");
        var searching = Task.Run(() => Search(index, data, queries.Row(0)));
        Assert.Same(searching, await Task.WhenAny(searching, Task.Delay(TimeSpan.FromSeconds(30))));
        Assert.Equal(expectedHits, await searching);
        var adding = Task.Run(() => index.Add(2050, data.Row(2050)));
        var removing = Task.Run(() => index.Remove(7));
        var mutations = Task.WhenAll(adding, removing);
        Assert.NotSame(mutations, await Task.WhenAny(mutations, Task.Delay(300)));
        stream.Released.Set();
        await Task.WhenAll(writing, mutations);
        Assert.Equal(expected.ToArray(), stream.ToArray());
        Assert.Equal(2000, index.Count);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("version")]
    [InlineData("other-base")]
    [InlineData("node-out-of-range")]
    [InlineData("no-entry")]
    public void ChangesThatDoNotFitTheirImageAreRefused(string damage)
    {
        var (data, _) = Clustered(2600, 1, 16, seed: 7);
        var index = Build(data.Slice(0, 2000), threads: 1);
        index.StartChangeImage();
        var image = Snapshot(index);
        index.AddBatch(Enumerable.Range(2000, 600).ToArray(), data.Slice(2000, 600), threads: 1);
        var changes = Changes(index);
        switch (damage)
        {
            case "truncated": changes = changes[..(changes.Length / 2)]; break;
            case "version": changes[0] = 9; break;
            case "other-base": image = Snapshot(Create(data)); break; // an empty graph: 2,000 nodes would be missing
            // After version, inserted, node count, entry node and level, and the changed count: the first node id.
            case "node-out-of-range": BitConverter.TryWriteBytes(changes.AsSpan(28), int.MaxValue); break;
            // Live nodes but no entry point: searches would find nothing.
            case "no-entry": BitConverter.TryWriteBytes(changes.AsSpan(16), -1); break;
        }
        var e = Assert.ThrowsAny<SystemException>(() => Apply(image, changes));
        Assert.True(e is InvalidDataException or EndOfStreamException, e.ToString());
    }
}
