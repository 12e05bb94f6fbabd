using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>The asynchronous API: cancellation, get-or-create / try-get / exists, and the async client paths.</summary>
public sealed class AsyncApiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vs-async-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private static readonly CollectionOptions Options4 = new() { Dimension = 4, Metric = Metric.L2, Compression = "none" };

    private static VectorMatrix Vectors(int n, int dim = 4) => SyntheticData.Clustered(n, dim, seed: 3);

    [Fact]
    public async Task AnUpsertWhoseTokenIsAlreadyCancelledChangesNothing()
    {
        using var db = VectorDatabase.Open(_dir);
        var c = db.CreateCollection("c", Options4);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.UpsertBatchAsync([1, 2], Vectors(2), null, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.UpsertAsync(3, new float[4], default, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.DeleteAsync(1, cts.Token));
        Assert.Equal(0, c.Count);
        var search = c.SearchAsync(new float[4], null, cts.Token);
        Assert.True(search.IsCanceled);
        Assert.True(c.GetAsync(1, cts.Token).IsCanceled);
    }

    [Fact]
    public async Task ASearchBatchStopsWhenItsTokenIsCancelledPartWay()
    {
        using var db = VectorDatabase.CreateInMemory(new DatabaseOptions { Threads = 1 });
        var c = db.CreateCollection("c", Options4);
        c.UpsertBatch(Enumerable.Range(0, 100).Select(i => (ulong)i).ToArray(), Vectors(100));
        using var cts = new CancellationTokenSource();
        int searched = 0;
        // The predicate runs once per entry per query: cancel during the 3rd query of 1,000.
        var filter = new SearchFilter { Predicate = (_, _) => { if (Interlocked.Increment(ref searched) == 250) cts.Cancel(); return true; } };
        var task = c.SearchBatchAsync(Vectors(1_000), new SearchOptions { K = 2, Filter = filter }, threads: 1, cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(searched < 100 * 1_000 / 2, $"{searched} predicate calls: the batch ran on after cancellation");
    }

    [Fact]
    public async Task AsyncWritesAreDurableAndReadBack()
    {
        using (var db = VectorDatabase.Open(_dir))
        {
            var c = db.CreateCollection("c", Options4);
            await c.UpsertBatchAsync([1, 2, 3], Vectors(3), [[1], null, [3, 3]]);
            await c.UpsertAsync(4, new float[] { 1, 2, 3, 4 }, new byte[] { 4 });
            Assert.True(await c.DeleteAsync(2));
            Assert.False(await c.DeleteAsync(2));
            Assert.Equal(new[] { true, false }, await c.DeleteBatchAsync([3, 99]));
            var got = await c.GetAsync(4);
            Assert.Equal(new float[] { 1, 2, 3, 4 }, got!.Vector);
            Assert.Equal(4UL, (await c.SearchAsync(new float[] { 1, 2, 3, 4 }))[0].Id);
            await db.FlushAsync();
            db.SimulateCrash();
        }
        using var reopened = VectorDatabase.Open(_dir);
        var r = reopened.GetCollection("c");
        Assert.Equal([1UL, 4UL], r.Ids());
        Assert.Equal(new byte[] { 1 }, r.Get(1)!.Payload);
    }

    [Fact]
    public async Task ABadBatchFaultsTheTaskWithTheEnginesError()
    {
        using var db = VectorDatabase.Open(_dir);
        var c = db.CreateCollection("c", Options4);
        var v = Vectors(2);
        v[1][0] = float.NaN;
        await Assert.ThrowsAsync<InvalidVectorException>(() => c.UpsertBatchAsync([1, 2], v));
        await Assert.ThrowsAsync<InvalidVectorException>(() => c.UpsertAsync(1, new float[3]));
        Assert.Equal(0, c.Count);
    }

    [Fact]
    public void ExistsTryGetAndGetOrCreate()
    {
        using var db = VectorDatabase.Open(_dir);
        Assert.False(db.CollectionExists("docs"));
        Assert.False(db.TryGetCollection("docs", out var none));
        Assert.Null(none);
        var first = db.GetOrCreateCollection("docs", Options4, out bool created);
        Assert.True(created);
        var second = db.GetOrCreateCollection("docs", Options4, out created);
        Assert.False(created);
        Assert.Same(first, second);
        Assert.True(db.CollectionExists("docs"));
        Assert.True(db.TryGetCollection("docs", out var got));
        Assert.Same(first, got);
        // Residency left unset matches what the engine chose; a different shape is refused, naming it.
        Assert.Same(first, db.GetOrCreateCollection("docs", Options4 with { RawVectors = first.Options.RawVectors }));
        var e = Assert.Throws<InvalidArgumentException>(() => db.GetOrCreateCollection("docs", Options4 with { Dimension = 8 }));
        Assert.Contains("dimension 4, not 8", e.Message);
        e = Assert.Throws<InvalidArgumentException>(() => db.GetOrCreateCollection("docs", Options4 with { Metric = Metric.Cosine }));
        Assert.Contains("metric", e.Message);
        Assert.Throws<InvalidArgumentException>(() => db.GetOrCreateCollection("bad name", Options4));
    }

    [Fact]
    public void GetOrCreateFindsTheCollectionAfterReopening()
    {
        // The README's snippet run twice: the second run must find, not fail on, the collection.
        for (int run = 0; run < 2; run++)
        {
            using var db = VectorDatabase.Open(_dir);
            var c = db.GetOrCreateCollection("docs", Options4, out bool created);
            Assert.Equal(run == 0, created);
            c.Upsert((ulong)run, new float[] { run, 0, 0, 0 });
            Assert.Equal(run + 1, c.Count);
        }
    }

    [Fact]
    public async Task ConcurrentGetOrCreateCreatesOnce()
    {
        using var db = VectorDatabase.CreateInMemory();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => db.GetOrCreateCollection("c", Options4, out bool created) is var c ? (c, created) : default)));
        Assert.Single(results, r => r.created);
        Assert.All(results, r => Assert.Same(results[0].c, r.c));
    }

    [Fact]
    public async Task TheInProcessClientsExistsAndGetOrCreate()
    {
        await using var client = new InProcessDatabaseClient(VectorDatabase.Open(_dir), ownsDatabase: true);
        IVectorDatabaseClient api = client;
        Assert.False(await api.CollectionExistsAsync("c"));
        Assert.True(await api.GetOrCreateCollectionAsync("c", Options4));
        Assert.False(await api.GetOrCreateCollectionAsync("c", Options4));
        Assert.True(await api.CollectionExistsAsync("c"));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => api.GetOrCreateCollectionAsync("c", Options4 with { Dimension = 5 }));
        await api.UpsertBatchAsync("c", [7], Vectors(1));
        Assert.Equal(new[] { true }, await api.DeleteBatchAsync("c", [7]));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => api.UpsertBatchAsync("c", [8], Vectors(1), null, cts.Token));
        Assert.Equal(0, client.Database.GetCollection("c").Count);
    }

    [Fact]
    public async Task TheTcpClientsExistsAndGetOrCreateCompareOptions()
    {
        await using var server = VectorStore.Tests.Protocol.LiveServer.Start();
        await using var client = await server.ConnectAsync();
        IVectorDatabaseClient api = client;
        Assert.False(await api.CollectionExistsAsync("r"));
        Assert.True(await api.GetOrCreateCollectionAsync("r", Options4));
        Assert.False(await api.GetOrCreateCollectionAsync("r", Options4));
        Assert.True(await api.CollectionExistsAsync("r"));
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => api.GetOrCreateCollectionAsync("r", Options4 with { Dimension = 5 }));
        Assert.Contains("dimension 4, not 5", e.Message);
        // A refusal that is not a lost race (a bad name) is reported as such.
        e = await Assert.ThrowsAsync<InvalidArgumentException>(() => api.GetOrCreateCollectionAsync("bad name", Options4));
        Assert.Contains("invalid collection name", e.Message);
    }
}
