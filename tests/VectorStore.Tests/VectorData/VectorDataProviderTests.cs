using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using VectorStore.Tests.Protocol;
using VectorStore.VectorData;
using Xunit;

namespace VectorStore.Tests.VectorData;

/// <summary>
/// Conformance-style checks of the Microsoft.Extensions.VectorData provider (the behaviours the published suite in
/// dotnet/extensions checks: collection management, CRUD by key and in batches, search with top/skip/IncludeVectors/
/// score threshold, key types, definition-based and dynamic records), each run embedded and against a server.
/// </summary>
public sealed class VectorDataProviderTests
{
    public sealed class Hotel
    {
        [VectorStoreKey] public ulong HotelId { get; set; }
        [VectorStoreData] public string? Name { get; set; }
        [VectorStoreData] public int Rating { get; set; }
        [VectorStoreData] public List<string>? Tags { get; set; }
        [VectorStoreData(StorageName = "opened")] public DateTimeOffset? Opened { get; set; }
        [VectorStoreVector(4, DistanceFunction = DistanceFunction.CosineSimilarity)] public ReadOnlyMemory<float>? Embedding { get; set; }
    }

    public sealed class GuidRecord
    {
        [VectorStoreKey] public Guid Id { get; set; }
        [VectorStoreData] public string? Text { get; set; }
        [VectorStoreVector(3, DistanceFunction = DistanceFunction.EuclideanSquaredDistance)] public float[]? Vector { get; set; }
    }

    public sealed class StringRecord
    {
        public string Key { get; set; } = "";
        public double Price { get; set; }
        public Embedding<float>? Vector { get; set; }
    }

    public sealed class Reading
    {
        [VectorStoreKey] public ulong Id { get; set; }
        [VectorStoreData] public double Value { get; set; }
        [VectorStoreData] public float? Ratio { get; set; }
        [VectorStoreVector(2)] public float[]? Vector { get; set; }
    }

    /// <summary>A store embedded (in-memory database) or served on 127.0.0.1; disposing closes both.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private readonly LiveServer? _server;
        private readonly IVectorDatabaseClient _client;

        private Fixture(LiveServer? server, IVectorDatabaseClient client)
        {
            _server = server;
            _client = client;
            Store = new EngineVectorStore(client, new VectorStore.Collections.CollectionOptions { Dimension = 1, Compression = "none" });
        }

        public EngineVectorStore Store { get; }

        public static async Task<Fixture> StartAsync(bool remote)
        {
            if (!remote) return new Fixture(null, new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true));
            var server = LiveServer.Start();
            return new Fixture(server, await server.ConnectAsync());
        }

        public async ValueTask DisposeAsync()
        {
            Store.Dispose();
            await _client.DisposeAsync();
            if (_server is not null)
            {
                await _server.DisposeAsync();
                _server.Database.Dispose();
            }
        }
    }

    private static Hotel NewHotel(ulong id, string name, int rating, params float[] v) =>
        new() { HotelId = id, Name = name, Rating = rating, Tags = ["a", name], Opened = new DateTimeOffset(2020, 1, (int)id, 0, 0, 0, TimeSpan.Zero), Embedding = v };

    private static async Task<VectorStoreCollection<ulong, Hotel>> HotelsAsync(Fixture f)
    {
        var c = f.Store.GetCollection<ulong, Hotel>("hotels");
        await c.EnsureCollectionExistsAsync();
        await c.UpsertAsync([
            NewHotel(1, "one", 1, 1, 0, 0, 0),
            NewHotel(2, "two", 2, 0, 1, 0, 0),
            NewHotel(3, "three", 3, 0.9f, 0.1f, 0, 0),
            NewHotel(4, "four", 4, 0, 0, 1, 0),
        ]);
        return c;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CollectionManagement(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var c = f.Store.GetCollection<ulong, Hotel>("hotels");
        Assert.Equal("hotels", c.Name);
        Assert.False(await c.CollectionExistsAsync());
        await c.EnsureCollectionExistsAsync();
        await c.EnsureCollectionExistsAsync(); // idempotent
        Assert.True(await c.CollectionExistsAsync());
        Assert.True(await f.Store.CollectionExistsAsync("hotels"));
        Assert.Contains("hotels", await f.Store.ListCollectionNamesAsync().ToListAsync());
        // Same name, another dimension: refused rather than mixing shapes.
        var other = f.Store.GetCollection<Guid, GuidRecord>("hotels");
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => other.EnsureCollectionExistsAsync());
        Assert.Contains("dimension 4, not 3", e.Message);
        await c.EnsureCollectionDeletedAsync();
        await c.EnsureCollectionDeletedAsync(); // idempotent
        Assert.False(await c.CollectionExistsAsync());
        Assert.Equal("vectorstore", f.Store.GetService(typeof(VectorStoreMetadata)) is VectorStoreMetadata m ? m.VectorStoreSystemName : null);
        Assert.Equal("hotels", ((VectorStoreCollectionMetadata)c.GetService(typeof(VectorStoreCollectionMetadata))!).CollectionName);
    }

    /// <summary>
    /// NaN and ±Infinity in a float or double data property (not indexed) are stored and read back: JSON has no
    /// number for them, and the upsert used to fail with System.Text.Json's advice about its serializer options.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NonFiniteNumbersInDataPropertiesRoundTrip(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var c = f.Store.GetCollection<ulong, Reading>("readings");
        await c.EnsureCollectionExistsAsync();
        var written = new Reading[]
        {
            new() { Id = 1, Value = double.NaN, Ratio = float.PositiveInfinity, Vector = [1, 0] },
            new() { Id = 2, Value = double.NegativeInfinity, Ratio = float.NaN, Vector = [0, 1] },
            new() { Id = 3, Value = double.PositiveInfinity, Ratio = float.NegativeInfinity, Vector = [1, 1] },
            new() { Id = 4, Value = 2.5, Ratio = null, Vector = [1, 2] },
        };
        await c.UpsertAsync(written);
        foreach (var w in written)
        {
            var r = await c.GetAsync(w.Id);
            Assert.NotNull(r);
            Assert.Equal(w.Value, r!.Value);
            Assert.Equal(w.Ratio, r.Ratio);
        }
    }

    /// <summary>The same key twice in one batch is refused whole, as the README says (not resolved to the last).</summary>
    [Fact]
    public async Task TheSameKeyTwiceInOneBatchIsRefusedWhole()
    {
        await using var f = await Fixture.StartAsync(remote: false);
        var c = f.Store.GetCollection<ulong, Reading>("readings");
        await c.EnsureCollectionExistsAsync();
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => c.UpsertAsync([
            new Reading { Id = 1, Value = 1, Vector = [1, 0] },
            new Reading { Id = 2, Value = 2, Vector = [0, 1] },
            new Reading { Id = 1, Value = 3, Vector = [1, 1] },
        ]));
        Assert.IsType<InvalidArgumentException>(e.InnerException);
        Assert.Contains("id 1 appears twice", e.Message);
        Assert.Null(await c.GetAsync(2UL));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpsertGetAndDeleteByKeyAndInBatches(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var c = await HotelsAsync(f);
        var two = await c.GetAsync(2);
        Assert.NotNull(two);
        Assert.Equal("two", two.Name);
        Assert.Equal(2, two.Rating);
        Assert.Equal(["a", "two"], two.Tags);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 0, 0, 0, TimeSpan.Zero), two.Opened);
        Assert.Null(two.Embedding); // vectors only on request
        var withVector = await c.GetAsync(2, new RecordRetrievalOptions { IncludeVectors = true });
        Assert.Equal(new float[] { 0, 1, 0, 0 }, withVector!.Embedding!.Value.ToArray());
        Assert.Null(await c.GetAsync(99));

        var batch = await c.GetAsync([1, 99, 3]).ToListAsync();
        Assert.Equal([1UL, 3UL], batch.Select(h => h.HotelId));

        await c.UpsertAsync(NewHotel(2, "two again", 5, 0, 1, 0, 0));
        Assert.Equal("two again", (await c.GetAsync(2))!.Name);

        await c.DeleteAsync(1);
        await c.DeleteAsync(1); // absent: ignored
        await c.DeleteAsync([3, 4, 77]);
        Assert.Equal([2UL], (await c.GetAsync([1, 2, 3, 4]).ToListAsync()).Select(h => h.HotelId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SearchWithTopSkipVectorsAndThreshold(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var c = await HotelsAsync(f);
        float[] query = [1, 0, 0, 0];
        var all = await c.SearchAsync(new ReadOnlyMemory<float>(query), top: 3).ToListAsync();
        Assert.Equal([1UL, 3UL], all.Take(2).Select(r => r.Record.HotelId));
        Assert.Equal(1.0, all[0].Score!.Value, 4);
        Assert.True(all[0].Score >= all[1].Score && all[1].Score >= all[2].Score);
        Assert.Null(all[0].Record.Embedding);
        Assert.Equal("one", all[0].Record.Name);

        var skipped = await c.SearchAsync(query, top: 2, new VectorSearchOptions<Hotel> { Skip = 1, IncludeVectors = true }).ToListAsync();
        Assert.Equal(all.Skip(1).Take(2).Select(r => r.Record.HotelId), skipped.Select(r => r.Record.HotelId));
        Assert.Equal(new float[] { 0.9f, 0.1f, 0, 0 }.Select(x => x / MathF.Sqrt(0.82f)), skipped[0].Record.Embedding!.Value.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);

        var close = await c.SearchAsync(new Embedding<float>(query), top: 4, new VectorSearchOptions<Hotel> { ScoreThreshold = 0.5 }).ToListAsync();
        Assert.Equal([1UL, 3UL], close.Select(r => r.Record.HotelId));

        await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await c.SearchAsync(query, 2, new VectorSearchOptions<Hotel> { Filter = h => h.Rating == 2 }).ToListAsync());
        Assert.Throws<NotSupportedException>(() => c.GetAsync(h => h.Rating == 2, 3));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await c.SearchAsync("text", 2).ToListAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GuidKeysAndEuclideanScores(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var c = f.Store.GetCollection<Guid, GuidRecord>("guids");
        await c.EnsureCollectionExistsAsync();
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        await c.UpsertAsync([new GuidRecord { Id = a, Text = "a", Vector = [0, 0, 0] }, new GuidRecord { Id = b, Text = "b", Vector = [3, 4, 0] }]);
        Assert.Equal("b", (await c.GetAsync(b))!.Text);
        Assert.Null(await c.GetAsync(Guid.NewGuid()));
        var hits = await c.SearchAsync(new float[] { 3, 4, 0 }, 2).ToListAsync();
        Assert.Equal([b, a], hits.Select(h => h.Record.Id));
        Assert.Equal([0.0, 25.0], hits.Select(h => Math.Round(h.Score!.Value, 3))); // squared distances, ascending
        await c.DeleteAsync(a);
        Assert.Null(await c.GetAsync(a));
        Assert.NotNull(await c.GetAsync(b));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DefinitionBasedRecordsWithStringKeys(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(StringRecord.Key), typeof(string)),
                new VectorStoreDataProperty(nameof(StringRecord.Price), typeof(double)),
                new VectorStoreVectorProperty(nameof(StringRecord.Vector), typeof(Embedding<float>), 2) { DistanceFunction = DistanceFunction.DotProductSimilarity },
            ],
        };
        var c = f.Store.GetCollection<string, StringRecord>("strings", definition);
        await c.EnsureCollectionExistsAsync();
        await c.UpsertAsync([
            new StringRecord { Key = "apple", Price = 1.5, Vector = new Embedding<float>(new float[] { 1, 0 }) },
            new StringRecord { Key = "pear", Price = 2.25, Vector = new Embedding<float>(new float[] { 0, 2 }) },
        ]);
        var pear = await c.GetAsync("pear", new RecordRetrievalOptions { IncludeVectors = true });
        Assert.Equal(2.25, pear!.Price);
        Assert.Equal(new float[] { 0, 2 }, pear.Vector!.Vector.ToArray());
        var top = Assert.Single(await c.SearchAsync(new float[] { 0, 1 }, 1).ToListAsync());
        Assert.Equal("pear", top.Record.Key);
        Assert.Equal(2.0, top.Score!.Value, 4);
        Assert.Null(await c.GetAsync("peach"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheDynamicCollection(bool remote)
    {
        await using var f = await Fixture.StartAsync(remote);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("id", typeof(ulong)),
                new VectorStoreDataProperty("title", typeof(string)),
                new VectorStoreVectorProperty("embedding", typeof(ReadOnlyMemory<float>), 2),
            ],
        };
        var c = f.Store.GetDynamicCollection("dynamic", definition);
        await c.EnsureCollectionExistsAsync();
        await c.UpsertAsync(new Dictionary<string, object?> { ["id"] = 7UL, ["title"] = "seven", ["embedding"] = new ReadOnlyMemory<float>([1, 1]) });
        var got = await c.GetAsync(7UL, new RecordRetrievalOptions { IncludeVectors = true });
        Assert.Equal("seven", got!["title"]);
        Assert.Equal(7UL, got["id"]);
        Assert.Equal(new float[] { 0.70710677f, 0.70710677f }, ((ReadOnlyMemory<float>)got["embedding"]!).ToArray());
        var hit = Assert.Single(await c.SearchAsync(new float[] { 1, 1 }, 3).ToListAsync());
        Assert.Equal("seven", hit.Record["title"]);
    }

    [Fact]
    public async Task ModelErrorsAreClear()
    {
        await using var f = await Fixture.StartAsync(remote: false);
        var keyMismatch = Assert.Throws<NotSupportedException>(() => f.Store.GetCollection<Guid, Hotel>("bad"));
        Assert.Contains("HotelId", keyMismatch.Message);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties = [new VectorStoreKeyProperty("Key", typeof(int)), new VectorStoreVectorProperty("Vector", typeof(float[]), 2)],
        };
        Assert.Throws<NotSupportedException>(() => f.Store.GetDynamicCollection("bad", definition));
        var c = f.Store.GetCollection<ulong, Hotel>("h");
        await c.EnsureCollectionExistsAsync();
        // Engine errors reach VectorData callers as its VectorStoreException, the engine's typed error inside.
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => c.UpsertAsync(NewHotel(1, "x", 1, 1, 2, 3)));
        Assert.IsType<InvalidVectorException>(e.InnerException);
        Assert.Contains("3 dimensions", e.Message);
        Assert.Equal(("vectorstore", "h", "Upsert"), (e.VectorStoreSystemName, e.CollectionName, e.OperationName));
        await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => f.Store.GetCollection<ulong, Hotel>("missing").GetAsync(1));
    }
}
