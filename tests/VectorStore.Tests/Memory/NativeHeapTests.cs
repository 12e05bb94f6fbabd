using System.Buffers.Binary;
using System.Runtime.InteropServices;
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
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/proc/self/pagemap"), "residency is read from /proc/self/pagemap");
        Skip.If(RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal), "musl has no malloc_trim");
        const int Threads = 4, Chunks = 1024, ChunkBytes = 16 << 10; // 64 MiB in chunks below glibc's mmap threshold
        var freed = new nint[Threads][];
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
            freed[t] = chunks[..^1];
            kept[t] = chunks[^1];
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        try
        {
            // The freed chunks' own pages, read directly: the process's total residency moves with whatever other
            // tests allocate meanwhile. A free chunk's first bytes hold the allocator's list links, so the page after.
            var probes = freed.SelectMany(c => c).Select(p => (p + 4096 + 4095) & ~(nint)4095).ToArray();
            double before = ResidentFraction(probes);
            bool trimmed = NativeHeap.Trim();
            double after = ResidentFraction(probes);
            output.WriteLine($"freed chunks' pages resident: {before:P0} before the trim, {after:P0} after (trimmed: {trimmed})");
            Assert.True(before >= 0.9, $"only {before:P0} of the freed pages were resident before the trim");
            Assert.True(trimmed, "malloc_trim released nothing");
            Assert.True(after <= 0.25, $"{after:P0} of the freed pages are still resident after the trim");
        }
        finally
        {
            foreach (var p in kept) Marshal.FreeHGlobal(p);
        }
    }

    /// <summary>The fraction of the system pages at <paramref name="pages"/> that are resident (/proc/self/pagemap, bit 63).</summary>
    private static double ResidentFraction(nint[] pages)
    {
        using var map = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        Span<byte> entry = stackalloc byte[8];
        int resident = 0;
        foreach (var p in pages)
        {
            map.Position = (long)((ulong)p / (ulong)Environment.SystemPageSize * 8);
            map.ReadExactly(entry);
            if ((BinaryPrimitives.ReadUInt64LittleEndian(entry) & (1UL << 63)) != 0) resident++;
        }
        return resident / (double)pages.Length;
    }
}
