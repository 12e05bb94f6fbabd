using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VectorStore.Storage;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Storage;

/// <summary>
/// FASTER's page buffer gives its zero pages back while the log is quiet (<c>FasterWriteAheadLog.Memory.cs</c>):
/// residency is read from /proc/self/pagemap, and entries appended around and during the releases come back byte for
/// byte after a reopen.
/// </summary>
public sealed class LogBufferMemoryTests(ITestOutputHelper output)
{
    // The production sizes: two 4 MiB pages, 16 MiB segments.
    private static readonly WalSettings Settings = new();

    [SkippableFact]
    public void AnOpenedLogHoldsOnlyThePagesItsEntriesUse()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "page residency is read from /proc/self/pagemap");
        var dir = TestData.TempDir();
        try
        {
            using var wal = FasterWriteAheadLog.Open(dir, Settings, create: true);
            long buffer = wal.BufferPages().Sum(p => (long)p.Length);
            long empty = ResidentBytes(wal);
            output.WriteLine($"buffer {buffer:N0} B, resident after open {empty:N0} B");
            Assert.True(buffer >= 2L << Settings.PageSizeBits);
            // FASTER cleared both pages when it opened the log; only the partial pages at the arrays' ends may stay.
            Assert.True(empty <= 4 * Environment.SystemPageSize, $"{empty} bytes of an unwritten log's buffer are resident");

            var entries = Entries(100, 10_000, seed: 1); // about 0.5 MB, in the first page
            foreach (var e in entries) wal.Append(e);
            wal.Commit();
            long used = entries.Sum(e => (long)e.Length);
            // Appending faulted in only the pages the entries went to.
            long written = ResidentBytes(wal);
            Assert.InRange(written, used, used + 16 * Environment.SystemPageSize);
            // FASTER clears a page when it reuses it: zeros faulted in, which a release gives back.
            var next = wal.BufferPages().Single(p => ResidentBytes(wal, p) < Environment.SystemPageSize * 4);
            next.AsSpan().Clear();
            long cleared = ResidentBytes(wal);
            long released = wal.ReleaseUnusedBuffer();
            long after = ResidentBytes(wal);
            output.WriteLine($"{used:N0} B appended: resident {written:N0} B; {cleared:N0} B with the next page cleared, {released:N0} B released, then {after:N0} B");
            Assert.True(cleared >= written + (1L << Settings.PageSizeBits) - 2 * Environment.SystemPageSize);
            Assert.InRange(after, used, used + 16 * Environment.SystemPageSize);

            // The log goes on as before: the next entries land after the released pages' zeros.
            var more = Entries(100, 10_000, seed: 2);
            foreach (var e in more) wal.Append(e);
            wal.Commit();
            entries.AddRange(more);
            wal.Dispose();
            AssertEntries(dir, entries);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [SkippableFact]
    public async Task ReleasesRacingAppendsLoseNoEntry()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "pages are released on Linux only");
        var dir = TestData.TempDir();
        try
        {
            // About 20 MB of entries: five page changes, two segment files.
            var entries = Entries(2_000, 20_000, seed: 3);
            long releases = 0, releasedBytes = 0;
            using (var wal = FasterWriteAheadLog.Open(dir, Settings, create: true))
            {
                using var done = new CancellationTokenSource();
                var releaser = Task.Run(() =>
                {
                    while (!done.IsCancellationRequested)
                    {
                        releasedBytes += wal.ReleaseUnusedBuffer();
                        releases++;
                    }
                });
                for (int i = 0; i < entries.Count; i++)
                {
                    wal.Append(entries[i]);
                    if (i % 50 == 49) wal.Commit();
                }
                wal.Commit();
                done.Cancel();
                await releaser;
            }
            output.WriteLine($"{releases:N0} releases during the appends, {releasedBytes:N0} B in all");
            Assert.True(releases >= 2 && releasedBytes > 0);
            AssertEntries(dir, entries);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Entries of 1..<paramref name="maxBytes"/> bytes, none of them zero.</summary>
    private static List<byte[]> Entries(int count, int maxBytes, int seed)
    {
        var random = new Random(seed);
        var entries = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            var e = new byte[random.Next(1, maxBytes + 1)];
            random.NextBytes(e);
            for (int b = 0; b < e.Length; b++) e[b] |= 1;
            entries.Add(e);
        }
        return entries;
    }

    private static void AssertEntries(string dir, List<byte[]> expected)
    {
        using var wal = FasterWriteAheadLog.Open(dir, Settings, create: false);
        var read = wal.Scan(wal.BeginAddress, wal.TailAddress).Select(e => e.Data).ToList();
        Assert.Equal(expected.Count, read.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(read[i]), $"entry {i} differs after reopening");
    }

    /// <summary>Bytes of the log's page buffer (or of one of its pages) resident now, per /proc/self/pagemap (bit 63: present).</summary>
    internal static unsafe long ResidentBytes(FasterWriteAheadLog wal, byte[]? only = null)
    {
        long page = Environment.SystemPageSize, resident = 0;
        using var map = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        Span<byte> entry = stackalloc byte[8];
        foreach (var array in only is null ? wal.BufferPages() : [only])
        {
            long start = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            for (long p = start & ~(page - 1); p < start + array.Length; p += page)
            {
                map.Position = p / page * 8;
                map.ReadExactly(entry);
                if ((BinaryPrimitives.ReadUInt64LittleEndian(entry) & (1UL << 63)) != 0) resident += page;
            }
        }
        return resident;
    }
}
