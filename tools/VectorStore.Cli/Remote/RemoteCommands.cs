using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
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

    /// <summary><c>load</c>: upserts the file in batches; after each acknowledged (durable) batch prints <c>acked FIRST LAST</c>.</summary>
    public static async Task LoadAsync(VectorStoreClient client, string collection, string vectorsPath, ulong firstId, int batch, TextWriter stdout)
    {
        if (batch <= 0) throw new UsageException($"--batch must be positive, got {batch}");
        var m = VectorFiles.ReadVectors(vectorsPath);
        int dim = m.Dimension;
        // Keep each request inside the server's frame and batch limits.
        int perFrame = (int)Math.Max(1, Math.Min(client.ServerLimits.MaxBatch, (client.ServerLimits.MaxFrameBytes - 4096L) / (4L * dim + 12)));
        batch = Math.Min(batch, perFrame);
        for (int start = 0; start < m.Count; start += batch)
        {
            int n = Math.Min(batch, m.Count - start);
            var ids = new ulong[n];
            for (int i = 0; i < n; i++) ids[i] = firstId + (ulong)(start + i);
            await client.UpsertBatchAsync(collection, ids, m.Slice(start, n));
            stdout.WriteLine($"acked {ids[0]} {ids[^1]}");
            stdout.Flush();
        }
    }

    /// <summary>
    /// <c>search</c>: one query at a time (so latencies are per query), result ids to <paramref name="outPath"/> as
    /// ivecs (<c>-1</c> fills missing slots), and with <paramref name="json"/> one summary line.
    /// </summary>
    public static async Task SearchAsync(VectorStoreClient client, string collection, string queriesPath, SearchOptions options,
        string? outPath, bool json, TextWriter stdout)
    {
        var queries = VectorFiles.ReadVectors(queriesPath);
        var rows = new int[queries.Count][];
        var lat = new double[queries.Count];
        var total = Stopwatch.StartNew();
        for (int q = 0; q < queries.Count; q++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var hits = await client.SearchAsync(collection, queries.Row(q).ToArray(), options);
            lat[q] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            var row = new int[options.K];
            Array.Fill(row, -1);
            for (int i = 0; i < hits.Length; i++)
                row[i] = hits[i].Id <= int.MaxValue ? (int)hits[i].Id : throw new InvalidArgumentException($"id {hits[i].Id} does not fit the int32 ids of an .ivecs file");
            rows[q] = row;
        }
        double seconds = total.Elapsed.TotalSeconds;
        if (outPath is not null) VectorFiles.WriteIvecs(outPath, rows);
        if (!json) return;
        Array.Sort(lat);
        double P(double f) => lat.Length == 0 ? 0 : Math.Round(lat[Math.Min(lat.Length - 1, (int)(lat.Length * f))], 1);
        stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["queries"] = queries.Count,
            ["qps"] = Math.Round(queries.Count / Math.Max(seconds, 1e-9), 1),
            ["p50_us"] = P(0.5),
            ["p99_us"] = P(0.99),
        }));
        stdout.Flush();
    }

    /// <summary><c>export</c>: every live vector in ascending id order, at full precision, and the ids one per line.</summary>
    public static async Task ExportAsync(VectorStoreClient client, string collection, string outPath, string idsOutPath)
    {
        var info = await client.GetInfoAsync(collection);
        int dim = info.Options.Dimension;
        var ids = await client.IdsAsync(collection);
        int page = (int)Math.Max(1, Math.Min(client.ServerLimits.MaxBatch, client.ServerLimits.MaxResponseBytes / (4L * dim + 16)));
        using var fs = new FileStream(outPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var idsOut = new StreamWriter(idsOutPath);
        var head = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(head, dim);
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
                idsOut.WriteLine(r.Id);
            }
        }
    }

    /// <summary>
    /// <c>info --json</c>. <c>bytes_on_disk</c> is null: the protocol's Info response does not carry it yet
    /// (TODO after the storage merge: add it to the Info payload, data-format.md 5.3).
    /// </summary>
    public static async Task InfoAsync(VectorStoreClient client, string? collection, TextWriter stdout)
    {
        var names = collection is null ? await client.CollectionNamesAsync() : [collection];
        var list = new List<Dictionary<string, object?>>();
        foreach (var name in names)
        {
            var info = await client.GetInfoAsync(name);
            list.Add(new Dictionary<string, object?>
            {
                ["name"] = name,
                ["count"] = info.Stats.Count,
                ["dim"] = info.Options.Dimension,
                ["metric"] = info.Options.Metric.ToSpec(),
                ["compression"] = info.Stats.Compression,
                ["index"] = info.Stats.Index,
                ["bytes_on_disk"] = null,
                ["trained"] = info.Stats.Trained,
                ["index_bytes"] = info.Stats.IndexBytes,
                ["rerank_bytes"] = info.Stats.RerankBytes,
            });
        }
        stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["collections"] = list }));
        stdout.Flush();
    }
}
