using System.Runtime.InteropServices;
using VectorStore.Evaluation;
using VectorStore.Memory;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Memory;

/// <summary><see cref="NativeHeap.Trim"/>: free memory left inside the C heap's arenas leaves the process.</summary>
public sealed class NativeHeapTests(ITestOutputHelper output)
{
    [SkippableFact]
    public unsafe void FreedArenaMemoryLeavesTheProcess()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/proc/self/status"), "anonymous residency is read from /proc/self/status");
        Skip.If(RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal), "musl has no malloc_trim");
        const int Threads = 4, Chunks = 2048, ChunkBytes = 16 << 10; // 128 MiB in chunks below glibc's mmap threshold
        var kept = new nint[Threads];
        // Each thread allocates from its own arena; all but each arena's last chunk are freed, so the free memory sits
        // below a live chunk, where glibc's automatic trimming of the heap top cannot reach it.
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var chunks = new nint[Chunks];
            for (int i = 0; i < Chunks; i++)
            {
                chunks[i] = Marshal.AllocHGlobal(ChunkBytes);
                new Span<byte>((void*)chunks[i], ChunkBytes).Fill(1);
            }
            for (int i = 0; i < Chunks - 1; i++) Marshal.FreeHGlobal(chunks[i]);
            kept[t] = chunks[^1];
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        try
        {
            long before = ProcessMemory.AnonymousRssBytes();
            bool trimmed = NativeHeap.Trim();
            long after = ProcessMemory.AnonymousRssBytes();
            output.WriteLine($"anonymous RSS {before >> 20} MiB before the trim, {after >> 20} MiB after (trimmed: {trimmed})");
            Assert.True(trimmed, "malloc_trim released nothing");
            Assert.True(before - after >= 64L << 20, $"the trim gave back {(before - after) >> 20} MiB of about 128 MiB freed");
        }
        finally
        {
            foreach (var p in kept) Marshal.FreeHGlobal(p);
        }
    }
}
