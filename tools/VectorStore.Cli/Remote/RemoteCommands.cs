using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using VectorStore.Cli.Commands;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.IO;

namespace VectorStore.Cli.Remote;

/// <summary>
/// The <c>--server HOST:PORT [--token-file F]</c> variants of create/load/search/export/info, run through the thin
/// client with the output the CLI contract prescribes. The database commands call these when <c>--server</c> is
/// given instead of <c>--db</c>. Stateless; each call uses the client it is given.
/// </summary>
public static class RemoteCommands
{
    /// <summary>Connects to <c>HOST:PORT</c> with the token read from <paramref name="tokenFile"/> (trimmed), if any.</summary>
    public static Task<VectorStoreClient> ConnectAsync(string server, string? tokenFile)
    {
        byte[]? token = null;
        if (tokenFile is not null)
        {
            string text;
            try { text = File.ReadAllText(tokenFile).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"--token-file {tokenFile}: {e.Message}"); }
            token = System.Text.Encoding.UTF8.GetBytes(text);
        }
        return VectorStoreClient.ConnectAsync(server, new ClientOptions { Token = token });
    }

    /// <summary><c>create</c>.</summary>
    public static Task CreateAsync(VectorStoreClient client, string collection, CollectionOptions options) =>
        client.CreateCollectionAsync(collection, options);

    /// <summary>
    /// <c>load</c>: upserts the file in batches (<paramref name="writers"/> of them in flight at once); after each
    /// acknowledged batch prints <c>acked FIRST LAST</c>. The server acknowledges an UpsertBatch only once it is
    /// durable, so a printed line means the batch survives a crash of the server.
    /// </summary>
    public static async Task LoadAsync(VectorStoreClient client, string collection, string vectorsPath, ulong firstId, int batch, TextWriter stdout,
        int writers = 1, bool payloadIds = false)
    {
        if (batch <= 0) throw new UsageException($"--batch must be positive, got {batch}");
        if (writers <= 0) throw new UsageException($"--writers must be positive, got {writers}");
        var m = VectorFiles.ReadVectors(vectorsPath);
        int dim = m.Dimension;
        // Keep each request inside the server's frame and batch limits (payloads "id:<ID>" take at most 25 bytes).
        long perVector = 4L * dim + 12 + (payloadIds ? 4 + 25 : 0);
        int perFrame = (int)Math.Max(1, Math.Min(client.ServerLimits.MaxBatch, (client.ServerLimits.MaxFrameBytes - 4096L) / perVector));
        batch = Math.Min(batch, perFrame);
        int batches = (m.Count + batch - 1) / batch;
        int next = -1;
        var gate = new object();
        async Task Writer()
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                int start = b * batch;
                int n = Math.Min(batch, m.Count - start);
                var ids = new ulong[n];
                for (int i = 0; i < n; i++) ids[i] = firstId + (ulong)(start + i);
                var payloads = payloadIds ? ids.Select(id => (byte[]?)System.Text.Encoding.UTF8.GetBytes($"id:{id}")).ToArray() : null;
                await client.UpsertBatchAsync(collection, ids, m.Slice(start, n), payloads).ConfigureAwait(false);
                // The response arrived: the server made the batch durable. Only now may it be acknowledged.
                lock (gate)
                {
                    stdout.WriteLine($"acked {ids[0]} {ids[^1]}");
                    stdout.Flush();
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(Writer))).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>search</c>: one query at a time (so latencies are per query), printed exactly as the --db path prints
    /// (result ids to <paramref name="outPath"/> as ivecs, with <paramref name="json"/> one summary line, else hits).
    /// </summary>
    public static async Task SearchAsync(VectorStoreClient client, string collection, string queriesPath, SearchOptions options,
        string? outPath, bool json, TextWriter stdout)
    {
        var queries = VectorFiles.ReadVectors(queriesPath);
        int dim = (await client.GetInfoAsync(collection).ConfigureAwait(false)).Options.Dimension;
        if (queries.Dimension != dim)
            throw new InvalidArgumentException($"query dimension {queries.Dimension} differs from the collection's {dim}");
        var results = new SearchHit[queries.Count][];
        var lat = new double[queries.Count];
        var total = Stopwatch.StartNew();
        for (int q = 0; q < queries.Count; q++)
        {
            long t0 = Stopwatch.GetTimestamp();
            results[q] = await client.SearchAsync(collection, queries.Row(q).ToArray(), options).ConfigureAwait(false);
            lat[q] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        DatabaseOutput.WriteSearch(results, lat, total.Elapsed.TotalSeconds, options.K, outPath, json, stdout);
    }

    /// <summary><c>export</c>: every live vector in ascending id order, at full precision, and the ids one per line; returns how many.</summary>
    public static async Task<int> ExportAsync(VectorStoreClient client, string collection, string outPath, string idsOutPath)
    {
        var info = await client.GetInfoAsync(collection);
        int dim = info.Options.Dimension;
        var ids = await client.IdsAsync(collection);
        int page = (int)Math.Max(1, Math.Min(client.ServerLimits.MaxBatch, client.ServerLimits.MaxResponseBytes / (4L * dim + 16)));
        using var fs = new FileStream(outPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var idsOut = new StreamWriter(idsOutPath);
        var head = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(head, dim);
        int written = 0;
        for (int start = 0; start < ids.Length; start += page)
        {
            var chunk = ids.AsSpan(start, Math.Min(page, ids.Length - start)).ToArray();
            var records = await client.GetBatchAsync(collection, chunk);
            for (int i = 0; i < chunk.Length; i++)
            {
                // Deleted between listing and fetching: skip, as an in-process export would not have seen it either.
                if (records[i] is not { } r) continue;
                fs.Write(head);
                fs.Write(MemoryMarshal.AsBytes(r.Vector.AsSpan()));
                idsOut.WriteLine(r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                written++;
            }
        }
        return written;
    }

    /// <summary>
    /// <c>info</c>, printed exactly as the --db path prints. <c>bytes_on_disk</c> comes from the Info response
    /// (protocol version 2); it is null only against a version-1 server, which does not report it.
    /// </summary>
    public static async Task InfoAsync(VectorStoreClient client, string? collection, TextWriter stdout, bool json = true)
    {
        var names = collection is null ? await client.CollectionNamesAsync().ConfigureAwait(false) : [collection];
        var rows = new List<Dictionary<string, object?>>();
        foreach (var name in names)
        {
            var info = await client.GetInfoAsync(name).ConfigureAwait(false);
            rows.Add(DatabaseOutput.InfoRow(name, info.Options, info.Stats, info.BytesOnDisk));
        }
        DatabaseOutput.WriteInfo(rows, json, stdout);
    }
}
