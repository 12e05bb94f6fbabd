using System.Diagnostics;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// <c>vectorstore serve</c> under a managed-heap limit (<c>DOTNET_GCHeapHardLimit</c>, what a container's memory limit
/// sets) is loaded with more vectors than fit. Measured before the fix: an OutOfMemoryException halfway through a
/// batch left the collection half-applied, and later writes failed with KeyNotFoundException. Now every refusal is
/// typed (Unavailable), the server keeps running, and the database holds every acknowledged write, bit for bit.
/// </summary>
public sealed class ServerMemoryLimitTests
{
    private const int Dim = 384;
    private const int Batch = 1000;

    [SkippableFact]
    public async Task AServerOutOfMemoryRefusesWithATypedErrorKeepsRunningAndLosesNoAcknowledgedWrite()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the heap limit and kill are tested on Linux");
        var dir = TestData.TempDir();
        string db = Path.Combine(dir, "db");
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "vectorstore.dll"), "serve", "--db", db, "--port", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DOTNET_GCHeapHardLimit"] = "0x6000000"; // 96 MiB: the 150 MB of vectors below cannot fit
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        int acked = 0;
        var data = StorageTestKit.Vectors(100 * Batch, Dim, 11);
        try
        {
            var lineTask = p.StandardOutput.ReadLineAsync();
            Assert.Same(lineTask, await Task.WhenAny(lineTask, Task.Delay(TimeSpan.FromSeconds(30))));
            var (host, port) = VectorStoreClient.ParseHostPort((await lineTask)!["listening ".Length..]);
            var client = await VectorStoreClient.ConnectAsync(host, port);
            await client.CreateCollectionAsync("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "none" });

            // Batches in order; a refused one is retried, as a client would, until four refusals.
            var refusals = new List<VectorStoreException>();
            for (int b = 0; b < 100 && refusals.Count < 4;)
            {
                var ids = Enumerable.Range(b * Batch, Batch).Select(i => (ulong)i).ToArray();
                try
                {
                    await client.UpsertBatchAsync("c", ids, data.Slice(b * Batch, Batch));
                    acked += Batch;
                    b++;
                }
                catch (VectorStoreException e)
                {
                    refusals.Add(e);
                    // A request the server had no memory to receive closes its connection: the client connects again.
                    if (e is VectorStoreConnectionException)
                    {
                        await client.DisposeAsync();
                        client = await VectorStoreClient.ConnectAsync(host, port);
                    }
                }
            }
            Assert.True(refusals.Count > 0, "150 MB of vectors were all acknowledged under a 96 MiB heap");
            // Unavailable (out of memory, or the collection stopped and reopening), a connection the server could not
            // read a request for, or a commit that could not get memory: typed, and never a wrong answer or Internal.
            Assert.All(refusals, e => Assert.True(e is UnavailableException or VectorStoreConnectionException
                || (e is RemoteErrorException { Code: VectorStore.Protocol.ErrorCode.StorageError } && e.Message.Contains(nameof(OutOfMemoryException))), $"refused with {e.GetType().Name}: {e.Message}"));
            Assert.True(acked > 0, "nothing was acknowledged before the limit");

            // Still serving: each later call answers, or is refused as Unavailable (never Internal, never a wrong id).
            for (int i = 0; i < 5; i++)
            {
                try
                {
                    var hits = await client.SearchAsync("c", data.RowMemory(i * 7), new SearchOptions { K = 1 });
                    Assert.Equal((ulong)(i * 7), Assert.Single(hits).Id);
                }
                catch (UnavailableException) { }
            }
            Assert.False(p.HasExited, "the server exited");
            await client.DisposeAsync();
        }
        finally
        {
            if (!p.HasExited) p.Kill();
            await p.WaitForExitAsync();
        }

        // Killed like a crash: the files hold every acknowledged batch exactly, and any later row only as a whole batch.
        using var reopened = VectorDatabase.Open(db);
        var c = reopened.GetCollection("c");
        StorageTestKit.AssertVectors(c, data, 0, acked);
        long beyond = c.Count - acked;
        Assert.True(beyond % Batch == 0 && beyond >= 0, $"{c.Count} rows after {acked} acknowledged; server log: {await stderr}");
        if (beyond > 0) StorageTestKit.AssertVectors(c, data.Slice(acked, (int)beyond), (ulong)acked, (int)beyond);
    }
}
