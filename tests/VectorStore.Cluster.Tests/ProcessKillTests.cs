using System.Diagnostics;
using VectorStore.Bench.Cluster;
using VectorStore.Client;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Silos as separate OS processes (<c>vectorstore silo</c> on 127.0.0.1), driven through their TCP listeners with the
/// unchanged thin client: SIGKILL one of them during a concurrent write and search load (R = 2) and every
/// acknowledged write is still there, bit for bit (the killed one is the first silo started: membership lives in a
/// file of the shared metadata directory, not in a primary silo); searches meanwhile either complete (k hits) or are refused as
/// Unavailable, never short. Then every silo process is killed and restarted with its stable name (<c>--name</c>) and
/// directory: each takes back its own shard copies, and the data and search results are what they were.
/// </summary>
[Trait("Category", "Cluster")]
public class ProcessKillTests(ITestOutputHelper output)
{
    private const int Dimension = 16;

    private static float[] VectorOf(ulong id)
    {
        var rng = new Random((int)id);
        var v = new float[Dimension];
        for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble();
        return v;
    }

    private static int LockedCount(List<ulong> list)
    {
        lock (list) return list.Count;
    }

    [Fact]
    public async Task KillNineOfASiloProcessLosesNoAcknowledgedWriteAndNamedSilosTakeBackTheirShardsAfterAFullRestart()
    {
        string root = Path.Combine(Path.GetTempPath(), "vectorstore-cluster-tests", "kill9-" + Guid.NewGuid().ToString("N"));
        int basePort = 23000 + Random.Shared.Next(0, 400) * 10;
        string cli = SiloProcess.BuiltCli();
        var silos = new List<SiloProcess>();
        var clients = new List<VectorStoreClient>();
        Task<SiloProcess> Start(int i) => SiloProcess.StartAsync(cli, root, i, basePort, core: null, shards: 6, replication: 2,
            ["--name", $"node{i}", "--fast-failure-detection", "--shard-timeout", "10"]);
        try
        {
            // Silo 0 first, then the other two together. Membership is the file table in the shared metadata directory
            // (the silo command's default), so silo 0 is the one killed: under development clustering it would keep
            // the membership table, and its death would take the cluster down.
            silos.Add(await Start(0));
            silos.AddRange(await Task.WhenAll(Start(1), Start(2)));
            await Task.Delay(2000); // every silo active before the layout is made
            // Silo 0 is the one killed: talk to 1 and 2.
            clients.Add(await VectorStoreClient.ConnectAsync("127.0.0.1", silos[1].Port));
            clients.Add(await VectorStoreClient.ConnectAsync("127.0.0.1", silos[2].Port));
            await clients[0].CreateCollectionAsync("kill9", new CollectionOptions { Dimension = Dimension, Metric = Metric.L2, Compression = "none", Index = "flat" });

            var acked = new List<ulong>();
            int writeFailures = 0, complete = 0, refused = 0, ackedAfterKill = 0;
            bool killed = false;
            using var stop = new CancellationTokenSource();
            ulong nextId = 0;
            var writer = Task.Run(async () =>
            {
                for (int b = 0; !stop.IsCancellationRequested; b++)
                {
                    var ids = Enumerable.Range(0, 50).Select(_ => Interlocked.Increment(ref nextId)).ToArray();
                    var vectors = new VectorMatrix(ids.SelectMany(VectorOf).ToArray(), Dimension);
                    try
                    {
                        await clients[b % 2].UpsertBatchAsync("kill9", ids, vectors);
                        lock (acked) acked.AddRange(ids);
                        if (Volatile.Read(ref killed)) Interlocked.Increment(ref ackedAfterKill);
                    }
                    catch (UnavailableException)
                    {
                        writeFailures++; // not acknowledged: nothing to check
                    }
                }
            });
            var searcher = Task.Run(async () =>
            {
                var query = VectorOf(999_999);
                // Until 10 vectors are acknowledged a complete answer has fewer than 10 hits.
                while (!stop.IsCancellationRequested && LockedCount(acked) < 10) await Task.Delay(20);
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var hits = await clients[1].SearchAsync("kill9", query, new SearchOptions { K = 10 });
                        Assert.Equal(10, hits.Length); // never silently short
                        complete++;
                    }
                    catch (UnavailableException)
                    {
                        refused++;
                    }
                }
            });

            await Task.Delay(2000);
            Assert.True(acked.Count > 0, "no write was acknowledged before the kill");
            silos[0].Kill();
            Volatile.Write(ref killed, true);
            var clock = Stopwatch.StartNew();
            // Keep the load on until the healed cluster has acknowledged writes again (bounded).
            while (Volatile.Read(ref ackedAfterKill) < 20 && clock.Elapsed < TimeSpan.FromSeconds(40)) await Task.Delay(250);
            stop.Cancel();
            await Task.WhenAll(writer, searcher);
            output.WriteLine($"acked {acked.Count} ids ({ackedAfterKill} batches after the kill), {writeFailures} failed write calls, searches: {complete} complete, {refused} refused as unavailable; healed in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(ackedAfterKill >= 20, $"only {ackedAfterKill} batches acknowledged in the 40 s after the kill");

            // Every acknowledged id, bit for bit, read through both surviving listeners.
            foreach (var client in clients)
            {
                for (int i = 0; i < acked.Count; i += 1000)
                {
                    var ids = acked.GetRange(i, Math.Min(1000, acked.Count - i));
                    var records = await client.GetBatchAsync("kill9", ids);
                    for (int j = 0; j < ids.Count; j++)
                    {
                        Assert.True(records[j] is not null, $"acknowledged id {ids[j]} is missing after the kill");
                        Assert.Equal(VectorOf(ids[j]), records[j]!.Vector);
                    }
                }
            }
            Assert.True((await clients[0].GetInfoAsync("kill9")).Stats.Count >= acked.Count);

            // Then every process dies at once and restarts with its name and directory: the layouts still name
            // node0..2 and each takes back its copies from its own directory (without stable names they would name
            // dead addresses only, and every shard stay unavailable).
            var query = VectorOf(999_999);
            var before = await clients[1].SearchAsync("kill9", query, new SearchOptions { K = 10 });
            foreach (var c in clients) await c.DisposeAsync();
            clients.Clear();
            foreach (var s in silos) s.Kill();
            silos.Clear();
            await Task.Delay(500);
            silos.Add(await Start(0));
            silos.AddRange(await Task.WhenAll(Start(1), Start(2)));
            clients.Add(await VectorStoreClient.ConnectAsync("127.0.0.1", silos[2].Port));
            clock.Restart();
            for (int i = 0; i < acked.Count; i += 1000)
            {
                var ids = acked.GetRange(i, Math.Min(1000, acked.Count - i));
                IReadOnlyList<VectorRecord?>? records = null;
                while (records is null)
                {
                    try { records = await clients[0].GetBatchAsync("kill9", ids); }
                    catch (UnavailableException) when (clock.Elapsed < TimeSpan.FromSeconds(60)) { await Task.Delay(500); }
                }
                for (int j = 0; j < ids.Count; j++)
                {
                    Assert.True(records[j] is not null, $"acknowledged id {ids[j]} is missing after the full restart");
                    Assert.Equal(VectorOf(ids[j]), records[j]!.Vector);
                }
            }
            output.WriteLine($"after killing and restarting every silo, every shard answered within {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(before, await clients[0].SearchAsync("kill9", query, new SearchOptions { K = 10 }));
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
            foreach (var s in Enumerable.Reverse(silos)) s.Stop();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}
