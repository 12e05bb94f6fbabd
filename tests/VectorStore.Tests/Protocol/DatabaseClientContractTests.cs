using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Protocol;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// <see cref="IVectorDatabaseClient"/> over both implementations (a database in this process and the TCP client in front
/// of a server) on identical directories: every call gives the same answer and the same typed errors.
/// </summary>
public sealed class DatabaseClientContractTests
{
    /// <summary>The in-process client and a connected TCP client, each over its own fresh database directory.</summary>
    private sealed record Both(InProcessDatabaseClient Local, VectorStoreClient Remote, LiveServer Live) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Remote.DisposeAsync();
            await Live.DisposeAsync();
            await Local.DisposeAsync();
        }
    }

    private static async Task<Both> BothAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        var local = new InProcessDatabaseClient(VectorDatabase.Open(TestData.TempDir()), ownsDatabase: true);
        var live = LiveServer.Start(o => (configure ?? (x => x))(o with { Flush = d => d.Flush(), Snapshot = d => d.Snapshot() }),
            VectorDatabase.Open(TestData.TempDir()));
        return new Both(local, await live.ConnectAsync(), live);
    }

    [Fact]
    public async Task BothImplementationsAnswerEveryCallAlike()
    {
        await using var both = await BothAsync();
        var (local, remote, _) = both;
        var data = SyntheticData.Clustered(700, 12, seed: 3);
        var ids = Enumerable.Range(0, 700).Select(i => (ulong)i * 2 + 5).ToArray();
        var payloads = ids.Select(id => id % 3 == 0 ? null : BitConverter.GetBytes(id)).ToArray();
        var options = new CollectionOptions { Dimension = 12, Metric = Metric.Cosine, Compression = "sq8", TrainingThreshold = 400 };
        var queries = data.Slice(10, 25);
        var so = new SearchOptions { K = 7, Rerank = 30 };

        async Task<object[]> Script(IVectorDatabaseClient db)
        {
            await db.CreateCollectionAsync("c", options);
            await db.CreateCollectionAsync("other", options with { Dimension = 3, Compression = "none" });
            // Two batches: the second crosses the training threshold, so searches below run on trained codes.
            await db.UpsertBatchAsync("c", ids[..300], data.Slice(0, 300), payloads[..300]);
            await db.UpsertBatchAsync("c", ids[300..], data.Slice(300, 400), payloads[300..]);
            var names = await db.CollectionNamesAsync();
            var single = await db.SearchAsync("c", queries.RowMemory(0), so);
            var batch = await db.SearchBatchAsync("c", queries, so);
            var got = await db.GetBatchAsync("c", [ids[0], 4, ids[699], ids[3]]);
            var deleted = await db.DeleteBatchAsync("c", [ids[1], 4, ids[1] + 1, ids[2]]);
            // Pages of 256 ids after a deletion: ascending, no gaps, More false only on the last.
            var pages = new List<IdPage>();
            ulong? after = null;
            do
            {
                pages.Add(await db.ListIdsAsync("c", after, 256));
                after = pages[^1].Ids.Length > 0 ? pages[^1].Ids[^1] : null;
            } while (pages[^1].More);
            await db.FlushAsync();
            await db.CompactAsync("c");
            var info = await db.GetInfoAsync("c");
            bool dropped = await db.DropCollectionAsync("other"), droppedAgain = await db.DropCollectionAsync("other");
            return [names, single, batch, got, deleted, pages, info, dropped, droppedAgain, await db.CollectionNamesAsync()];
        }

        var l = await Script(local);
        var r = await Script(remote);
        Assert.Equal(["c", "other"], (IReadOnlyList<string>)l[0]);
        Assert.Equal((IReadOnlyList<string>)l[0], (IReadOnlyList<string>)r[0]);
        Assert.Equal(7, ((SearchHit[])l[1]).Length);
        Assert.Equal((SearchHit[])l[1], (SearchHit[])r[1]);
        Assert.Equal(((SearchHit[][])l[2])[0], (SearchHit[])l[1]);
        Assert.Equal((SearchHit[][])l[2], (SearchHit[][])r[2]);

        var gl = (IReadOnlyList<VectorRecord?>)l[3];
        var gr = (IReadOnlyList<VectorRecord?>)r[3];
        Assert.Null(gl[1]);
        Assert.Null(gr[1]);
        foreach (int i in new[] { 0, 2, 3 })
        {
            Assert.Equal(gl[i]!.Id, gr[i]!.Id);
            Assert.Equal(gl[i]!.Vector, gr[i]!.Vector);
            Assert.Equal(gl[i]!.Payload, gr[i]!.Payload);
        }
        Assert.Equal(ids[699], gl[2]!.Id);
        Assert.Equal(BitConverter.GetBytes(ids[699]), gl[2]!.Payload);

        Assert.Equal([true, false, false, true], (bool[])l[4]);
        Assert.Equal((bool[])l[4], (bool[])r[4]);

        var pl = (List<IdPage>)l[5];
        var pr = (List<IdPage>)r[5];
        Assert.Equal(pl.Select(p => p.More), pr.Select(p => p.More));
        Assert.Equal(pl.SelectMany(p => p.Ids), pr.SelectMany(p => p.Ids));
        Assert.Equal(ids.Where((_, i) => i is not (1 or 2)), pl.SelectMany(p => p.Ids));
        Assert.Equal(3, pl.Count);

        var il = (CollectionInfo)l[6];
        var ir = (CollectionInfo)r[6];
        Assert.Equal(il.Options, ir.Options);
        Assert.Equal(il.Stats, ir.Stats);
        Assert.Equal(698, il.Stats.Count);
        Assert.True(il.Stats.Trained);
        Assert.True(il.BytesOnDisk > 0 && ir.BytesOnDisk > 0);

        Assert.Equal((true, false), ((bool)l[7], (bool)l[8]));
        Assert.Equal((true, false), ((bool)r[7], (bool)r[8]));
        Assert.Equal(["c"], (IReadOnlyList<string>)l[9]);
        Assert.Equal(["c"], (IReadOnlyList<string>)r[9]);
    }

    [Fact]
    public async Task BothImplementationsRaiseTheSameTypedErrors()
    {
        await using var both = await BothAsync();
        var (local, remote, _) = both;
        foreach (IVectorDatabaseClient db in new IVectorDatabaseClient[] { local, remote })
        {
            await db.CreateCollectionAsync("c", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
            await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CreateCollectionAsync("c", new CollectionOptions { Dimension = 4 }));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => db.GetInfoAsync("missing"));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => db.SearchAsync("missing", new float[4]));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CompactAsync("missing"));
            await Assert.ThrowsAsync<InvalidVectorException>(() => db.UpsertBatchAsync("c", [1], new VectorMatrix(new float[] { 1, float.NaN, 0, 0 }, 4)));
            await Assert.ThrowsAsync<InvalidVectorException>(() => db.SearchAsync("c", new float[3]));
            Assert.Equal(0, (await db.GetInfoAsync("c")).Stats.Count);
        }
    }

    [Fact]
    public async Task LimitsAreTheServersOrNone()
    {
        await using var both = await BothAsync(o => o with { Limits = new ProtocolLimits { MaxBatch = 100, MaxFrameBytes = 1 << 20, MaxResponseBytes = 1 << 19 } });
        var (local, remote, _) = both;
        Assert.Same(TransferLimits.Unlimited, local.Limits);
        Assert.Equal(int.MaxValue, local.Limits.UpsertBatchSize(384));
        Assert.Equal(new TransferLimits { MaxBatch = 100, MaxRequestBytes = 1 << 20, MaxResponseBytes = 1 << 19 }, remote.Limits);
        // 1 MiB frames hold (2^20 - 4096) / (4·1024 + 12) = 254 vectors of 1024 values; MaxBatch caps them at 100.
        Assert.Equal(100, remote.Limits.UpsertBatchSize(8));
        Assert.Equal(254, (remote.Limits with { MaxBatch = 1000 }).UpsertBatchSize(1024));
        Assert.Equal((1 << 19) / (4 * 1024 + TransferLimits.GetItemBytes), (remote.Limits with { MaxBatch = 1000 }).GetBatchSize(1024));
        // A page asks for more ids than the server allows in one batch: it gets MaxBatch of them and More.
        await remote.CreateCollectionAsync("c", new CollectionOptions { Dimension = 2, Metric = Metric.L2, Compression = "none" });
        await remote.UpsertBatchAsync("c", Enumerable.Range(0, 100).Select(i => (ulong)i).ToArray(), new VectorMatrix(100, 2));
        await remote.UpsertBatchAsync("c", Enumerable.Range(100, 50).Select(i => (ulong)i).ToArray(), new VectorMatrix(50, 2));
        var page = await remote.ListIdsAsync("c", null, 1000);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (ulong)i), page.Ids);
        Assert.True(page.More);
    }
}
