using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Server;

namespace VectorStore.Bench.Protocol;

/// <summary>
/// The same collection searched in-process and through a server on 127.0.0.1, with the same number of search
/// threads on both sides: in-process <see cref="Collection.SearchBatch"/> with <c>threads</c>; over TCP, query
/// batches pipelined on one connection to a server that executes at most <c>threads</c> of them at once
/// (MaxInFlight), each on one thread.
/// </summary>
public sealed class ProtocolWorkload : IAsyncDisposable
{
    private ProtocolWorkload(VectorDatabase db, Collection c, VectorStoreServer server, VectorStoreClient client, VectorMatrix queries, int threads, string source)
    {
        Database = db;
        Collection = c;
        Server = server;
        Client = client;
        Queries = queries;
        Threads = threads;
        Source = source;
    }

    public VectorDatabase Database { get; }
    public Collection Collection { get; }
    public VectorStoreServer Server { get; }
    public VectorStoreClient Client { get; }
    public VectorMatrix Queries { get; }
    public int Threads { get; }
    public string Source { get; }

    public static readonly SearchOptions Options = new() { K = 10 };

    /// <summary>Loads the real text set when present (else synthetic data of the same shape), builds sq8 flat, serves it.</summary>
    public static async Task<ProtocolWorkload> CreateAsync(int threads, int maxBase = 50_000, int queries = 500)
    {
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        VectorMatrix baseVectors, queryVectors;
        string source;
        if (dir is not null)
        {
            var ds = Dataset.LoadTexmex(dir, maxBase, queries);
            (baseVectors, queryVectors, source) = (ds.Base, ds.Queries, $"debdesc-minilm384-public[{ds.Base.Count}]");
        }
        else
        {
            baseVectors = SyntheticData.Clustered(maxBase, 384, seed: 1, normalize: true);
            queryVectors = SyntheticData.Clustered(queries, 384, seed: 2, normalize: true);
            source = $"synthetic[{maxBase}x384]";
        }
        var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("bench", new CollectionOptions { Dimension = baseVectors.Dimension, Metric = Metric.Cosine, Compression = "sq8", Index = "flat" });
        var ids = Enumerable.Range(0, baseVectors.Count).Select(i => (ulong)i).ToArray();
        c.UpsertBatch(ids, baseVectors);
        c.BuildIndex();
        var server = new VectorStoreServer(db, new ServerOptions
        {
            BatchSearchThreads = 1,
            Limits = new VectorStore.Protocol.ProtocolLimits { MaxInFlight = threads },
        });
        server.Start();
        var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.LocalEndPoint!.Port);
        return new ProtocolWorkload(db, c, server, client, queryVectors, threads, source);
    }

    /// <summary>All queries in-process, on <see cref="Threads"/> threads.</summary>
    public int InProcessBatch() => Collection.SearchBatch(Queries, Options, Threads).Length;

    /// <summary>All queries over TCP in batches of <paramref name="batch"/>, pipelined.</summary>
    public async Task<int> TcpBatchAsync(int batch)
    {
        var tasks = new List<Task<SearchHit[][]>>();
        for (int start = 0; start < Queries.Count; start += batch)
            tasks.Add(Client.SearchBatchAsync("bench", Queries.Slice(start, Math.Min(batch, Queries.Count - start)), Options));
        int n = 0;
        foreach (var t in tasks) n += (await t).Length;
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        Database.Dispose();
    }
}
