using System.Diagnostics;
using System.Net.Sockets;
using VectorStore.Client;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// <c>vectorstore serve</c> as a child process under hostile load on 127.0.0.1: idle unauthenticated sockets hanging up
/// around the handshake timeout, a flood of silent sockets while an authenticated client works, and pipelined large
/// frames from several clients against the memory budget (the server's real resident memory, read from /proc). A
/// crash would show as an exited process and an unhandled-exception trace on its stderr. Every loop is bounded in
/// count and every wait in time; the full-size soaks are <c>Category=Long</c>, with smaller versions in the normal suite.
/// </summary>
public class ServerSoakTests(ITestOutputHelper output)
{
    private const string Token = "soak-token";

    private static async Task<ServeProcess> StartAsync(params string[] extra)
    {
        var dir = TestData.TempDir();
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, Token);
        return await ServeProcess.StartAsync(Path.Combine(dir, "db"), tokenFile, extra);
    }

    /// <summary>The server is up, has not logged an unhandled exception, and serves a fresh authenticated client.</summary>
    private static async Task AssertServesAsync(ServeProcess serve)
    {
        Assert.False(serve.HasExited, $"serve exited: {serve.Stderr}");
        Assert.DoesNotContain("Unhandled exception", serve.Stderr);
        await using var client = await serve.ConnectAsync(new ClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) });
        await client.PingAsync();
    }

    [SkippableFact]
    public Task IdleUnauthenticatedSocketsHangingUpAroundTheHandshakeTimeout() => IdleRoundsAsync(sockets: 250, rounds: 3);

    [SkippableFact]
    [Trait("Category", "Long")]
    public Task IdleUnauthenticatedSocketsHangingUpAroundTheHandshakeTimeoutSoak() => IdleRoundsAsync(sockets: 1000, rounds: 10);

    /// <summary>
    /// Each round opens <paramref name="sockets"/> sockets that never speak and closes each one within ±300 ms of its
    /// handshake deadline — half with a reset, half with a normal close — so the server's timeout sweep and the peer's
    /// hang-up race (the sweep used to read the endpoint of an already disposed socket and kill the process).
    /// </summary>
    private async Task IdleRoundsAsync(int sockets, int rounds)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc and signals a child process");
        var timeout = TimeSpan.FromSeconds(1);
        // Room for every socket in the handshake pool, so all of them live until their deadline.
        using var serve = await StartAsync("--handshake-timeout", "1", "--max-unauthenticated", $"{2 * sockets}");
        await using var steady = await serve.ConnectAsync();
        var rng = new Random(11);
        int closedByUs = 0, closedByServer = 0;
        for (int round = 0; round < rounds; round++)
        {
            var open = await OpenSilentAsync(serve.Port, sockets);
            var order = open.Select(s => (s.Socket, Due: s.OpenedAt + timeout + TimeSpan.FromMilliseconds(rng.Next(-300, 301)), Reset: rng.Next(2) == 0))
                .OrderBy(s => s.Due).ToArray();
            await steady.PingAsync();
            foreach (var (socket, due, reset) in order)
            {
                var wait = due - Stopwatch.GetElapsedTime(0);
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                if (socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0) closedByServer++;
                else closedByUs++;
                if (reset) socket.LingerState = new LingerOption(true, 0);
                socket.Dispose();
            }
            await AssertServesAsync(serve);
            await steady.PingAsync();
        }
        output.WriteLine($"{rounds} rounds × {sockets} idle sockets: {closedByUs} hung up by the test, {closedByServer} already closed by the server's handshake timeout");
        Assert.True(closedByServer > 0 && closedByUs > 0, "the hang-ups did not straddle the handshake deadline");
        Assert.Equal(0, await serve.TerminateAsync());
        Assert.DoesNotContain("Unhandled exception", serve.Stderr);
    }

    /// <summary>Opens <paramref name="count"/> sockets that send nothing, 100 connects at a time.</summary>
    private static async Task<List<(Socket Socket, TimeSpan OpenedAt)>> OpenSilentAsync(int port, int count)
    {
        var open = new List<(Socket, TimeSpan)>(count);
        for (int start = 0; start < count; start += 100)
        {
            var batch = Enumerable.Range(start, Math.Min(100, count - start)).Select(async _ =>
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await s.ConnectAsync("127.0.0.1", port, cts.Token);
                return (s, Stopwatch.GetElapsedTime(0));
            });
            open.AddRange(await Task.WhenAll(batch));
        }
        return open;
    }

    [SkippableFact]
    public async Task SilentSocketsDoNotLockOutAnAuthenticatedClient()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "signals a child process");
        // Default caps: 64 connections in the handshake, 1,024 authenticated; 1,030 silent sockets exceed both.
        using var serve = await StartAsync();
        await using var worker = await serve.ConnectAsync();
        await worker.CreateCollectionAsync("c", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        using var flooding = new CancellationTokenSource();
        int served = 0;
        var work = Task.Run(async () =>
        {
            for (ulong id = 0; !flooding.IsCancellationRequested && id < 100_000; id++)
            {
                await worker.UpsertAsync("c", id, new float[] { id, 1, 2, 3 });
                Assert.Equal(id, (await worker.SearchAsync("c", new float[] { id, 1, 2, 3 }, new SearchOptions { K = 1 }))[0].Id);
                Interlocked.Increment(ref served);
            }
        });
        var silent = await OpenSilentAsync(serve.Port, 1030);
        try
        {
            // A client arriving after the flood is let in, and the one that was working kept being served throughout.
            await using (var late = await serve.ConnectAsync(new ClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }))
                Assert.Equal(4, (await late.GetInfoAsync("c")).Options.Dimension);
            int before = Volatile.Read(ref served);
            var deadline = Stopwatch.StartNew();
            while (Volatile.Read(ref served) < before + 10 && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
            Assert.True(served >= before + 10, $"the working client stalled at {served} requests");
            await Task.Delay(500);
            int closed = silent.Count(s => s.Socket.Poll(0, SelectMode.SelectRead) && s.Socket.Available == 0);
            output.WriteLine($"1,030 silent sockets: {closed} closed by the server to admit newer ones; the working client completed {served} upsert+search pairs meanwhile");
            Assert.True(closed >= 1030 - 64, $"only {closed} of 1,030 silent sockets were closed; the handshake pool holds 64");
        }
        finally
        {
            await flooding.CancelAsync();
            await work;
            foreach (var (s, _) in silent) s.Dispose();
        }
        await AssertServesAsync(serve);
        Assert.Equal(0, await serve.TerminateAsync());
    }

    [SkippableFact]
    public Task PipelinedLargeFramesStayWithinTheMemoryBudget() => LargeFramesAsync(clients: 3, framesPerClient: 4);

    [SkippableFact]
    [Trait("Category", "Long")]
    public Task PipelinedLargeFramesStayWithinTheMemoryBudgetSoak() => LargeFramesAsync(clients: 4, framesPerClient: 32);

    /// <summary>
    /// Several clients each pipeline 59 MiB upserts (to a collection that does not exist, so the server receives and
    /// decodes every byte and then refuses the request, and nothing is stored): the server's anonymous resident memory
    /// (RssAnon, sampled from /proc every 10 ms while they run) may grow above its idle level by at most the configured
    /// budget. Pages of mapped files (the runtime's and libraries' code touched for the first time) are not what the
    /// budget holds; the high-water mark, which counts them, is used less the most mapped pages seen.
    /// </summary>
    private async Task LargeFramesAsync(int clients, int framesPerClient)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc/PID/status");
        const int BudgetMiB = 256, Rows = 15_000, Dim = 1024;
        long budget = (long)BudgetMiB << 20;
        using var serve = await StartAsync("--memory-budget", $"{BudgetMiB}");
        var connections = new List<VectorStoreClient>();
        for (int i = 0; i < clients; i++) connections.Add(await serve.ConnectAsync());
        foreach (var c in connections) await c.PingAsync();
        await Task.Delay(500);
        long idle = serve.AnonymousResidentBytes();

        var matrix = new VectorMatrix(Rows, Dim);
        var ids = Enumerable.Range(0, Rows).Select(i => (ulong)i).ToArray();
        var started = Stopwatch.StartNew();
        var requests = connections.SelectMany(c => Enumerable.Range(0, framesPerClient).Select(_ => c.UpsertBatchAsync("absent", ids, matrix))).ToArray();
        long peak = idle, mapped = serve.MappedResidentBytes();
        var all = Task.WhenAll(requests);
        while (!all.IsCompleted && started.Elapsed < TimeSpan.FromMinutes(5))
        {
            peak = Math.Max(peak, serve.AnonymousResidentBytes());
            mapped = Math.Max(mapped, serve.MappedResidentBytes());
            await Task.WhenAny(all, Task.Delay(10));
        }
        Assert.True(all.IsCompleted, "the pipelined requests did not finish within 5 minutes");
        // VmHWM counts mapped pages too: less the most of them seen, it bounds the anonymous peak between samples.
        long sampled = peak, hwm = serve.PeakResidentBytes();
        mapped = Math.Max(mapped, serve.MappedResidentBytes());
        peak = Math.Max(peak, hwm - mapped);
        int refused = 0;
        foreach (var r in requests)
        {
            var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => r);
            Assert.Contains("absent", e.Message);
            refused++;
        }
        foreach (var c in connections) await c.DisposeAsync();
        double frameMiB = (Rows * (8.0 + 4.0 * Dim) + 20) / (1 << 20);
        output.WriteLine($"{clients} clients × {framesPerClient} pipelined {frameMiB:F1} MiB frames ({refused} answered) in {started.Elapsed.TotalSeconds:F1} s: " +
            $"anonymous RSS idle {idle >> 20} MiB, peak {peak >> 20} MiB (+{(peak - idle) >> 20} MiB; budget {BudgetMiB} MiB; " +
            $"sampled every 10 ms {sampled >> 20} MiB, VmHWM {hwm >> 20} MiB less mapped {mapped >> 20} MiB)");
        Assert.True(peak - idle <= budget, $"anonymous RSS grew by {(peak - idle) >> 20} MiB, beyond the {BudgetMiB} MiB budget " +
            $"(sampled {sampled >> 20} MiB, VmHWM {hwm >> 20} MiB less mapped {mapped >> 20} MiB, idle {idle >> 20} MiB)");
        await AssertServesAsync(serve);
        Assert.Equal(0, await serve.TerminateAsync());
    }
}
